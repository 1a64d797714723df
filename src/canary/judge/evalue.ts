/**
 * Exact e-values for comparing the canary's error rate with stable's on one block of requests, against a
 * null half-plane whose boundary is the line  p_canary = slope · p_stable + offset.
 *
 * The judge's two tolerances are two such lines: relative (slope 1 + rel, offset 0) and absolute (slope 1,
 * offset abs). For an alternative (θ_s, θ_c) the e-value is the Poisson likelihood ratio of the block's error
 * counts against the one point q of the boundary that makes the ratio an e-value for the WHOLE half-plane
 * (the reverse information projection). Why it is exact, for binomial counts and any block size:
 *
 *   For K ~ Binomial(n, p),  E[x^K] = (1 − p + p·x)^n ≤ exp(n·p·(x − 1))   (because 1 + y ≤ e^y).
 *   The likelihood ratio is  LR = (θ_c/q_c)^K_c · (θ_s/q_s)^K_s · exp(−n_c(θ_c − q_c) − n_s(θ_s − q_s)), so
 *   log E[LR] ≤ a·(p_c − q_c) + b·(p_s − q_s)  with  a = n_c(θ_c/q_c − 1),  b = n_s(θ_s/q_s − 1).
 *   Choosing q on the boundary with  b = −slope·a  makes this  a·(p_c − slope·p_s − offset): ≤ 0 on the null
 *   side of the line, whatever p_s is. (a > 0 when testing "canary at most on the line", a < 0 for "at least".)
 *
 * So E[LR] ≤ 1 for every pair of rates in the null, given the block's request counts, with no normal
 * approximation and nothing assumed about p_s: rates may change from one block to the next, as long as each
 * block's pair stays on the null side (a shared outage keeps a canary within tolerance on that side). The
 * product over blocks of such ratios, with alternatives chosen from earlier blocks only, is a test
 * supermartingale, and so is any fixed-weight mixture of them (Ville's inequality then bounds the chance of
 * ever crossing 1/α by α).
 */
import { xlogy } from './binomial.ts';

/** The boundary line p_canary = slope · p_stable + offset. */
export interface Line {
  slope: number;
  offset: number;
}

/** Requests and errors of one block, per version. */
export interface Block {
  stableRequests: number;
  stableErrors: number;
  canaryRequests: number;
  canaryErrors: number;
}

/** An alternative: the error rates the e-value bets on. */
export interface Rates {
  stable: number;
  canary: number;
}

/**
 * Stable's rate q_s at the boundary point that makes the likelihood ratio for `alt` valid for the whole
 * half-plane: the positive root of  slope·n_c·θ_c / (slope·q + offset) + n_s·θ_s / q = slope·n_c + n_s.
 * The left side falls from +∞ to 0 as q grows, so the root exists and is unique when n_s·θ_s > 0.
 */
export function boundaryStableRate(block: Block, alt: Rates, line: Line): number {
  const { slope: m, offset: g } = line;
  const nc = block.canaryRequests;
  const ns = block.stableRequests;
  // (m·n_c + n_s)·m·q² + ((m·n_c + n_s)·g − m·(n_c·θ_c + n_s·θ_s))·q − n_s·θ_s·g = 0
  const a = (m * nc + ns) * m;
  const b = (m * nc + ns) * g - m * (nc * alt.canary + ns * alt.stable);
  const c = -ns * alt.stable * g;
  if (c === 0) return Math.max(0, -b / a);
  const root = Math.sqrt(b * b - 4 * a * c);
  // The cancellation-free form of the positive root for either sign of b.
  return b > 0 ? (-2 * c) / (b + root) : (-b + root) / (2 * a);
}

/**
 * log of the block's e-value for the alternative `alt` against the half-plane on the far side of `line`
 * (below it when alt.canary lies above the line, above it otherwise). 0 when a version served no requests in
 * the block: without stable requests the block says nothing about the canary relative to stable.
 */
export function blockLogE(block: Block, alt: Rates, line: Line): number {
  if (block.canaryRequests === 0 || block.stableRequests === 0 || alt.stable <= 0) return 0;
  const qs = boundaryStableRate(block, alt, line);
  const qc = line.slope * qs + line.offset;
  return (
    xlogy(block.canaryErrors, alt.canary / qc) +
    xlogy(block.stableErrors, alt.stable / qs) -
    block.canaryRequests * (alt.canary - qc) -
    block.stableRequests * (alt.stable - qs)
  );
}
