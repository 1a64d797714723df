/**
 * Small numeric helpers for the judge's likelihoods: x·log(y) with 0·log 0 = 0, the binomial kernel, and the
 * constrained maximum-likelihood fit of two binomials on the boundary p_canary = p_stable + d.
 */

/** x·log(y), taking 0·log(anything) as 0 so empty cells never produce NaN. */
export function xlogy(x: number, y: number): number {
  return x === 0 ? 0 : x * Math.log(y);
}

/** Log-likelihood kernel of `k` successes in `n` trials at probability `p` (binomial coefficient omitted). */
export function binomialKernel(k: number, n: number, p: number): number {
  return xlogy(k, p) + xlogy(n - k, 1 - p);
}

export interface TwoSample {
  canaryErrors: number;
  canaryRequests: number;
  stableErrors: number;
  stableRequests: number;
}

/**
 * argmax over p of  kernel(canary; p + d) + kernel(stable; p),  p in [0, 1 - d]: the best joint fit on the
 * boundary p_canary = p_stable + d. The objective is concave, so bisection on its derivative finds it.
 */
export function boundaryFit(s: TwoSample, d: number): { stableRate: number; logLik: number } {
  const cs = s.canaryErrors;
  const cf = s.canaryRequests - s.canaryErrors;
  const ss = s.stableErrors;
  const sf = s.stableRequests - s.stableErrors;
  const f = (p: number) => binomialKernel(cs, cs + cf, Math.min(1, p + d)) + binomialKernel(ss, ss + sf, p);
  const slope = (p: number) => cs / (p + d) - cf / (1 - p - d) + ss / p - sf / (1 - p);
  const at = (p: number) => ({ stableRate: p, logLik: f(p) });
  const eps = 1e-12;
  let lo = eps;
  let hi = 1 - d - eps;
  if (hi <= lo) return at(Math.max(0, 1 - d));
  if (slope(lo) <= 0) return ss === 0 ? at(0) : at(lo);
  if (slope(hi) >= 0) return cf === 0 && sf === 0 ? at(1 - d) : at(hi);
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (slope(mid) > 0) lo = mid;
    else hi = mid;
  }
  return at((lo + hi) / 2);
}
