import type { PortMapping } from './model.js';

/** The port mappings one list of a state holds and the other does not. */
export interface PortMappingChanges {
  /** In the previous list only. */
  readonly removed: PortMapping[];
  /** In the next list only. */
  readonly added: PortMapping[];
}

/** How far the walk looks ahead for the next mapping both lists share. */
const RESYNC_WINDOW = 16;

/**
 * The port mappings that differ between two lists, for a firewall backend
 * that changes only what a change touches. The reconciler's states list
 * the mappings in order and share the objects of unchanged ones (states
 * are replaced, never changed in place), so the two lists are walked side
 * by side comparing identities, and where they part, a short look ahead
 * finds where they meet again: the cost is a pointer comparison per
 * mapping, with nothing hashed for the ones that stay. A longer run of
 * changes (a batch of calls adds or removes more mappings side by side
 * than the look ahead covers) is found by scanning on past it, or, once
 * the scans have covered a list, through an index of that list's
 * positions, so that the walk still meets again at the run's end rather
 * than pairing every mapping after it. Mappings equal in
 * every field but not identical (a state rebuilt from the store), or listed
 * in another order, come out of the walk as removed and added and are then
 * matched by value, so the result is right whatever the lists; only its
 * cost depends on them.
 */
export function changedPortMappings(previous: readonly PortMapping[], next: readonly PortMapping[]): PortMappingChanges {
  const removed: PortMapping[] = [];
  const added: PortMapping[] = [];
  const nextPositions = new Positions(next);
  const previousPositions = new Positions(previous);
  let i = 0;
  let j = 0;
  while (i < previous.length && j < next.length) {
    const old = previous[i] as PortMapping;
    const now = next[j] as PortMapping;
    if (old === now) {
      i++;
      j++;
      continue;
    }
    // Mappings added before `old`, or removed before `now`? Near on both sides before far on either.
    const addedNear = nextPositions.near(old, j);
    const removedNear = addedNear === undefined ? previousPositions.near(now, i) : undefined;
    const addedUntil = addedNear ?? (removedNear === undefined ? nextPositions.far(old, j) : undefined);
    if (addedUntil !== undefined) {
      added.push(...next.slice(j, addedUntil));
      j = addedUntil;
      continue;
    }
    const removedUntil = removedNear ?? previousPositions.far(now, i);
    if (removedUntil !== undefined) {
      removed.push(...previous.slice(i, removedUntil));
      i = removedUntil;
      continue;
    }
    removed.push(old);
    added.push(now);
    i++;
    j++;
  }
  removed.push(...previous.slice(i));
  added.push(...next.slice(j));
  return matchByValue(removed, added);
}

/**
 * Finds where an object is in a list after a position: near it by a look
 * ahead; farther by scanning on, until the scans of one walk have covered
 * the list once; after that through an index of the list, built then.
 * With the look ahead's RESYNC_WINDOW reads per step, a walk so reads each
 * list some tens of times its length at most, whatever the lists hold.
 */
class Positions<T> {
  readonly #list: readonly T[];
  #scanBudget: number;
  #index: Map<T, number> | undefined;

  constructor(list: readonly T[]) {
    this.#list = list;
    this.#scanBudget = list.length;
  }

  /** Where `item` is among the RESYNC_WINDOW positions after `at`, if there. */
  near(item: T, at: number): number | undefined {
    const end = Math.min(this.#list.length, at + 1 + RESYNC_WINDOW);
    for (let k = at + 1; k < end; k++) if (this.#list[k] === item) return k;
    return undefined;
  }

  /** Where `item` is past the look ahead of `at`, if there. */
  far(item: T, at: number): number | undefined {
    const from = at + 1 + RESYNC_WINDOW;
    if (from >= this.#list.length) return undefined;
    if (this.#index === undefined && this.#scanBudget > 0) {
      for (let k = from; k < this.#list.length; k++) {
        if (this.#list[k] === item) {
          this.#scanBudget -= k - from + 1;
          return k;
        }
      }
      this.#scanBudget -= this.#list.length - from;
      return undefined;
    }
    if (this.#index === undefined) {
      this.#index = new Map();
      // Each object's first position.
      for (let k = this.#list.length - 1; k >= 0; k--) this.#index.set(this.#list[k] as T, k);
    }
    const k = this.#index.get(item);
    return k !== undefined && k >= from ? k : undefined;
  }
}

/** Every field of a mapping, as one string. */
function valueOf(m: PortMapping): string {
  return JSON.stringify([m.protocol, m.hostIp, m.hostPort, m.hostPortEnd, m.containerIp, m.containerPort, m.vlan, m.sources]);
}

/** Drops the mappings found, by value, on both sides, as often as on the other side. */
function matchByValue(removed: readonly PortMapping[], added: readonly PortMapping[]): PortMappingChanges {
  if (removed.length === 0 || added.length === 0) return { removed: [...removed], added: [...added] };
  const counts = new Map<string, number>();
  for (const m of removed) {
    const key = valueOf(m);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  // An added mapping takes one removed one of its value, if any is left;
  // the removed ones left untaken are the ones that stay removed.
  const stillAdded = added.filter((m) => !take(counts, valueOf(m)));
  const stillRemoved = removed.filter((m) => take(counts, valueOf(m)));
  return { removed: stillRemoved, added: stillAdded };
}

/** Takes one of `key` from `counts`: whether there was one left. */
function take(counts: Map<string, number>, key: string): boolean {
  const left = counts.get(key) ?? 0;
  if (left === 0) return false;
  counts.set(key, left - 1);
  return true;
}
