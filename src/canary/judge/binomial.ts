/**
 * Small numeric helpers for the judge's likelihoods: log-gamma, log-beta, x·log(y) with 0·log 0 = 0, and the
 * constrained maximum likelihood of two binomials on the boundary p_canary = p_stable + d.
 */

// Lanczos approximation (g = 7, n = 9): ~15 significant digits for x > 0, plenty for likelihood ratios.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** x·log(y), taking 0·log(anything) as 0 so empty cells never produce NaN. */
export function xlogy(x: number, y: number): number {
  return x === 0 ? 0 : x * Math.log(y);
}

/** Log-likelihood kernel of `k` successes in `n` trials at probability `p` (binomial coefficient omitted). */
export function binomialKernel(k: number, n: number, p: number): number {
  return xlogy(k, p) + xlogy(n - k, 1 - p);
}

/**
 * Log marginal likelihood of `k` in `n` under p ~ Beta(a, b), without the binomial coefficient (it cancels
 * against the same kernel in the denominator of every ratio the judge forms).
 */
export function betaBinomialKernel(k: number, n: number, a: number, b: number): number {
  return logBeta(a + k, b + n - k) - logBeta(a, b);
}

export interface TwoSample {
  canaryErrors: number;
  canaryRequests: number;
  stableErrors: number;
  stableRequests: number;
}

/**
 * max over p of  kernel(canary; p + d) + kernel(stable; p),  p in [0, 1 - d]: the largest joint likelihood
 * on the boundary p_canary = p_stable + d. The objective is concave, so bisection on its derivative finds it.
 */
export function boundaryMaxLogLik(s: TwoSample, d: number): number {
  const cs = s.canaryErrors;
  const cf = s.canaryRequests - s.canaryErrors;
  const ss = s.stableErrors;
  const sf = s.stableRequests - s.stableErrors;
  const f = (p: number) => binomialKernel(cs, cs + cf, Math.min(1, p + d)) + binomialKernel(ss, ss + sf, p);
  const slope = (p: number) => cs / (p + d) - cf / (1 - p - d) + ss / p - sf / (1 - p);
  const eps = 1e-12;
  let lo = eps;
  let hi = 1 - d - eps;
  if (hi <= lo) return f(Math.max(0, 1 - d));
  if (slope(lo) <= 0) return Math.max(f(0), f(lo));
  if (slope(hi) >= 0) return Math.max(f(1 - d), f(hi));
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (slope(mid) > 0) lo = mid;
    else hi = mid;
  }
  return f((lo + hi) / 2);
}
