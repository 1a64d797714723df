/**
 * Small numeric helpers for the judge: x·log(y) with 0·log 0 = 0, the binomial kernel, the constrained
 * maximum-likelihood fit of two binomials on the boundary p_canary = p_stable + d, Poisson and normal tails.
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

/** P(X ≥ k) for X ~ Poisson(lambda). Exact summation for small means, normal approximation above 50. */
export function poissonUpperTail(k: number, lambda: number): number {
  if (k <= 0) return 1;
  if (lambda <= 0) return 0;
  if (lambda > 50) {
    return 1 - normalCdf((k - 0.5 - lambda) / Math.sqrt(lambda));
  }
  let pmf = Math.exp(-lambda);
  let cdf = pmf;
  for (let i = 1; i < k; i++) {
    pmf *= lambda / i;
    cdf += pmf;
    if (pmf < 1e-300) break;
  }
  return Math.max(0, 1 - cdf);
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const k = 1 / (1 + 0.3275911 * z);
  const poly = k * (0.254829592 + k * (-0.284496736 + k * (1.421413741 + k * (-1.453152027 + k * 1.061405429))));
  const erf = 1 - poly * Math.exp(-z * z);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
