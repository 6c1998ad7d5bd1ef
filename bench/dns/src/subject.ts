/**
 * What each benchmarked way of serving container names offers the
 * measurements: the daemon through gRPC, or the original rewrite-and-restart
 * approach. Both answer on the network's gateway from a dnsmasq.
 */
import type { NameRecord } from './names.js';

export interface DnsSubject {
  /** How the report names it. */
  readonly name: string;
  /** Setup, not timed: makes `records` answer, in addition to the names already given. */
  preload(records: readonly NameRecord[]): Promise<void>;
  /** Adds one name as its caller would, in one call; timed from the call to its return. */
  add(record: NameRecord): Promise<void>;
  /**
   * Setup, not timed: removes names by the fastest legitimate means, so that
   * they stop answering soon after it returns.
   */
  remove(records: readonly NameRecord[]): Promise<void>;
  /** The pid of the dnsmasq answering now. */
  resolverPid(): Promise<number>;
  /** Stops what it started; the namespaces are the caller's. */
  close(): Promise<void>;
}
