/**
 * The measurements, run in turn against one DnsSubject in its own
 * topology, every query from the container namespace to the gateway. Each
 * step checks with real queries that what it added answers (and, at the
 * end, that every name still given answers), so a fast number can never
 * come from work that did not happen.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { percentiles, type Percentiles } from '@router-service/bench-firewall/stats';
import { GATEWAY, type Topology } from '@router-service/bench-firewall/topology';
import { ClientSession, runClient } from './client.js';
import type { FloodRound, ServerSpec, SteadyResult, WatchKind } from './client-protocol.js';
import { recordOf, recordsIn, type NameRange, type NameRecord } from './names.js';
import { largestSize, type Workload } from './options.js';
import type { DnsSubject } from './subject.js';

/** How long one query of the watching client waits before it asks again. */
export const WATCH_QUERY_TIMEOUT_MS = 100;
/** A name not answering this long after its change is an error, not a sample. */
const WATCH_LIMIT_MS = 15_000;
/** How long the resolver may take to catch up with changes made back to back before that is an error. */
const CATCH_UP_LIMIT_MS = 5 * 60_000;
/** Queries in flight while checking that names answer. */
const CHECK_PARALLEL = 16;

/** Measurement 1 at one size: from a change adding a name to that name answering, in milliseconds. */
export interface UpdateLatency {
  /** Names in place; each timed update adds one, removed (untimed) before the next. */
  readonly size: number;
  readonly updates: number;
  /** How long the call adding the name took. */
  readonly call: Percentiles;
  /** From the call's return to the first right answer: the goal's figure. */
  readonly afterReturn: Percentiles;
  /** From the call's start to the first right answer: what a container waits for a new name. */
  readonly afterStart: Percentiles;
}

/** Measurement 2: a client's queries for names that exist throughout, while names are added. */
export interface QueriesUnderUpdates {
  readonly updates: number;
  /** Names in place before the first update; each adds one. */
  readonly namesBefore: number;
  /** How long the changes took, back to back. */
  readonly elapsedMs: number;
  /** From the last change's return to its name answering: how far the resolver was behind. */
  readonly catchUpMs: number;
  readonly client: SteadyResult;
}

/** Measurement 4: answers per second on the gateway. */
export interface Throughput {
  readonly names: number;
  /** The round with the most answers per second. */
  readonly best: FloodRound;
  /** Over every round. */
  readonly unanswered: number;
  readonly wrong: number;
}

export interface SubjectResults {
  readonly name: string;
  /** Measurement 1 at each size, ascending. */
  readonly latency: readonly UpdateLatency[];
  /** Measurement 4, with the largest size in place. */
  readonly throughput: Throughput;
  /** Measurement 2 from the smallest size and from the largest, ascending. */
  readonly underUpdates: readonly QueriesUnderUpdates[];
  /** Whether the dnsmasq answering the first names was still the one answering at the end. */
  readonly sameResolver: boolean;
}

/** Reports progress on stderr, so that stdout holds only the report. */
export type Progress = (message: string) => void;

/** Answers per second of a round. */
export function rate(round: FloodRound): number {
  return (round.answered * 1000) / round.elapsedMs;
}

function server(timeoutMs: number): ServerSpec {
  return { server: GATEWAY, port: 53, timeoutMs };
}

/**
 * Takes every measurement of one subject whose network's gateway is up,
 * `updates` changes each time. Names 0.. are preloaded up to each size in
 * turn; the next `updates` come and go one by one at each size; the
 * `updates` after those are added under continuous queries from the
 * smallest size and from the largest, and removed again after each time.
 */
export async function measure(subject: DnsSubject, topology: Topology, updates: number, workload: Workload, progress: Progress): Promise<SubjectResults> {
  const say = (message: string) => progress(`[${subject.name}] ${message}`);
  const [smallest, largest] = [workload.sizes[0], largestSize(workload)];
  const timedNames: NameRange = { from: largest, count: updates };
  const addedUnderQueries: NameRange = { from: largest + updates, count: updates };
  const latency: UpdateLatency[] = [];
  const underUpdates: QueriesUnderUpdates[] = [];
  let throughput: Throughput | undefined;
  let resolverAtStart: number | undefined;
  const watcher = await ClientSession.start(topology.container, 'watch', { ...server(WATCH_QUERY_TIMEOUT_MS), limitMs: WATCH_LIMIT_MS });
  try {
    let inPlace = 0;
    for (const size of workload.sizes) {
      say(`preloading ${size - inPlace} names`);
      await subject.preload(recordsIn({ from: inPlace, count: size - inPlace }));
      inPlace = size;
      await checkAnswers(topology, { from: 0, count: size }, workload);
      resolverAtStart ??= await subject.resolverPid();
      say(`${updates} updates with ${size} names in place, each until its name answers`);
      latency.push(await latencyAt(size, subject, watcher, timedNames));
      if (size === largest) {
        say(`queries per second with ${size} names`);
        throughput = await measureThroughput(subject, topology, { from: 0, count: size }, workload);
      }
      if (size === smallest || size === largest) {
        say(`${updates} updates under continuous queries, from ${size} names`);
        underUpdates.push(await measureUnderUpdates(subject, topology, size, addedUnderQueries, workload));
        await checkAnswers(topology, addedUnderQueries, workload);
        await subject.remove(recordsIn(addedUnderQueries));
        await watchFor(watcher, 'gone', recordOf(addedUnderQueries.from + addedUnderQueries.count - 1));
      }
    }
  } finally {
    await watcher.stop();
  }
  if (throughput === undefined) throw new Error(`no size is the largest, ${largest}`);

  say('checking that every preloaded name answers');
  await checkAnswers(topology, { from: 0, count: largest }, workload);
  const sameResolver = (await subject.resolverPid()) === resolverAtStart;
  return { name: subject.name, latency, throughput, underUpdates, sameResolver };
}

/** Throws unless every name of `range` answers its address. */
async function checkAnswers(topology: Topology, range: NameRange, workload: Workload): Promise<void> {
  const spec = { ...server(workload.queryTimeoutMs), names: range, parallel: CHECK_PARALLEL };
  const result = await runClient(topology.container, 'check', spec, 60_000 + range.count * 10);
  if (result.failed > 0) throw new Error(`${result.failed} of ${result.asked} names did not answer, e.g. ${result.failures.join('; ')}`);
}

/** Has the watcher wait until `record` appears or goes (at most `limitMs`, the watcher's own limit); returns when, as process.hrtime.bigint(). */
async function watchFor(watcher: ClientSession, kind: WatchKind, record: NameRecord, limitMs = WATCH_LIMIT_MS): Promise<bigint> {
  watcher.send(`${kind} ${record.name} ${record.address}`);
  const event = await watcher.next(limitMs + 10_000);
  if (event.event !== kind || event.name !== record.name) throw new Error(`${record.name} -> ${record.address} did not ${kind}: ${JSON.stringify(event)}`);
  return BigInt(String(event['atNs']));
}

const msBetween = (from: bigint, to: bigint): number => Number(to - from) / 1e6;

/** Adds each name of `names` in turn, watches until it answers, and removes it again (untimed) before the next. */
async function latencyAt(size: number, subject: DnsSubject, watcher: ClientSession, names: NameRange): Promise<UpdateLatency> {
  const samples = { call: [] as number[], afterReturn: [] as number[], afterStart: [] as number[] };
  for (const record of recordsIn(names)) {
    const start = process.hrtime.bigint();
    await subject.add(record);
    const returned = process.hrtime.bigint();
    const answered = await watchFor(watcher, 'appear', record);
    samples.call.push(msBetween(start, returned));
    samples.afterReturn.push(msBetween(returned, answered));
    samples.afterStart.push(msBetween(start, answered));
    // Gone before the next change, so that the next one is timed alone and at the same size.
    await subject.remove([record]);
    await watchFor(watcher, 'gone', record);
  }
  return {
    size,
    updates: names.count,
    call: percentiles(samples.call),
    afterReturn: percentiles(samples.afterReturn),
    afterStart: percentiles(samples.afterStart),
  };
}

async function measureThroughput(subject: DnsSubject, topology: Topology, names: NameRange, workload: Workload): Promise<Throughput> {
  const spec = {
    ...server(workload.queryTimeoutMs),
    names,
    parallel: workload.floodParallel,
    warmupMs: workload.floodWarmupMs,
    roundMs: workload.floodRoundMs,
    rounds: workload.floodRounds,
    serverPid: await subject.resolverPid(),
  };
  const result = await runClient(topology.container, 'flood', spec, 60_000 + workload.floodWarmupMs + workload.floodRounds * workload.floodRoundMs);
  const best = result.rounds.reduce((a, b) => (rate(b) > rate(a) ? b : a));
  const sum = (key: 'unanswered' | 'wrong') => result.rounds.reduce((total, round) => total + round[key], 0);
  return { names: names.count, best, unanswered: sum('unanswered'), wrong: sum('wrong') };
}

/**
 * Adds each name of `names`, back to back, while the client asks for
 * preloaded names at a steady rate, from before the first change until a
 * while after the resolver caught up with the last.
 */
async function measureUnderUpdates(subject: DnsSubject, topology: Topology, namesBefore: number, names: NameRange, workload: Workload): Promise<QueriesUnderUpdates> {
  const spec = {
    ...server(workload.queryTimeoutMs),
    // Names that exist throughout: preloaded ones, as many as are in place when fewer than asked for.
    names: { from: 0, count: Math.min(workload.steadyNames, namesBefore) },
    queriesPerSecond: workload.steadyQueriesPerSecond,
  };
  const records = recordsIn(names);
  const last = records[records.length - 1];
  if (last === undefined) throw new Error('no updates to make under continuous queries');
  const watcher = await ClientSession.start(topology.container, 'watch', { ...server(WATCH_QUERY_TIMEOUT_MS), limitMs: CATCH_UP_LIMIT_MS });
  try {
    const client = await ClientSession.start(topology.container, 'steady', spec);
    try {
      const started = performance.now();
      for (const record of records) await subject.add(record);
      const returned = process.hrtime.bigint();
      const elapsedMs = performance.now() - started;
      const catchUpMs = msBetween(returned, await watchFor(watcher, 'appear', last, CATCH_UP_LIMIT_MS));
      await sleep(workload.steadySettleMs);
      const result = await client.finish(workload.queryTimeoutMs + 10_000);
      if (result.event !== 'steady') throw new Error(`the steady client ended with ${JSON.stringify(result)}`);
      return { updates: names.count, namesBefore, elapsedMs, catchUpMs, client: result as unknown as SteadyResult };
    } finally {
      await client.stop();
    }
  } finally {
    await watcher.stop();
  }
}
