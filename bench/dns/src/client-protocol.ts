/**
 * What the bench and its DNS client (client-program.ts, run inside the
 * container namespace) exchange: the client's spec as JSON on its command
 * line, and JSON lines on its stdout. Every query is A over UDP to the
 * gateway.
 */
import type { NameRange } from './names.js';

/** Where the client asks, and how long one query may wait for its answer. */
export interface ServerSpec {
  readonly server: string;
  readonly port: number;
  readonly timeoutMs: number;
}

/**
 * `watch`: for each stdin line `appear NAME ADDRESS` or `gone NAME
 * ADDRESS`, asks NAME again and again, each query as soon as the previous
 * one was answered, until an answer holds ADDRESS (appear) or an answer
 * comes without it (gone); then prints a WatchDone. Prints
 * `{"event":"ready"}` first.
 */
export interface WatchSpec extends ServerSpec {
  /** A name still not as expected after this long is an error. */
  readonly limitMs: number;
}

/** What a watch line waits for. */
export type WatchKind = 'appear' | 'gone';

export interface WatchDone {
  readonly event: WatchKind;
  readonly name: string;
  /** When the awaited answer arrived: process.hrtime.bigint() (CLOCK_MONOTONIC, shared by every process of the machine), in decimal. */
  readonly atNs: string;
  /** Queries asked for it, the last one included. */
  readonly queries: number;
}

/** A watched name that was not as expected in time. */
export interface WatchLate {
  readonly event: 'late';
  readonly kind: WatchKind;
  readonly name: string;
  readonly queries: number;
  readonly last: string;
}

/**
 * `steady`: asks the names of `names` in turn at a fixed rate, whether or
 * not earlier queries were answered (as many independent clients would),
 * until its stdin ends; then waits for the queries in flight and prints a
 * SteadyResult. Prints `{"event":"ready"}` first.
 */
export interface SteadySpec extends ServerSpec {
  readonly names: NameRange;
  readonly queriesPerSecond: number;
}

export interface SteadyResult {
  readonly event: 'steady';
  readonly sent: number;
  /** NOERROR with the name's address. */
  readonly answered: number;
  /** No answer within timeoutMs. */
  readonly unanswered: number;
  /** An answer, but not NOERROR with the name's address. */
  readonly wrong: number;
  /** Runs of consecutive failed queries. */
  readonly outages: number;
  /** The longest of them: from the first failed query's sending to the next answered one's (or the last failure's deadline). */
  readonly longestOutageMs: number;
  /** The first few failures, for the log. */
  readonly failures: readonly string[];
}

/**
 * `flood`: keeps `parallel` queries in flight over the names of `names`
 * (each query sent as soon as one is answered): once untimed for
 * warmupMs, then `rounds` timed rounds of roundMs. Prints a FloodResult.
 */
export interface FloodSpec extends ServerSpec {
  readonly names: NameRange;
  readonly parallel: number;
  readonly warmupMs: number;
  readonly roundMs: number;
  readonly rounds: number;
  /** The resolver's pid, whose CPU time each round reads from /proc. */
  readonly serverPid: number;
}

export interface FloodRound {
  readonly answered: number;
  readonly unanswered: number;
  readonly wrong: number;
  readonly elapsedMs: number;
  /** CPU time of the client and of the resolver during the round. */
  readonly clientCpuMs: number;
  readonly serverCpuMs: number;
}

export interface FloodResult {
  readonly event: 'flood';
  readonly rounds: readonly FloodRound[];
  readonly failures: readonly string[];
}

/** `check`: asks each name of `names` once, `parallel` at a time. Prints a CheckResult. */
export interface CheckSpec extends ServerSpec {
  readonly names: NameRange;
  readonly parallel: number;
}

export interface CheckResult {
  readonly event: 'check';
  readonly asked: number;
  readonly failed: number;
  readonly failures: readonly string[];
}

/** How many failures a result describes; the rest are only counted. */
export const KEPT_FAILURES = 5;
