/** Summaries of timings. */

/** Latency percentiles in milliseconds. */
export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
}

/** The q-quantile (0..1) of samples by the nearest-rank method. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) throw new Error('no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}

/** The median and the 99th percentile of samples. */
export function percentiles(samples: readonly number[]): Percentiles {
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99) };
}

/** Runs `task` and returns how long it took, in milliseconds. */
export async function timed(task: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await task();
  return performance.now() - start;
}
