/**
 * Confidence intervals for a rate measured on n trials. "No false flag among 100" says the rate is
 * below ~3.7 % at 95 %, not that it is 0: the report gives every false-repost rate with its interval.
 */

export interface Interval {
  readonly low: number;
  readonly high: number;
}

/** z for a two-sided 95 % interval. */
export const Z95 = 1.959963984540054;

/**
 * Wilson score interval for k successes in n trials (Wilson 1927; Newcombe 1998, method 3): good
 * coverage even at k = 0 or small n, where the normal approximation collapses to [0, 0].
 */
export function wilson(k: number, n: number, z = Z95): Interval {
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 0 || n <= 0 || k > n)
    throw new Error(`wilson(${k}, ${n}): need integers 0 ≤ k ≤ n, n > 0`);
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At k = 0 and k = n the bounds are exactly 0 and 1; the formula leaves rounding dust there.
  return { low: k === 0 ? 0 : Math.max(0, centre - half), high: k === n ? 1 : Math.min(1, centre + half) };
}
