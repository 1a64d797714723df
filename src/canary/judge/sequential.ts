/**
 * The canary judge: decides abort / promote / continue bucket by bucket, with error probabilities that hold at
 * any stopping time (the judge may be consulted after every bucket, forever, and still keep its bounds).
 *
 * Tolerance. A canary "regresses" when its error rate exceeds stable's by more than BOTH tolerances:
 *   p_canary > p_stable · (1 + rel)   and   p_canary > p_stable + abs,
 * i.e. p_canary > p_stable + max(abs, rel · p_stable). Anything inside is noise we accept.
 *
 * Each tolerance is a line in the (p_stable, p_canary) plane: relative (slope 1 + rel, offset 0) and absolute
 * (slope 1, offset abs). For each line the judge runs e-processes (evalue.ts) that are exact for binomial
 * counts at any sample size: no normal approximation, no assumption about stable's rate, so they keep their
 * bounds at 0.2 canary requests/s as well as at 200.
 *
 *  - Buckets are grouped into blocks; a block closes once each version has served BLOCK_MIN_REQUESTS requests
 *    (request counts only, never errors, so block boundaries are fixed before the errors are seen). Each block
 *    contributes one exact likelihood-ratio factor per alternative (evalue.ts derives why its expectation is
 *    ≤ 1 everywhere on the null side of the line). Why blocks of 5 rather than single buckets: at a fraction of
 *    a request per bucket the canary/stable split of one bucket is mostly Poisson noise, and the factor's
 *    boundary point moves with that split; pooling a few requests per side keeps most of the evidence (the
 *    bench: 98.6% → 99.2% of 0.2 req/s gross regressions aborted within 10 minutes).
 *  - Alternatives: the canary rate at a multiple m of the line, θ_c = m · (slope · θ_s + offset), where θ_s is
 *    stable's rate estimated from EARLIER blocks only (with a weak 1% prior), so each factor's alternative is
 *    fixed before its block is seen. A fixed-weight mixture over m (ABORT_GRID, PROMOTE_GRID) adapts to the
 *    size of the change without choosing one up front: a 100× failure aborts after a few errors, +30% needs
 *    more. The product over blocks is a test supermartingale for every m, and so is the mixture.
 *  - For the relative line the factor equals the conditional binomial test (canary errors given a block's
 *    total errors): anything both versions share in a block, such as a downstream outage, cancels.
 *
 * Abort is an intersection–union test: it needs both lines' abort e-processes ≥ 1/alpha. A canary within
 * tolerance lies on the null side of at least one line, whose e-process crosses 1/alpha with probability ≤ alpha
 * (Ville's inequality), so false aborts stay ≤ alpha at any stopping time.
 *
 * Promote needs evidence the canary is NOT worse than stable + tolerance, i.e. rejecting the regression
 * region itself: the intersection of the two far sides. Either line's promote e-process is an e-process for
 * that region, so their average is too; promotion needs the average ≥ 1/beta. A canary past tolerance is
 * therefore promoted with probability ≤ beta, at any stopping time.
 *
 * Shared bursts and promotion. A burst that fails both versions alike also hides the canary's own errors, so
 * the bucket after one whose pooled error count is far above the calm baseline (a Poisson tail test on pooled
 * counts only) counts towards abort but never towards promotion, and the judge does not promote on such a
 * bucket. Deciding from the previous bucket keeps the promotion e-processes exact.
 *
 * Missing canary data. A bucket without canary requests carries no information about the canary; the judge
 * never decides on such a bucket. After a canary traffic gap longer than maxGapSeconds it also waits another
 * maxGapSeconds of live canary traffic before it may promote, so a canary that stopped serving (crashed,
 * unrouted) can never be promoted on old evidence. Decisions are sticky: once a stream is aborted or promoted,
 * every later observe() returns that decision.
 */
import { InputError } from '../../errors.ts';
import { poissonUpperTail, type TwoSample } from './binomial.ts';
import { type Block, blockLogE, type Line } from './evalue.ts';

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
 * Alternatives, as multiples of the canary rate on the boundary line (θ_c = m · (slope · θ_s + offset)),
 * equal weights. Abort: from just past the line to a canary failing 100 times more; promote: from just
 * inside the line to a canary far better than it.
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
  [0.1, 1],
];
/** A block closes once each version has served this many requests (see the module comment). */
const BLOCK_MIN_REQUESTS = 5;
/** Shared-burst detection (see isTurbulent): baseline size, minimum rate excess, Poisson tail. */
const BURST_BASELINE_REQUESTS = 100;
const BURST_MIN_EXCESS = 0.02;
const BURST_TAIL = 1e-3;

export interface JudgeState {
  buckets: number;
  lastT: number | null;
  stable: Counts;
  canary: Counts;
  /** log e-values: relative (R) and absolute (A) tolerance tests, for abort and for promote. */
  logEvidence: { abortRelative: number; abortAbsolute: number; promoteRelative: number; promoteAbsolute: number };
  /** Totals over the buckets that count towards promotion (the bucket before them was calm). */
  calm: { stable: Counts; canary: Counts };
  lastCanaryT: number;
  trafficSince: number;
  decided: JudgeDecision | null;
}

export interface SequentialJudge {
  observe(b: Bucket): JudgeDecision;
  readonly state: JudgeState;
}

/**
 * One mixture e-process against a null half-plane: blocks of buckets, each scored exactly (evalue.ts) for
 * every alternative of the grid; the stable rate the alternatives are built on comes from earlier blocks.
 */
interface Track {
  line: Line;
  grid: Mixture;
  logE: Float64Array;
  /** Stable counts of the closed blocks, for the plug-in stable rate of the next block's alternatives. */
  past: Counts;
}

function track(line: Line, grid: Mixture): Track {
  return { line, grid, logE: new Float64Array(grid.length), past: { requests: 0, errors: 0 } };
}

/**
 * Prior for the plug-in stable rate: half an error in 50 requests (1%), so the first blocks bet on a typical
 * service rather than on a coin flip; the data outweigh it after a few dozen stable requests.
 */
const PRIOR_ERRORS = 0.5;
const PRIOR_REQUESTS = 50;

function scoreBlock(tr: Track, block: Block): void {
  const stable = (tr.past.errors + PRIOR_ERRORS) / (tr.past.requests + PRIOR_REQUESTS);
  const onLine = tr.line.slope * stable + tr.line.offset;
  for (let k = 0; k < tr.grid.length; k++) {
    const canary = Math.min(1, tr.grid[k]![0] * onLine);
    tr.logE[k]! += blockLogE(block, { stable, canary }, tr.line);
  }
  tr.past.requests += block.stableRequests;
  tr.past.errors += block.stableErrors;
}

function emptyBlock(): Block {
  return { stableRequests: 0, stableErrors: 0, canaryRequests: 0, canaryErrors: 0 };
}

function addToBlock(block: Block, b: Bucket): void {
  block.stableRequests += b.stable.requests;
  block.stableErrors += b.stable.errors;
  block.canaryRequests += b.canary.requests;
  block.canaryErrors += b.canary.errors;
}

const blockFull = (block: Block) =>
  block.stableRequests >= BLOCK_MIN_REQUESTS && block.canaryRequests >= BLOCK_MIN_REQUESTS;

export function createSequentialJudge(opts: Partial<JudgeOptions> = {}): SequentialJudge {
  const o = resolveOptions(opts);
  const relative: Line = { slope: 1 + o.toleranceRelative, offset: 0 };
  const absolute: Line = { slope: 1, offset: o.toleranceAbsolute };
  const abortR = track(relative, ABORT_GRID);
  const abortA = track(absolute, ABORT_GRID);
  const promoteR = track(relative, PROMOTE_GRID);
  const promoteA = track(absolute, PROMOTE_GRID);
  let abortBlock = emptyBlock();
  let promoteBlock = emptyBlock();
  /** Whether the previous bucket was calm: decides, before a bucket is seen, if it may count for promotion. */
  let previousCalm = true;
  const abortThreshold = Math.log(1 / o.alpha);
  const promoteThreshold = Math.log(1 / o.beta);
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
    const countsForPromotion = previousCalm;
    previousCalm = !turbulent;
    add(st, b);
    addToBlock(abortBlock, b);
    if (blockFull(abortBlock)) {
      scoreBlock(abortR, abortBlock);
      scoreBlock(abortA, abortBlock);
      abortBlock = emptyBlock();
    }
    if (countsForPromotion) {
      add(st.calm, b);
      addToBlock(promoteBlock, b);
      if (blockFull(promoteBlock)) {
        scoreBlock(promoteR, promoteBlock);
        scoreBlock(promoteA, promoteBlock);
        promoteBlock = emptyBlock();
      }
    }

    if (b.canary.requests === 0) {
      const quiet = b.t - st.lastCanaryT;
      return { decision: 'continue', at: b.t, reason: `no canary traffic for ${fmtSeconds(quiet)}; not deciding` };
    }
    if (b.t - st.lastCanaryT > o.maxGapSeconds) st.trafficSince = b.t;
    st.lastCanaryT = b.t;

    const ev = st.logEvidence;
    ev.abortRelative = logMix(abortR.logE, abortR.grid);
    ev.abortAbsolute = logMix(abortA.logE, abortA.grid);
    ev.promoteRelative = logMix(promoteR.logE, promoteR.grid);
    ev.promoteAbsolute = logMix(promoteA.logE, promoteA.grid);
    const sample = twoSample(st);
    const abortE = Math.min(ev.abortRelative, ev.abortAbsolute);
    if (abortE >= abortThreshold) {
      const reason = `${describe(sample)}: regression beyond tolerance (evidence ${odds(abortE)} ≥ ${odds(abortThreshold)})`;
      return decide({ decision: 'abort', at: b.t, reason });
    }

    const gate = turbulent ? `an error burst hits both versions; promotion waits for calm` : promotionGate(b.t);
    // Either test rejecting "the canary regresses" suffices; their average is an e-value for that.
    const promoteE = logMix([ev.promoteRelative, ev.promoteAbsolute], HALVES);
    if (!gate && promoteE >= promoteThreshold) {
      const reason = `${describe(sample)}: not worse than stable + tolerance (evidence ${odds(promoteE)} ≥ ${odds(promoteThreshold)})`;
      return decide({ decision: 'promote', at: b.t, reason });
    }
    const evidence = `abort evidence ${odds(abortE)} of ${odds(abortThreshold)}, promote ${odds(promoteE)} of ${odds(promoteThreshold)}`;
    const reason = `${describe(sample)}: no decision yet (${evidence})${gate ? `; ${gate}` : ''}`;
    return { decision: 'continue', at: b.t, reason };
  }

  /**
   * A bucket whose pooled errors (both versions) are far above the calm baseline: a shared burst, or a canary
   * failing hard. The bucket after it does not count towards promotion (nor does any bucket while the burst
   * lasts), so an outage that masks a canary's own errors (both fail alike) cannot manufacture evidence that
   * the canary is fine. Deciding from the previous bucket keeps the promotion e-values exact: which buckets
   * count is fixed before their errors are seen.
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

const HALVES: Mixture = [
  [0, 1],
  [0, 1],
];

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
