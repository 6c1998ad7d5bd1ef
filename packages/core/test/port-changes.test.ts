// changedPortMappings: the mappings that differ between two lists, found by
// identity where the lists share objects, by value where they do not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PortMapping } from '../src/model.js';
import { changedPortMappings } from '../src/port-changes.js';
import { portMapping } from './helpers.js';

const tcp = (hostPort: number, fields: Partial<PortMapping> = {}) => portMapping('tcp', '', hostPort, 100, '172.18.0.2', fields);

/** Each mapping's fields as one string, sorted: a multiset by value. */
function values(mappings: readonly PortMapping[]): string[] {
  return mappings.map((m) => JSON.stringify(m)).sort();
}

/** The answer by brute force: each side's mappings by value, less those the other side has as often. */
function byValue(previous: readonly PortMapping[], next: readonly PortMapping[]): { removed: string[]; added: string[] } {
  const minus = (a: readonly PortMapping[], b: readonly PortMapping[]) => {
    const left = values(b);
    return values(a).filter((v) => {
      const at = left.indexOf(v);
      if (at < 0) return true;
      left.splice(at, 1);
      return false;
    });
  };
  return { removed: minus(previous, next), added: minus(next, previous) };
}

test('in lists that share their unchanged objects, the mappings added, removed and retargeted, as the very objects', () => {
  const list = Array.from({ length: 40 }, (_, i) => tcp(1000 + i));
  const inserted = tcp(1010, { hostPortEnd: 1010, containerPort: 81 });
  const retargeted = { ...list[30]!, containerIp: '172.18.0.9' };
  const next = [tcp(999), ...list.slice(0, 5), ...list.slice(8, 10), inserted, ...list.slice(10, 30), retargeted, ...list.slice(31, 39)];
  const { removed, added } = changedPortMappings(list, next);
  assert.deepEqual(removed, [list[5], list[6], list[7], list[30], list[39]]);
  assert.ok(removed.every((m, i) => m === [list[5], list[6], list[7], list[30], list[39]][i]));
  assert.deepEqual(added, [tcp(999), inserted, retargeted]);
});

test('equal mappings that are other objects, in another order, are no change', () => {
  const list = Array.from({ length: 50 }, (_, i) => tcp(2000 + i, { sources: i % 3 === 0 ? ['10.0.0.0/8'] : [] }));
  const rebuilt = list.map((m) => ({ ...m, sources: [...m.sources] })).reverse();
  assert.deepEqual(changedPortMappings(list, rebuilt), { removed: [], added: [] });
  const moved = { ...list[7]!, vlan: 200 };
  assert.deepEqual(changedPortMappings(list, rebuilt.map((m) => (m.hostPort === moved.hostPort ? moved : m))), { removed: [list[7]], added: [moved] });
});

/** A small deterministic generator of numbers in [0, 1), so that a failure repeats. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

test('random changes give what a comparison by value gives', () => {
  const next = random(1);
  let list = Array.from({ length: 30 }, (_, i) => tcp(3000 + i * 2));
  for (let step = 0; step < 500; step++) {
    const changed = [...list];
    for (let k = Math.floor(next() * 4); k >= 0; k--) {
      const at = Math.floor(next() * (changed.length + 1));
      const roll = next();
      if (roll < 0.4) changed.splice(at, 0, tcp(3000 + Math.floor(next() * 80)));
      else if (roll < 0.7) changed.splice(at, 1);
      else if (roll < 0.85 && changed[at] !== undefined) changed[at] = { ...changed[at]!, containerPort: 1 + Math.floor(next() * 3) };
      else if (changed[at] !== undefined) changed[at] = { ...changed[at]! };
    }
    const result = changedPortMappings(list, changed);
    assert.deepEqual({ removed: values(result.removed), added: values(result.added) }, byValue(list, changed), `step ${step}`);
    list = changed;
  }
});

/** Mappings that count every read of their fields, and the count so far. */
function fieldReads(): { watched: (m: PortMapping) => PortMapping; reads: () => number } {
  let count = 0;
  const watched = (m: PortMapping): PortMapping =>
    new Proxy(m, {
      get(target, field, receiver) {
        count++;
        return Reflect.get(target, field, receiver) as unknown;
      },
    });
  return { watched, reads: () => count };
}

test('the unchanged mappings of shared lists are not read, only compared as objects', () => {
  const { watched, reads } = fieldReads();
  const list = Array.from({ length: 10_000 }, (_, i) => watched(tcp(10_000 + i)));
  const next = [...list.slice(0, 5_000), tcp(14_999, { hostPortEnd: 14_999, containerPort: 81 }), ...list.slice(5_001)];
  const { removed, added } = changedPortMappings(list, next);
  assert.equal(removed[0], list[5_000]);
  assert.equal(added.length, 1);
  // The one removed mapping is read twice, field by field, to match it by value; no other.
  assert.ok(reads() <= 16, `${reads()} field reads for one change among 10,000 mappings`);
});

test('a run of changes longer than the look ahead is found whole: the mappings after it are not read', () => {
  const { watched, reads } = fieldReads();
  const list = Array.from({ length: 10_000 }, (_, i) => watched(tcp(20_000 + 2 * i)));
  const run = Array.from({ length: 64 }, (_, i) => tcp(30_001 + 2 * i));
  const grown = [...list.slice(0, 5_000), ...run, ...list.slice(5_000)];
  assert.deepEqual(changedPortMappings(list, grown), { removed: [], added: run });
  const shrunk = [...list.slice(0, 5_000), ...list.slice(5_064)];
  const { removed, added } = changedPortMappings(list, shrunk);
  assert.deepEqual(added, []);
  assert.ok(removed.length === 64 && removed.every((m, i) => m === list[5_000 + i]));
  assert.equal(reads(), 0, `${reads()} field reads for two runs of 64 changes among 10,000 mappings`);
});

test('random runs of changes, and lists rebuilt as other objects, give what a comparison by value gives', () => {
  const next = random(7);
  let list = Array.from({ length: 200 }, (_, i) => tcp(5000 + i * 2));
  for (let step = 0; step < 300; step++) {
    let changed = [...list];
    for (let k = Math.floor(next() * 3); k >= 0; k--) {
      const at = Math.floor(next() * (changed.length + 1));
      const length = 1 + Math.floor(next() * 60);
      const roll = next();
      if (roll < 0.4) changed.splice(at, 0, ...Array.from({ length }, () => tcp(5000 + Math.floor(next() * 600))));
      else if (roll < 0.8) changed.splice(at, length);
      else changed.splice(at, length, ...changed.slice(at, at + length).map((m) => ({ ...m, containerPort: 1 + Math.floor(next() * 3) })));
    }
    if (next() < 0.1) changed = changed.map((m) => ({ ...m }));
    const result = changedPortMappings(list, changed);
    assert.deepEqual({ removed: values(result.removed), added: values(result.added) }, byValue(list, changed), `step ${step}`);
    list = changed.length > 20 ? changed : [...changed, ...Array.from({ length: 100 }, (_, i) => tcp(7000 + i))];
  }
});

test('a walk reads each list a few times over, even when no object is shared and the order differs', () => {
  let reads = 0;
  const counted = (list: PortMapping[]): PortMapping[] =>
    new Proxy(list, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^[0-9]+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
  const size = 2_000;
  const list = Array.from({ length: size }, (_, i) => tcp(40_000 + i));
  const rebuilt = list.map((m) => ({ ...m })).reverse();
  assert.deepEqual(changedPortMappings(counted(list), counted(rebuilt)), { removed: [], added: [] });
  // A look ahead on each side per step, then a scan or an index lookup: some tens of reads per
  // mapping. Scanning to the end at every step instead would read each list about size / 2 times.
  assert.ok(reads < 60 * size, `${reads} element reads for two lists of ${size}`);
});
