/**
 * The command line of the benchmark and the workload each mode runs. A full
 * run is what BENCHMARKS.md reports; `--quick` runs the same steps with tiny
 * numbers, to show that the harness works (the package's test), not to time.
 */
import { UsageError } from '@router-service/bench-firewall/options';

export { UsageError };

/** How much work each measurement does. */
export interface Workload {
  /**
   * Names in place while updates are timed, ascending. The largest is also
   * in place while queries per second are counted and while names are added
   * under continuous queries.
   */
  readonly sizes: readonly number[];
  /** Timed updates of the daemon: at each size, and again under continuous queries. */
  readonly updates: number;
  /** Timed updates of the original approach (each takes over a second), likewise. */
  readonly baselineUpdates: number;
  /** Names that exist throughout, asked in turn by the client while names are added (fewer when fewer are in place). */
  readonly steadyNames: number;
  /** Queries that client sends per second, whether or not earlier ones were answered. */
  readonly steadyQueriesPerSecond: number;
  /** How long that client keeps asking after the last change, so that a last outage ends in an answer. */
  readonly steadySettleMs: number;
  /** How long a query may wait for its answer before it counts as unanswered. */
  readonly queryTimeoutMs: number;
  /** Queries in flight at once while counting queries per second. */
  readonly floodParallel: number;
  /** Untimed querying before the rounds. */
  readonly floodWarmupMs: number;
  /** Length of one timed round. */
  readonly floodRoundMs: number;
  /** Timed rounds; the best counts. */
  readonly floodRounds: number;
}

export interface BenchOptions {
  /** The dnsmasq both approaches run. */
  readonly dnsmasq: string;
  readonly quick: boolean;
  readonly workload: Workload;
}

/** The most names or updates a size or count takes (names.ts has room for three times this). */
export const MAX_COUNT = 10_000;

const FULL: Workload = {
  sizes: [10, 100, 1_000],
  updates: 1_000,
  baselineUpdates: 100,
  steadyNames: 20,
  steadyQueriesPerSecond: 1_000,
  steadySettleMs: 1_000,
  queryTimeoutMs: 2_000,
  floodParallel: 32,
  floodWarmupMs: 1_000,
  floodRoundMs: 5_000,
  floodRounds: 3,
};

const QUICK: Workload = {
  sizes: [3, 6],
  updates: 4,
  baselineUpdates: 2,
  steadyNames: 3,
  steadyQueriesPerSecond: 100,
  steadySettleMs: 200,
  queryTimeoutMs: 2_000,
  floodParallel: 4,
  floodWarmupMs: 100,
  floodRoundMs: 300,
  floodRounds: 1,
};

export const USAGE = `Usage: bench-dns [--sizes 10,100,1000] [--updates N] [--baseline-updates N] [--dnsmasq PATH] [--quick]

  --sizes N,N,...       names in place while updates are timed; the largest also for queries per second (default ${FULL.sizes.join(',')})
  --updates N           ConfigureDNS calls timed at each size and under continuous queries (default ${FULL.updates})
  --baseline-updates N  rewrite-and-restart updates of the original approach, likewise (default ${FULL.baselineUpdates}; each takes over a second)
  --dnsmasq PATH        the dnsmasq both approaches run (default /usr/sbin/dnsmasq)
  --quick               tiny numbers: checks that the harness works, its numbers mean nothing
`;

/** Reads the arguments (without node and the script). Throws UsageError. */
export function parseOptions(args: readonly string[]): BenchOptions {
  let dnsmasq = '/usr/sbin/dnsmasq';
  let quick = false;
  const given: { sizes?: number[]; updates?: number; baselineUpdates?: number } = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = (): string => {
      const next = args[++i];
      if (next === undefined) throw new UsageError(`${arg} needs a value`);
      return next;
    };
    switch (arg) {
      case '--quick':
        quick = true;
        break;
      case '--sizes':
        given.sizes = parseSizes(value());
        break;
      case '--updates':
        given.updates = parseCount(arg, value());
        break;
      case '--baseline-updates':
        given.baselineUpdates = parseCount(arg, value());
        break;
      case '--dnsmasq':
        dnsmasq = value();
        if (!dnsmasq.startsWith('/')) throw new UsageError(`--dnsmasq must be an absolute path, not ${JSON.stringify(dnsmasq)}`);
        break;
      default:
        throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  return { dnsmasq, quick, workload: { ...(quick ? QUICK : FULL), ...given } };
}

/** The most names the workload puts in place before its updates. */
export function largestSize(workload: Workload): number {
  return workload.sizes[workload.sizes.length - 1] ?? 0;
}

function parseSizes(text: string): number[] {
  const sizes = text.split(',').map((field) => parseCount('--sizes', field));
  return [...new Set(sizes)].sort((a, b) => a - b);
}

function parseCount(flag: string, text: string): number {
  const count = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_COUNT) {
    throw new UsageError(`${flag}: ${JSON.stringify(text)} is not a count from 1 to ${MAX_COUNT}`);
  }
  return count;
}
