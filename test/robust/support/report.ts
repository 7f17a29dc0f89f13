// The figures each robustness check prints: counts with thousands separators, latency
// percentiles, and one short line per check on stdout.

/** `n` with thousands separators: 12,345. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** Milliseconds as a short figure: 0.8 ms, 23 ms, 1.2 s. */
export function ms(value: number): string {
  if (value >= 1000) return `${(value / 1000).toFixed(1)} s`;
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}

export interface Latency {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** p50, p99 and max of a set of durations (nearest-rank percentiles). */
export function latency(durationsMs: number[]): Latency {
  const sorted = [...durationsMs].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
  return { count: sorted.length, p50: rank(50), p99: rank(99), max: sorted[sorted.length - 1] ?? 0 };
}

export function describeLatency({ p50, p99, max }: Latency): string {
  return `p50 ${ms(p50)}, p99 ${ms(p99)}, max ${ms(max)}`;
}

/** Prints one figure line under the running test, e.g. `concurrency: 12,345 requests …`. */
export function report(line: string): void {
  process.stdout.write(`      ${line}\n`);
}
