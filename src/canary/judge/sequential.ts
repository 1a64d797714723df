/**
 * The canary judge: decides abort / promote / continue bucket by bucket, with error probabilities that hold at
 * any stopping time (the judge may be consulted after every bucket, forever, and still keep its bounds).
 *
 * Tolerance. A canary "regresses" when its error rate exceeds stable's by more than BOTH tolerances:
 *   p_canary > p_stable · (1 + rel)   and   p_canary > p_stable + abs,
 * i.e. p_canary > p_stable + max(abs, rel · p_stable). Anything inside is noise we accept.
 *
 * Abort is an intersection–union test of two e-processes, each at level alpha; abort needs both, so the
 * false-abort probability of any within-tolerance canary is ≤ alpha at any stopping time (Ville's inequality):
 *
 *  (R) relative, per bucket, conditional binomial (an mSPRT). Given the bucket's total errors E, canary's share
 *      is Binomial(E, π) with π = wρ / (wρ + 1 − w), w = the canary's share of the bucket's requests and
 *      ρ = p_canary / p_stable (exact for Poisson counts, the usual small-rate approximation for binomial).
 *      Conditioning on each bucket's total cancels anything the two versions share in that bucket — a
 *      downstream outage that fails both stays ρ ≈ 1 — and per-bucket w follows weight changes. The null is
 *      ρ ≤ 1 + rel; the statistic is the product over buckets of the likelihood ratio against that boundary,
 *      mixed over a grid of alternatives ρ1 > 1 + rel. For binomial families (monotone likelihood ratio) each
 *      factor has expectation ≤ 1 anywhere in the null, so the mixture is a test supermartingale. Why mSPRT
 *      rather than a plain SPRT: the size of a regression is unknown; a mixture adapts to it (a 100× failure
 *      aborts after a couple of errors, a 2× one after more) without choosing one alternative up front.
 *  (A) absolute, on cumulative counts: a one-sided mixture SPRT (half-normal mixtures of the effect, the mSPRT
 *      of Johari et al. used for always-valid A/B tests) on p̂_canary − p̂_stable against the boundary
 *      p_canary = p_stable + abs, with the variance evaluated at the maximum-likelihood fit on that boundary
 *      rather than at the raw estimates, so a version with no errors yet does not produce a zero variance.
 *      It rests on the normal approximation of the two binomials (the bench measures its error rate at the
 *      tolerance edge: 0.6% of 3000 streams at alpha = 1%, with a half-error continuity correction). (A) alone is not burst-proof, but abort also needs (R), and under
 *      a shared blip (R) stays quiet. Why not an exact likelihood test here too: universal inference (mixture
 *      over the max null likelihood) is exact but pays ~½·log n per nuisance parameter, and missed most +3 pp
 *      regressions inside 10 minutes in the bench.
 *
 * Promote needs evidence the canary is NOT worse than stable + tolerance, i.e. rejecting the regression
 * region itself. That region is the intersection of {ρ ≥ 1 + rel} and {p_canary ≥ p_stable + abs}, so
 * rejecting either one (each at beta/2) bounds the chance of promoting a real regression by beta. The same two
 * machines run mirrored: (R) with alternatives ρ1 < 1 + rel, (A) against the null p_canary ≥ p_stable + abs.
 *
 * Shared bursts and promotion. A burst that fails both versions alike also hides the canary's own errors, so
 * buckets whose pooled error count is far above the calm baseline (a Poisson tail test on pooled counts only)
 * still count towards abort but never towards promotion, and the judge does not promote on such a bucket.
 *
 * Missing canary data. A bucket without canary requests carries no information for (R) and does not move (A)'s
 * canary side; the judge never decides on such a bucket. After a canary traffic gap longer than maxGapSeconds
 * it also waits another maxGapSeconds of live canary traffic before it may promote, so a canary that stopped
 * serving (crashed, unrouted) can never be promoted on old evidence. Decisions are sticky: once a stream is
 * aborted or promoted, every later observe() returns that decision.
 */
import { InputError } from '../../errors.ts';
import { binomialKernel, boundaryFit, normalCdf, poissonUpperTail, type TwoSample } from './binomial.ts';

export interface Counts {
  requests: number;
  errors: number;
}

export interface Bucket {
  t: number;
  stable: Counts;
  canary: Counts;
}

export interface JudgeDecision {
  decision: 'abort' | 'promote' | 'continue';
  at: number;
  reason: string;
}

export interface JudgeOptions {
  /** Absolute tolerance on the error-rate difference (0.01 = 1 percentage point). */
  toleranceAbsolute: number;
  /** Relative tolerance on the error-rate ratio (0.2 = canary may be 20% worse than stable). */
  toleranceRelative: number;
  /** Bound on aborting a canary that is within tolerance, at any stopping time. */
  alpha: number;
  /** Bound on promoting a canary that is worse than stable + tolerance, at any stopping time. */
  beta: number;
  /** Promotion needs at least this many canary requests... */
  minCanaryRequests: number;
  /** ...and a bucket at t ≥ this many seconds since the canary started. */
  minSeconds: number;
  /** Longer than this without canary requests is a traffic gap (see above). */
  maxGapSeconds: number;
}

export const DEFAULT_JUDGE_OPTIONS: Readonly<JudgeOptions> = {
  toleranceAbsolute: 0.01,
  toleranceRelative: 0.2,
  alpha: 0.01,
  beta: 0.05,
  minCanaryRequests: 100,
  minSeconds: 60,
  maxGapSeconds: 120,
};

/** A mixture component: an alternative (or a spread of alternatives) and its prior weight. */
type Mixture = readonly (readonly [value: number, weight: number])[];
/**
 * Alternatives for the (R) mixtures, as multiples of the boundary ratio 1 + rel, equal weights. (Shifting
 * weight towards modest ratios gained little power for +3 pp in the bench and ate into alpha at the edge.)
 */
const ABORT_GRID: Mixture = [
  [1.25, 1],
  [1.5, 1],
  [2, 1],
  [3, 1],
  [5, 1],
  [10, 1],
  [30, 1],
  [100, 1],
];
const PROMOTE_GRID: Mixture = [
  [0.85, 1],
  [0.7, 1],
  [0.55, 1],
  [0.4, 1],
  [0.25, 1],
];
/**
 * Spreads of (A)'s half-normal mixtures. Abort: differences beyond the tolerance from a few pp to gross
 * failures. Promote: the distance below the boundary can be at most abs + p_stable, so small spreads.
 */
const ABORT_SDS: Mixture = [
  [0.02, 1],
  [0.08, 1],
  [0.3, 1],
];
const PROMOTE_SDS: Mixture = [
  [0.005, 1],
  [0.01, 1],
  [0.02, 1],
];
/** Shared-burst detection (see isTurbulent): baseline size, minimum rate excess, Poisson tail. */
const BURST_BASELINE_REQUESTS = 100;
const BURST_MIN_EXCESS = 0.02;
const BURST_TAIL = 1e-3;

export interface JudgeState {
  buckets: number;
  lastT: number | null;
  stable: Counts;
  canary: Counts;
  /** log e-values: (R) and (A) for abort and for promote. */
  logEvidence: { abortRelative: number; abortAbsolute: number; promoteRelative: number; promoteAbsolute: number };
  /** Totals over calm buckets only (no error burst shared by both versions): promotion evidence uses these. */
  calm: { stable: Counts; canary: Counts };
  lastCanaryT: number;
  trafficSince: number;
  decided: JudgeDecision | null;
}

export interface SequentialJudge {
  observe(b: Bucket): JudgeDecision;
  readonly state: JudgeState;
}

export function createSequentialJudge(opts: Partial<JudgeOptions> = {}): SequentialJudge {
  const o = resolveOptions(opts);
  const rho0 = 1 + o.toleranceRelative;
  const abortRhos = ABORT_GRID.map(([m]) => m * rho0);
  const promoteRhos = PROMOTE_GRID.map(([m]) => m * rho0);
  const abortLlr = new Float64Array(abortRhos.length);
  const promoteLlr = new Float64Array(promoteRhos.length);
  const abortThreshold = Math.log(1 / o.alpha);
  const promoteThreshold = Math.log(2 / o.beta);
  const st: JudgeState = {
    buckets: 0,
    lastT: null,
    stable: { requests: 0, errors: 0 },
    canary: { requests: 0, errors: 0 },
    logEvidence: { abortRelative: 0, abortAbsolute: 0, promoteRelative: 0, promoteAbsolute: 0 },
    calm: { stable: { requests: 0, errors: 0 }, canary: { requests: 0, errors: 0 } },
    lastCanaryT: 0,
    trafficSince: 0,
    decided: null,
  };

  function observe(b: Bucket): JudgeDecision {
    validateBucket(b, st.lastT);
    st.lastT = b.t;
    st.buckets++;
    if (st.decided) return st.decided;

    const turbulent = isTurbulent(b);
    add(st, b);
    if (!turbulent) add(st.calm, b);
    updateRelative(b, turbulent);

    if (b.canary.requests === 0) {
      const quiet = b.t - st.lastCanaryT;
      return { decision: 'continue', at: b.t, reason: `no canary traffic for ${fmtSeconds(quiet)}; not deciding` };
    }
    if (b.t - st.lastCanaryT > o.maxGapSeconds) st.trafficSince = b.t;
    st.lastCanaryT = b.t;

    const ev = st.logEvidence;
    ev.abortRelative = logMix(abortLlr, ABORT_GRID);
    ev.promoteRelative = logMix(promoteLlr, PROMOTE_GRID);
    const sample = twoSample(st);
    ev.abortAbsolute = ev.abortRelative >= abortThreshold ? absoluteLogE(sample, 'abort') : 0;
    if (ev.abortRelative >= abortThreshold && ev.abortAbsolute >= abortThreshold) {
      const e = Math.min(ev.abortRelative, ev.abortAbsolute);
      const reason = `${describe(sample)}: regression beyond tolerance (evidence ${odds(e)} ≥ ${odds(abortThreshold)})`;
      return decide({ decision: 'abort', at: b.t, reason });
    }

    const gate = turbulent ? `an error burst hits both versions; promotion waits for calm` : promotionGate(b.t);
    ev.promoteAbsolute = gate ? 0 : absoluteLogE(twoSample(st.calm), 'promote');
    const promoteE = Math.max(ev.promoteRelative, ev.promoteAbsolute);
    if (!gate && promoteE >= promoteThreshold) {
      const reason = `${describe(sample)}: not worse than stable + tolerance (evidence ${odds(promoteE)} ≥ ${odds(promoteThreshold)})`;
      return decide({ decision: 'promote', at: b.t, reason });
    }
    // Abort needs both; (A) is only computed once (R) has crossed, so report whichever is binding.
    const abortE = ev.abortRelative < abortThreshold ? ev.abortRelative : Math.min(ev.abortRelative, ev.abortAbsolute);
    const evidence = `abort evidence ${odds(abortE)} of ${odds(abortThreshold)}, promote ${odds(promoteE)} of ${odds(promoteThreshold)}`;
    const reason = `${describe(sample)}: no decision yet (${evidence})${gate ? `; ${gate}` : ''}`;
    return { decision: 'continue', at: b.t, reason };
  }

  /**
   * A bucket whose pooled errors (both versions) are far above the calm baseline: a shared burst, or a canary
   * failing hard. Such buckets still count towards abort but never towards promotion, so an outage that masks
   * a canary's own errors (both fail alike) cannot manufacture evidence that the canary is fine. The test uses
   * only the pooled counts and earlier buckets, so the per-bucket conditional split stays untouched.
   */
  function isTurbulent(b: Bucket): boolean {
    const n = b.stable.requests + b.canary.requests;
    const e = b.stable.errors + b.canary.errors;
    const calmN = st.calm.stable.requests + st.calm.canary.requests;
    const calmE = st.calm.stable.errors + st.calm.canary.errors;
    if (n === 0 || calmN < BURST_BASELINE_REQUESTS) return false;
    const usual = (calmE + 0.5) / (calmN + 1);
    return e / n > usual + BURST_MIN_EXCESS && poissonUpperTail(e, n * usual) < BURST_TAIL;
  }

  function updateRelative(b: Bucket, turbulent: boolean): void {
    const total = b.stable.errors + b.canary.errors;
    if (b.canary.requests === 0 || b.stable.requests === 0 || total === 0) return;
    const w = b.canary.requests / (b.canary.requests + b.stable.requests);
    const pi0 = share(w, rho0);
    const base = binomialKernel(b.canary.errors, total, pi0);
    for (let k = 0; k < abortRhos.length; k++) {
      abortLlr[k]! += binomialKernel(b.canary.errors, total, share(w, abortRhos[k]!)) - base;
    }
    for (let k = 0; k < promoteRhos.length && !turbulent; k++) {
      promoteLlr[k]! += binomialKernel(b.canary.errors, total, share(w, promoteRhos[k]!)) - base;
    }
  }

  /**
   * Log e-value of (A): a one-sided normal-mixture SPRT on the rate difference against the boundary
   * p_canary = p_stable + abs, with the variance taken at the best boundary fit (a score-type variance: it
   * does not collapse to 0 when a version has no errors yet). 0 when the data sit on the null side.
   */
  function absoluteLogE(s: TwoSample, side: 'abort' | 'promote'): number {
    if (s.canaryRequests === 0 || s.stableRequests === 0) return 0;
    const d = o.toleranceAbsolute;
    // Continuity correction: half a canary error towards the null. The upper tail of a small Poisson count is
    // heavier than the normal's, so without it a handful of early errors overstates the evidence.
    const cc = side === 'abort' ? -0.5 : 0.5;
    const excess = Math.max(0, s.canaryErrors + cc) / s.canaryRequests - s.stableErrors / s.stableRequests - d;
    if (side === 'abort' ? excess <= 0 : excess >= 0) return 0;
    const ps = boundaryFit(s, d).stableRate;
    const pc = ps + d;
    const v = (pc * (1 - pc)) / s.canaryRequests + (ps * (1 - ps)) / s.stableRequests;
    // Half-normal mixtures over the alternative side only: the two-sided closed form times 2Φ(·).
    const mixture = side === 'abort' ? ABORT_SDS : PROMOTE_SDS;
    const logs = mixture.map(([sd]) => {
      const t2 = sd * sd;
      const half = Math.log(2 * normalCdf((Math.abs(excess) * sd) / Math.sqrt(v * (v + t2))));
      return 0.5 * Math.log(v / (v + t2)) + (t2 * excess * excess) / (2 * v * (v + t2)) + half;
    });
    return Math.max(0, logMix(logs, mixture));
  }

  /** Why promotion must wait, or null when it may happen. */
  function promotionGate(t: number): string | null {
    if (t < o.minSeconds) return `promotion waits until t ≥ ${o.minSeconds} s`;
    if (st.canary.requests < o.minCanaryRequests) {
      return `promotion waits for ${o.minCanaryRequests} canary requests (have ${st.canary.requests})`;
    }
    if (st.trafficSince > 0 && t - st.trafficSince < o.maxGapSeconds) {
      return `canary traffic resumed at t=${st.trafficSince} after a gap; promotion waits ${o.maxGapSeconds} s`;
    }
    return null;
  }

  function decide(d: JudgeDecision): JudgeDecision {
    st.decided = d;
    return d;
  }

  return {
    observe,
    get state() {
      return st;
    },
  };
}

function add(into: { stable: Counts; canary: Counts }, b: Bucket): void {
  into.stable.requests += b.stable.requests;
  into.stable.errors += b.stable.errors;
  into.canary.requests += b.canary.requests;
  into.canary.errors += b.canary.errors;
}

function twoSample(c: { stable: Counts; canary: Counts }): TwoSample {
  return {
    canaryErrors: c.canary.errors,
    canaryRequests: c.canary.requests,
    stableErrors: c.stable.errors,
    stableRequests: c.stable.requests,
  };
}

/** Canary's expected share of a bucket's errors when its rate is ρ times stable's and it serves share w. */
function share(w: number, rho: number): number {
  return (w * rho) / (w * rho + 1 - w);
}

/** log Σ w_k·exp(x_k) / Σ w_k: the log of a weighted mixture of e-values given as logs. */
function logMix(xs: ArrayLike<number>, mixture: Mixture): number {
  let max = -Infinity;
  for (let k = 0; k < xs.length; k++) max = Math.max(max, xs[k]!);
  let sum = 0;
  let total = 0;
  for (let k = 0; k < xs.length; k++) {
    sum += mixture[k]![1] * Math.exp(xs[k]! - max);
    total += mixture[k]![1];
  }
  return max + Math.log(sum / total);
}

function describe(s: TwoSample): string {
  return `canary ${rate(s.canaryErrors, s.canaryRequests)} vs stable ${rate(s.stableErrors, s.stableRequests)}`;
}

function rate(errors: number, requests: number): string {
  const pct = requests ? (100 * errors) / requests : 0;
  return `${pct.toFixed(2)}% (${errors}/${requests})`;
}

/** An e-value (given as its log) for humans: 0.31, 137, 2.4e+5. */
function odds(logE: number): string {
  const e = Math.exp(logE);
  if (e < 10) return String(Number(e.toPrecision(2)));
  return e < 1e4 ? String(Math.round(e)) : e.toExponential(1);
}

function fmtSeconds(s: number): string {
  return `${Math.round(s * 10) / 10} s`;
}

function resolveOptions(opts: Partial<JudgeOptions>): JudgeOptions {
  const o = { ...DEFAULT_JUDGE_OPTIONS, ...opts };
  const inUnit = (name: keyof JudgeOptions, v: number) => {
    if (!(v > 0 && v < 1)) throw new InputError(`judge option ${name} must be between 0 and 1 (got ${v})`);
  };
  inUnit('alpha', o.alpha);
  inUnit('beta', o.beta);
  inUnit('toleranceAbsolute', o.toleranceAbsolute);
  for (const name of ['toleranceRelative', 'minCanaryRequests', 'minSeconds', 'maxGapSeconds'] as const) {
    if (!(Number.isFinite(o[name]) && o[name] >= 0)) {
      throw new InputError(`judge option ${name} must be a non-negative number (got ${o[name]})`);
    }
  }
  return o;
}

/**
 * Why a bucket is unusable, as one line, or null. Counts may be fractional (Prometheus increase() extrapolates)
 * but must be finite, non-negative, and errors ≤ requests; t must be finite, ≥ 0 and strictly increasing.
 */
export function bucketProblem(b: Bucket, prevT: number | null): string | null {
  if (typeof b !== 'object' || b === null) return 'bucket must be an object';
  if (typeof b.t !== 'number' || !Number.isFinite(b.t) || b.t < 0) return `t must be a number ≥ 0 (got ${b.t})`;
  if (prevT !== null && b.t <= prevT) return `t must increase: ${b.t} after ${prevT}`;
  for (const side of ['stable', 'canary'] as const) {
    const c = b[side];
    if (typeof c !== 'object' || c === null) return `${side} must be an object {requests, errors}`;
    for (const k of ['requests', 'errors'] as const) {
      const v = c[k];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        return `${side}.${k} must be a number ≥ 0 (got ${v})`;
      }
    }
    if (c.errors > c.requests) return `${side}.errors (${c.errors}) exceeds ${side}.requests (${c.requests})`;
  }
  return null;
}

function validateBucket(b: Bucket, prevT: number | null): void {
  const problem = bucketProblem(b, prevT);
  if (problem) throw new InputError(problem);
}
