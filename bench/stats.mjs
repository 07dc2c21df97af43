// Summaries of repeated measurements, and the targets checked against them.

/** The p-th percentile (0–100) of the values, by nearest rank; NaN for none. */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export const median = (values) => percentile(values, 50);

/** Median and p99 of a sample, with its size. */
export function summary(values) {
  return { n: values.length, median: median(values), p99: percentile(values, 99) };
}

export function round(value, digits = 2) {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** A figure against its target, one of `{ atMost }`, `{ below }` or `{ atLeast }`; a figure not measured misses. */
export function check(value, { atMost, below, atLeast }) {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'miss';
  const met = atMost !== undefined ? value <= atMost : below !== undefined ? value < below : value >= atLeast;
  return met ? 'pass' : 'miss';
}
