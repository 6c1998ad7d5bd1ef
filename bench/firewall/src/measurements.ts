/**
 * The four measurements, run in turn against one Publisher in its own
 * topology. Every step checks with real connections that what it published
 * answers (and, for latency, that a removed port stops answering), so a
 * fast number can never come from work that did not happen.
 */
import type { Workload } from './options.js';
import * as ports from './ports.js';
import type { PublishedPorts, Publisher } from './publisher.js';
import { percentiles, timed, type Percentiles } from './stats.js';
import { ROUTER_IP, type Topology } from './topology.js';
import { connectMany, probe, probeClosed, sample } from './traffic.js';

/** Measurement 1 at one size. */
export interface LatencyAtSize {
  /** Mappings in place while timing. */
  readonly size: number;
  readonly add: Percentiles;
  readonly remove: Percentiles;
}

/** New connections per second through the target mapping, taken one right after the other. */
export interface ConnectionPair {
  /** With `size` other mappings in place, the target added after them. */
  readonly crowded: number;
  /** With the target mapping alone. */
  readonly alone: number;
}

/** Measurement 3. */
export interface ConnectionRates {
  readonly pairs: readonly ConnectionPair[];
  readonly size: number;
}

/** Measurement 4, or why it could not be taken. */
export type RangeResult = { readonly kind: 'measured'; readonly addMs: number } | { readonly kind: 'pending'; readonly reason: string };

export interface SubjectResults {
  readonly name: string;
  readonly latency: readonly LatencyAtSize[];
  /** Measurement 2: all concurrent adds, milliseconds, per timed round. */
  readonly concurrentAddRoundsMs: readonly number[];
  /** As many calls doing no work, made the same way, milliseconds per timed round; undefined for a publisher without calls. */
  readonly concurrentNoWorkRoundsMs: readonly number[] | undefined;
  readonly connections: ConnectionRates;
  readonly range: RangeResult;
}

/** Reports progress on stderr, so that stdout holds only the report. */
export type Progress = (message: string) => void;

/**
 * Takes the four measurements of one publisher in its topology, whose
 * container already serves. Leaves the target mapping published.
 */
export async function measure(publisher: Publisher, topology: Topology, workload: Workload, progress: Progress): Promise<SubjectResults> {
  const say = (message: string) => progress(`[${publisher.name}] ${message}`);

  const rounds = `one untimed round, then ${workload.concurrentRounds} timed`;
  say(`${workload.concurrentAdds} AddPortMapping from ${workload.concurrentClients} clients: ${rounds}`);
  const concurrent = ports.concurrentAdds(workload.concurrentAdds);
  const concurrentAddRoundsMs = await timedRounds(workload.concurrentRounds, async () => {
    const addsMs = await timed(() => publisher.addConcurrently(concurrent, workload.concurrentClients));
    await probe(topology.client, ROUTER_IP, sample(ports.hostPorts(concurrent), workload.probesPerCheck));
    await publisher.removeMany(concurrent);
    return addsMs;
  });
  let concurrentNoWorkRoundsMs: number[] | undefined;
  const noWork = publisher.noWorkConcurrently?.bind(publisher);
  if (noWork !== undefined) {
    say(`${workload.concurrentAdds} calls doing no work from ${workload.concurrentClients} clients: ${rounds}`);
    concurrentNoWorkRoundsMs = await timedRounds(workload.concurrentRounds, () => timed(() => noWork(workload.concurrentAdds, workload.concurrentClients)));
  }

  say(`a ${workload.rangeLength}-port range in one call`);
  const range = await measureRange(publisher, topology, workload);

  // The sizes are measured rising, then falling, half the pairs each way:
  // the daemon gets faster the longer it runs (its JIT, its caches), and in
  // one rising pass that trend would show as a growth with size.
  const largest = workload.sizes[workload.sizes.length - 1] ?? 0;
  const timings = new Map<number, Timings>();
  let inPlace = 0;
  for (const [pass, sizes] of [workload.sizes, workload.sizes.toReversed()].entries()) {
    const pairs = pass === 0 ? Math.ceil(workload.latencySamples / 2) : Math.floor(workload.latencySamples / 2);
    for (const size of sizes) {
      inPlace = await bringTo(size, inPlace, publisher, topology, workload, say);
      say(`AddPortMapping and RemovePortMapping with ${size} in place (${pass === 0 ? 'sizes rising' : 'sizes falling'})`);
      const at = timings.get(size) ?? { adds: [], removes: [] };
      await timePairs(pairs, at, publisher, topology);
      timings.set(size, at);
    }
  }
  const latency = workload.sizes.map((size): LatencyAtSize => {
    const at = timings.get(size) ?? { adds: [], removes: [] };
    return { size, add: percentiles(at.adds), remove: percentiles(at.removes) };
  });

  // Each pair takes the two rates back to back, as close in time as the
  // removal allows; the pairs repeat, so that a change in the machine's
  // load between two rates shows as a spread of the pairs' ratios, not as
  // one skewed ratio.
  const pairs: ConnectionPair[] = [];
  for (let pair = 1; pair <= workload.connectionPairs; pair++) {
    // The target goes after the others, the last rule of the original's chain.
    if (pair > 1) await publisher.remove(ports.target);
    inPlace = await bringTo(largest, inPlace, publisher, topology, workload, say);
    say(`pair ${pair} of ${workload.connectionPairs}: connection rate with ${largest} other mappings in place`);
    await publisher.add(ports.target);
    const crowded = await connectionRate(topology, workload);
    inPlace = await bringTo(0, inPlace, publisher, topology, workload, say);
    say(`pair ${pair} of ${workload.connectionPairs}: connection rate with the target mapping alone`);
    const alone = await connectionRate(topology, workload);
    pairs.push({ crowded, alone });
  }
  return { name: publisher.name, latency, concurrentAddRoundsMs, concurrentNoWorkRoundsMs, connections: { pairs, size: largest }, range };
}

/**
 * Runs `round` once untimed, then `count` times, and returns what the timed
 * rounds measured. The first round pays for what a running service has
 * paid long ago: compiling the code paths of the calls, in the daemon and
 * in the clients.
 */
async function timedRounds(count: number, round: () => Promise<number>): Promise<number[]> {
  await round();
  const times: number[] = [];
  for (let i = 0; i < count; i++) times.push(await round());
  return times;
}

/** Add and remove times of one size, ms. */
interface Timings {
  readonly adds: number[];
  readonly removes: number[];
}

/**
 * Publishes or unpublishes preloaded mappings until `size` are in place,
 * checks with connections that a sample of them answers (and of those
 * removed, that they stop answering), and returns the new count.
 */
async function bringTo(size: number, inPlace: number, publisher: Publisher, topology: Topology, workload: Workload, say: Progress): Promise<number> {
  if (size > inPlace) {
    say(`preloading ${size - inPlace} mappings, to ${size}`);
    await publisher.addMany(ports.preloaded(inPlace, size));
  } else if (size < inPlace) {
    say(`removing ${inPlace - size} preloaded mappings, to ${size}`);
    await publisher.removeMany(ports.preloaded(size, inPlace));
    await probeClosed(topology.client, ROUTER_IP, sample(ports.hostPorts(ports.preloaded(size, inPlace)), workload.probesPerCheck));
  }
  if (size > 0) await probe(topology.client, ROUTER_IP, sample(ports.hostPorts(ports.preloaded(0, size)), workload.probesPerCheck));
  return size;
}

/** Times `count` add-then-remove pairs into `into`; the first pair is checked with connections. */
async function timePairs(count: number, into: Timings, publisher: Publisher, topology: Topology): Promise<void> {
  for (const [i, mapping] of ports.latencySamples(count).entries()) {
    into.adds.push(await timed(() => publisher.add(mapping)));
    if (i === 0) await probe(topology.client, ROUTER_IP, [mapping.hostPort]);
    into.removes.push(await timed(() => publisher.remove(mapping)));
    if (i === 0) await probeClosed(topology.client, ROUTER_IP, [mapping.hostPort]);
  }
}

async function measureRange(publisher: Publisher, topology: Topology, workload: Workload): Promise<RangeResult> {
  const range: PublishedPorts = ports.range(workload.rangeLength);
  const addMs = await timed(() => publisher.add(range));
  try {
    const problem = await publisher.rangeProblem(range);
    if (problem !== undefined) return { kind: 'pending', reason: problem };
    await probe(topology.client, ROUTER_IP, [range.hostPort, range.hostPortEnd]);
    return { kind: 'measured', addMs };
  } finally {
    await publisher.removeMany([range]);
  }
}

/**
 * New connections per second through the target mapping: the best of the
 * rounds, after a warm-up. The best, not the median, because what slows a
 * round down besides the kernel path measured (other work on the machine,
 * the daemon's periodic resync) only ever makes it slower.
 */
async function connectionRate(topology: Topology, workload: Workload): Promise<number> {
  const load = { host: ROUTER_IP, ports: [ports.TARGET_PORT], parallel: workload.connectionParallelism };
  await probe(topology.client, ROUTER_IP, [ports.TARGET_PORT]);
  await connectMany(topology.client, { ...load, total: workload.warmupConnections });
  const rates: number[] = [];
  for (let round = 0; round < workload.connectionRounds; round++) {
    const result = await connectMany(topology.client, { ...load, total: workload.connections });
    if (result.failed > 0) {
      throw new Error(`${result.failed} of ${workload.connections} connections to ${ROUTER_IP}:${ports.TARGET_PORT} failed: ${result.failures.join('; ')}`);
    }
    rates.push((result.answered * 1000) / result.elapsedMs);
  }
  return Math.max(...rates);
}
