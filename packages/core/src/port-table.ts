/**
 * Port mappings indexed by key (protocol, first host port, host address)
 * and by every host port they cover. Finding the mappings a new one would
 * overlap looks only at the ports it asks for, whatever else is published:
 * a 10,000-port range fills 10,000 slots once, and a later single-port add
 * still looks at one slot.
 */
import type { PortKey, PortMapping, Protocol } from './model.js';
import { comparePortMappings } from './ports.js';
import { portKeyText } from './store.js';

/** The mappings covering one host port of one protocol, by host address ("" for every address). */
type Slot = Map<string, PortMapping>;

/** The host ports a lookup is about: one mapping's, or a request's. */
export type PortSpan = Pick<PortMapping, 'protocol' | 'hostIp' | 'hostPort' | 'hostPortEnd'>;

/** The published port mappings of the desired state, for lookups by key, by port and by overlap. */
export class PortTable {
  readonly #byKey = new Map<string, PortMapping>();
  /** protocol -> host port -> slot. Mappings never overlap on one host address, so a slot holds one per address. */
  readonly #slots = new Map<Protocol, Map<number, Slot>>();
  /**
   * Every mapping in the state's order, once asked for; kept in order by
   * each change after that, so that a change to a large table costs a
   * binary search and a splice, not a sort.
   */
  #sorted: PortMapping[] | undefined;

  constructor(mappings: Iterable<PortMapping> = []) {
    for (const m of mappings) this.put(m);
  }

  get size(): number {
    return this.#byKey.size;
  }

  /** The mapping that starts at k.hostPort on exactly k.hostIp. */
  get(k: PortKey): PortMapping | undefined {
    return this.#byKey.get(portKeyText(k));
  }

  /** The mapping on exactly k.hostIp whose host ports include k.hostPort. */
  covering(k: PortKey): PortMapping | undefined {
    return this.#slots.get(k.protocol)?.get(k.hostPort)?.get(k.hostIp);
  }

  /**
   * Adds m, replacing the mapping with its key. m must not overlap any
   * other mapping on its host address: check with `overlapping` first.
   */
  put(m: PortMapping): void {
    this.delete(m);
    this.#byKey.set(portKeyText(m), m);
    let ports = this.#slots.get(m.protocol);
    if (ports === undefined) {
      ports = new Map();
      this.#slots.set(m.protocol, ports);
    }
    for (let port = m.hostPort; port <= m.hostPortEnd; port++) {
      let slot = ports.get(port);
      if (slot === undefined) {
        slot = new Map();
        ports.set(port, slot);
      }
      slot.set(m.hostIp, m);
    }
    this.#sorted?.splice(insertionIndex(this.#sorted, m), 0, m);
  }

  /** Removes the mapping with key k, if present. */
  delete(k: PortKey): void {
    const key = portKeyText(k);
    const m = this.#byKey.get(key);
    if (m === undefined) return;
    this.#byKey.delete(key);
    const ports = this.#slots.get(m.protocol);
    for (let port = m.hostPort; port <= m.hostPortEnd; port++) {
      const slot = ports?.get(port);
      if (slot?.get(m.hostIp) !== m) continue;
      slot.delete(m.hostIp);
      if (slot.size === 0) ports?.delete(port);
    }
    const at = this.#sorted?.indexOf(m) ?? -1;
    if (at >= 0) this.#sorted?.splice(at, 1);
  }

  /**
   * The mappings that overlap `span` (see portMappingsOverlap), each once,
   * in the order of the ports they share with it. Looks only at the slots
   * of span's ports.
   */
  *overlapping(span: PortSpan): Generator<PortMapping> {
    const ports = this.#slots.get(span.protocol);
    if (ports === undefined) return;
    const seen = new Set<PortMapping>();
    for (let port = span.hostPort; port <= span.hostPortEnd; port++) {
      const slot = ports.get(port);
      if (slot === undefined) continue;
      const found = span.hostIp === '' ? slot.values() : [slot.get(span.hostIp), slot.get('')];
      for (const m of found) {
        if (m === undefined || seen.has(m)) continue;
        seen.add(m);
        yield m;
      }
    }
  }

  /** The mappings for which keep is true, ordered by protocol, first host port and host address. */
  select(keep: (m: PortMapping) => boolean = () => true): PortMapping[] {
    this.#sorted ??= [...this.#byKey.values()].sort(comparePortMappings);
    return this.#sorted.filter(keep);
  }
}

/** Where m goes in `sorted` (ordered by comparePortMappings) to keep it ordered. */
function insertionIndex(sorted: readonly PortMapping[], m: PortMapping): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const candidate = sorted[middle];
    if (candidate !== undefined && comparePortMappings(candidate, m) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
