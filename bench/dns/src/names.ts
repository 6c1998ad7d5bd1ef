/**
 * The names the benchmark gives the network and the address each answers:
 * name i is `c<i>` at 172.18.(16 + i / 250).(1 + i % 250), inside the
 * network's subnet and clear of the gateway and the container. Both sides
 * (the subjects that add names, the clients that ask them) derive them
 * from indices, so that a client's spec names thousands of names in a few
 * bytes.
 */

/** The network's domain: names answer short and qualified. */
export const DOMAIN = 'bench.test';

/** The most names a run gives the network (preloaded plus both passes of updates). */
export const MAX_NAMES = 30_000;

/** A name and the one address it answers. */
export interface NameRecord {
  readonly name: string;
  readonly address: string;
}

/** Names from..from+count-1. */
export interface NameRange {
  readonly from: number;
  readonly count: number;
}

export function nameOf(index: number): string {
  return `c${index}`;
}

export function addressOf(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0 || index >= MAX_NAMES) throw new Error(`name index ${index} is outside 0..${MAX_NAMES - 1}`);
  return `172.18.${16 + Math.floor(index / 250)}.${1 + (index % 250)}`;
}

export function recordOf(index: number): NameRecord {
  return { name: nameOf(index), address: addressOf(index) };
}

/** The records of a range, in index order. */
export function recordsIn(range: NameRange): NameRecord[] {
  return Array.from({ length: range.count }, (_, i) => recordOf(range.from + i));
}
