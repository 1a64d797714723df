/**
 * Deterministic synthetic canary streams for the judge bench and its statistical tests: Poisson request
 * arrivals split into errors and successes (Poisson splitting, so each count is exact and independent),
 * 5-second buckets, parameters drawn from the ranges in issue 5, and low-traffic cases from issue 12.
 */
import type { Bucket } from '../src/canary/judge/index.ts';

export type CaseName =
  | 'healthy'
  | 'gross'
  | 'mild'
  | 'within'
  | 'edge'
  | 'burst'
  | 'gap'
  | 'low-gross'
  | 'low-healthy'
  | 'low-edge'
  | 'sparse-gross'
  | 'sparse-healthy';

export interface StreamSpec {
  case: CaseName;
  seed: number;
  totalRps: number;
  weight: number;
  stableRate: number;
  canaryRate: number;
  bucketSeconds: number;
  durationSeconds: number;
  burst?: { from: number; to: number; rate: number };
  gap?: { from: number; to: number };
}

/** mulberry32: tiny, fast, good enough for simulation; same seed → same suite on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function poisson(rand: () => number, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 60) {
    // Normal approximation is ample at this size; Box–Muller.
    const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * z));
  }
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = rand();
  while (p > limit) {
    k++;
    p *= rand();
  }
  return k;
}

const logUniform = (rand: () => number, lo: number, hi: number) => lo * Math.exp(rand() * Math.log(hi / lo));
const uniform = (rand: () => number, lo: number, hi: number) => lo + rand() * (hi - lo);

export interface Tolerance {
  absolute: number;
  relative: number;
}

/**
 * Draws one stream's parameters for a case. Traffic and stable error rate are log-uniform (small values matter).
 *
 * The `low-*` cases are issue 12's: the canary gets 0.2 requests/s (the total follows from the weight) and
 * stable fails 0.2–2% of requests; `low-gross` canaries fail 20%. The `sparse-*` cases spread canary traffic
 * log-uniformly over 0.005–0.2 requests/s, so a 30-minute run holds anywhere from about 1 to 400 expected
 * canary errors for a gross regression.
 */
export function drawSpec(kind: CaseName, seed: number, tol: Tolerance, durationSeconds = 1800): StreamSpec {
  const rand = prng(seed);
  const low = kind.startsWith('low-');
  const sparse = kind.startsWith('sparse-');
  let totalRps = logUniform(rand, 1, 40);
  const weight = uniform(rand, 0.05, 0.5);
  const stableRate = low ? logUniform(rand, 0.002, 0.02) : logUniform(rand, 0.002, 0.05);
  if (low) totalRps = 0.2 / weight;
  if (sparse) totalRps = logUniform(rand, 0.005, 0.2) / weight;
  const margin = Math.max(tol.absolute, tol.relative * stableRate);
  const spec: StreamSpec = {
    case: kind,
    seed,
    totalRps,
    weight,
    stableRate,
    canaryRate: stableRate,
    bucketSeconds: 5,
    durationSeconds,
  };
  if (kind === 'gross' || kind === 'sparse-gross') {
    // At least 10× and at least +15 pp, up to twice that floor.
    spec.canaryRate = Math.min(1, Math.max(10 * stableRate, stableRate + 0.15) * uniform(rand, 1, 2));
  } else if (kind === 'low-gross') {
    spec.canaryRate = 0.2;
  } else if (kind === 'mild') {
    spec.canaryRate = stableRate + 0.03;
  } else if (kind === 'within') {
    spec.canaryRate = stableRate + rand() * margin;
  } else if (kind === 'edge' || kind === 'low-edge') {
    // Exactly at the tolerance boundary: the hardest case for both error bounds.
    spec.canaryRate = stableRate + margin;
  } else if (kind === 'burst') {
    const from = uniform(rand, 30, 600);
    spec.burst = { from, to: from + uniform(rand, 60, 180), rate: uniform(rand, 0.2, 0.8) };
  } else if (kind === 'gap') {
    const from = uniform(rand, 20, 90);
    spec.gap = { from, to: from + uniform(rand, 600, 1200) };
  }
  return spec;
}

/** Expected canary requests and errors over the whole run. */
export function expectedCanary(spec: StreamSpec): { requests: number; errors: number } {
  const requests = spec.totalRps * spec.weight * spec.durationSeconds;
  return { requests, errors: requests * spec.canaryRate };
}

/** The buckets of one stream, generated lazily (t = end of the bucket, seconds since the canary started). */
export function* generate(spec: StreamSpec): Generator<Bucket> {
  const rand = prng(spec.seed ^ 0x9e3779b9);
  for (let t = spec.bucketSeconds; t <= spec.durationSeconds; t += spec.bucketSeconds) {
    const inGap = spec.gap !== undefined && t > spec.gap.from && t - spec.bucketSeconds < spec.gap.to;
    const w = inGap ? 0 : spec.weight;
    const burst = spec.burst && t > spec.burst.from && t - spec.bucketSeconds < spec.burst.to ? spec.burst.rate : 0;
    const withBurst = (p: number) => 1 - (1 - p) * (1 - burst);
    const side = (share: number, rate: number) => {
      const lambda = spec.totalRps * share * spec.bucketSeconds;
      const p = withBurst(rate);
      const errors = poisson(rand, lambda * p);
      return { requests: errors + poisson(rand, lambda * (1 - p)), errors };
    };
    yield { t, stable: side(1 - w, spec.stableRate), canary: side(w, spec.canaryRate) };
  }
}
