/** Small numeric helpers for the judge: x·log(y) with 0·log 0 = 0, the two-sample counts, Poisson and normal tails. */

/** x·log(y), taking 0·log(anything) as 0 so empty cells never produce NaN. */
export function xlogy(x: number, y: number): number {
  return x === 0 ? 0 : x * Math.log(y);
}

export interface TwoSample {
  canaryErrors: number;
  canaryRequests: number;
  stableErrors: number;
  stableRequests: number;
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
