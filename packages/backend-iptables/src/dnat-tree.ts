/**
 * Published ports as a two-level tree instead of one linear chain:
 * `RS-DNAT` holds one rule per bucket in use (a protocol and an aligned
 * range of DNAT_BUCKET_PORTS host ports, `-p tcp -m tcp --dport 7936:8191`)
 * jumping into that bucket's chain, which holds the DNAT rules of the
 * mappings inside it. A new connection passes at most the dispatch rules
 * before its bucket and the rules of its bucket, instead of every mapping.
 * A range is cut at bucket edges, each part keeping its one-to-one shift.
 *
 * A change of mappings touches only the buckets the changed mappings fall
 * in, and the dispatch chain only when a bucket comes into use or empties;
 * `changedDnatChains` renders just those, so that the cost of an update
 * follows the change, not the number of mappings.
 */
import { PROTOCOLS, changedPortMappings, comparePortMappings, type PortMapping, type Protocol } from '@router-service/core';
import { dport, formatRule, host } from './rule.js';

/** Host ports per bucket chain: a power of two, so buckets are aligned `--dport` ranges. */
export const DNAT_BUCKET_PORTS = 256;

/** The chain that dispatches published ports into bucket chains. */
export const DNAT_CHAIN = 'RS-DNAT';

/** A chain of ours with its rules. */
export type Chain = [name: string, rules: string[]];

const PORT_SPACE = 65536;

/**
 * A bucket as one number, the protocol's index in PROTOCOLS (by name, as
 * mappings sort) * PORT_SPACE + first host port, so that buckets compare,
 * sort and index as numbers in dispatch order.
 */
type BucketId = number;

function protocolOf(id: BucketId): Protocol {
  return PROTOCOLS[Math.floor(id / PORT_SPACE)] ?? 'tcp';
}

function firstOf(id: BucketId): number {
  return id % PORT_SPACE;
}

function lastOf(id: BucketId): number {
  return firstOf(id) + DNAT_BUCKET_PORTS - 1;
}

/** The name of the chain holding the published ports of one bucket, e.g. `RS-DNAT-tcp-7936-8191`. */
export function bucketChain(protocol: string, first: number): string {
  return `${DNAT_CHAIN}-${protocol}-${first}-${first + DNAT_BUCKET_PORTS - 1}`;
}

function chainOf(id: BucketId): string {
  return bucketChain(protocolOf(id), firstOf(id));
}

/** The buckets a mapping's host ports fall in, in order. */
function bucketsOf(m: PortMapping): BucketId[] {
  const ids: BucketId[] = [];
  forEachBucket(m, (id) => {
    ids.push(id);
  });
  return ids;
}

/** Calls `visit` with each bucket of `m` in order until it returns true; whether one did. */
function forEachBucket(m: PortMapping, visit: (id: BucketId) => boolean | void): boolean {
  const base = PROTOCOLS.indexOf(m.protocol) * PORT_SPACE;
  for (let first = m.hostPort - (m.hostPort % DNAT_BUCKET_PORTS); first <= m.hostPortEnd; first += DNAT_BUCKET_PORTS) {
    if (visit(base + first) === true) return true;
  }
  return false;
}

/** The DNAT rules of the host ports first..last of `m`, all inside one bucket: one per allowed source. */
function dnatRules(m: PortMapping, first: number, last: number): string[] {
  const to = m.containerPort + (first - m.hostPort);
  // A range maps one-to-one from `first` on (`/first` is the shift's base), not onto any port of the range.
  const target = first === last ? `${m.containerIp}:${to}` : `${m.containerIp}:${to}-${to + (last - first)}/${first}`;
  const destination = m.hostIp === '' ? undefined : host(m.hostIp);
  const sources = m.sources.length === 0 ? [undefined] : m.sources;
  return sources.map((source) =>
    formatRule({ source, destination, protocol: m.protocol, matches: dport(m.protocol, first, last), target: `DNAT --to-destination ${target}` }),
  );
}

/** The bucket chains of `mappings` in the buckets `only` (every bucket in use when absent), in dispatch order, with their rules. */
function bucketChains(mappings: readonly PortMapping[], only?: ReadonlySet<BucketId>): Chain[] {
  const rules = new Map<BucketId, string[]>();
  for (const m of [...mappings].sort(comparePortMappings)) {
    for (const id of bucketsOf(m)) {
      if (only !== undefined && !only.has(id)) continue;
      const bucketRules = rules.get(id) ?? [];
      bucketRules.push(...dnatRules(m, Math.max(m.hostPort, firstOf(id)), Math.min(m.hostPortEnd, lastOf(id))));
      rules.set(id, bucketRules);
    }
  }
  return [...rules.keys()].sort((a, b) => a - b).map((id): Chain => [chainOf(id), rules.get(id) ?? []]);
}

/** `RS-DNAT`: one rule per bucket in use, in order, jumping into its chain. */
function dispatch(mappings: readonly PortMapping[]): Chain {
  const used = new Set<BucketId>();
  for (const m of mappings) {
    forEachBucket(m, (id) => {
      used.add(id);
    });
  }
  const rules = [...used]
    .sort((a, b) => a - b)
    .map((id) => formatRule({ protocol: protocolOf(id), matches: dport(protocolOf(id), firstOf(id), lastOf(id)), target: chainOf(id) }));
  return [DNAT_CHAIN, rules];
}

/** `RS-DNAT` and every bucket chain in use, with their rules. */
export function dnatChains(mappings: readonly PortMapping[]): Chain[] {
  return [dispatch(mappings), ...bucketChains(mappings)];
}

/**
 * The chains of the tree that may differ between `previous` and `next`,
 * rendered from each: every other chain of the tree is the same in both.
 * A bucket not in use is absent from its side; `RS-DNAT` is on both sides
 * when a bucket comes into use or empties, on neither otherwise.
 */
export function changedDnatChains(previous: readonly PortMapping[], next: readonly PortMapping[]): { before: Chain[]; after: Chain[] } {
  const { removed, added } = changedPortMappings(previous, next);
  const touched = new Set([...removed, ...added].flatMap(bucketsOf));
  if (touched.size === 0) return { before: [], after: [] };
  const inTouched = (mappings: readonly PortMapping[]) => mappings.filter((m) => forEachBucket(m, (id) => touched.has(id)));
  const before = bucketChains(inTouched(previous), touched);
  const after = bucketChains(inTouched(next), touched);
  const names = (chains: readonly Chain[]) => chains.map(([name]) => name).join(' ');
  // The same touched buckets in use on both sides: the dispatch chain is the same.
  if (names(before) === names(after)) return { before, after };
  return { before: [dispatch(previous), ...before], after: [dispatch(next), ...after] };
}
