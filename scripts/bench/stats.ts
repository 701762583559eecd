// Small statistics and formatting helpers shared by the sections of `npm run bench`.

/** The median of `values` (the upper one of the middle two for an even count); NaN when empty. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** The nearest-rank `p`th percentile of `values` (0 < p ≤ 100); NaN when empty. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** A number with thousands separators and at most `digits` decimals. */
export const fmt = (value: number, digits = 0): string => value.toLocaleString("en-US", { maximumFractionDigits: digits });

/** Milliseconds since an arbitrary origin, from the monotonic clock. */
export function nowMs(): number {
  return performance.now();
}
