/**
 * The command line of the benchmark and the workload each mode runs. A full
 * run is what BENCHMARKS.md reports; `--quick` runs the same steps with tiny
 * sizes, to show that the harness works (the package's test), not to time.
 */

/** Firewall backends the daemon can be benchmarked with. */
export type BackendName = 'nft' | 'iptables';

/** How much work each measurement does. */
export interface Workload {
  /** Mappings in place while AddPortMapping and RemovePortMapping are timed, ascending. */
  readonly sizes: readonly number[];
  /** Add-then-remove pairs timed at each size. */
  readonly latencySamples: number;
  /** Mappings added at once by concurrent clients. */
  readonly concurrentAdds: number;
  /** How many clients add them. */
  readonly concurrentClients: number;
  /** Timed rounds of the concurrent adds (and of the calls doing no work), after one untimed round; the median counts. */
  readonly concurrentRounds: number;
  /** Ports in the one-call range. */
  readonly rangeLength: number;
  /** New TCP connections per timed round. */
  readonly connections: number;
  /** Connections open at once while connecting. */
  readonly connectionParallelism: number;
  /** Timed rounds per connection-rate figure; the best counts. */
  readonly connectionRounds: number;
  /**
   * Times measurement 3 takes the two rates, one after the other (with the
   * other mappings, then with the target alone); the median of the pairs'
   * ratios counts.
   */
  readonly connectionPairs: number;
  /** Untimed connections before the rounds (caches, conntrack, the JIT). */
  readonly warmupConnections: number;
  /** Published ports a preload checks by connecting through them (all of them when larger than the count). */
  readonly probesPerCheck: number;
}

export interface BenchOptions {
  readonly backend: BackendName;
  /** The iptables binary of the original approach. */
  readonly baselineIptables: string;
  readonly quick: boolean;
  readonly workload: Workload;
}

/** The highest size: preloaded host ports must stay below the ports the other steps use. */
export const MAX_SIZE = 10_000;

const FULL: Workload = {
  sizes: [10, 1_000, 10_000],
  latencySamples: 200,
  concurrentAdds: 1_000,
  concurrentClients: 32,
  concurrentRounds: 3,
  rangeLength: 10_000,
  connections: 5_000,
  connectionParallelism: 32,
  connectionRounds: 5,
  connectionPairs: 3,
  warmupConnections: 500,
  probesPerCheck: 20,
};

const QUICK: Workload = {
  sizes: [2, 5],
  latencySamples: 3,
  concurrentAdds: 8,
  concurrentClients: 4,
  concurrentRounds: 1,
  rangeLength: 10,
  connections: 20,
  connectionParallelism: 4,
  connectionRounds: 1,
  connectionPairs: 2,
  warmupConnections: 2,
  probesPerCheck: MAX_SIZE,
};

export const USAGE = `Usage: bench-firewall [--sizes 10,1000,10000] [--backend nft|iptables] [--baseline-iptables PATH] [--quick]

  --sizes N,N,...           mappings in place while AddPortMapping/RemovePortMapping are timed (at most ${MAX_SIZE})
  --backend NAME            the daemon's firewall backend (default nft)
  --baseline-iptables PATH  the iptables of the original approach (default /usr/sbin/iptables)
  --quick                   tiny sizes: checks that the harness works, its numbers mean nothing
`;

/** A command line the benchmark cannot run with. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Reads the arguments (without node and the script). Throws UsageError. */
export function parseOptions(args: readonly string[]): BenchOptions {
  let backend: BackendName = 'nft';
  let baselineIptables = '/usr/sbin/iptables';
  let quick = false;
  let sizes: number[] | undefined;
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
        sizes = parseSizes(value());
        break;
      case '--backend': {
        const name = value();
        if (name !== 'nft' && name !== 'iptables') throw new UsageError(`--backend must be nft or iptables, not ${JSON.stringify(name)}`);
        backend = name;
        break;
      }
      case '--baseline-iptables':
        baselineIptables = value();
        break;
      default:
        throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  const base = quick ? QUICK : FULL;
  return { backend, baselineIptables, quick, workload: sizes === undefined ? base : { ...base, sizes } };
}

function parseSizes(text: string): number[] {
  const sizes = text.split(',').map((field) => {
    const size = /^[0-9]+$/.test(field) ? Number(field) : NaN;
    if (!Number.isSafeInteger(size) || size < 1 || size > MAX_SIZE) {
      throw new UsageError(`--sizes: ${JSON.stringify(field)} is not a size from 1 to ${MAX_SIZE}`);
    }
    return size;
  });
  return [...new Set(sizes)].sort((a, b) => a - b);
}
