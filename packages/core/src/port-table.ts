/**
 * Port mappings indexed by protocol and host port, so that a conflict check
 * looks only at the mappings of one port even among 100,000.
 */
import type { PortKey, PortMapping } from './model.js';
import { comparePortMappings } from './ports.js';

function slotOf(k: Pick<PortKey, 'protocol' | 'hostPort'>): string {
  return `${k.protocol}/${k.hostPort}`;
}

export class PortTable {
  /** slot -> host address ("" for every address) -> mapping */
  readonly #slots = new Map<string, Map<string, PortMapping>>();
  #size = 0;

  constructor(mappings: Iterable<PortMapping> = []) {
    for (const m of mappings) this.put(m);
  }

  get size(): number {
    return this.#size;
  }

  get(k: PortKey): PortMapping | undefined {
    return this.#slots.get(slotOf(k))?.get(k.hostIp);
  }

  /** Adds or replaces the mapping with m's key. */
  put(m: PortMapping): void {
    let slot = this.#slots.get(slotOf(m));
    if (slot === undefined) {
      slot = new Map();
      this.#slots.set(slotOf(m), slot);
    }
    if (!slot.has(m.hostIp)) this.#size++;
    slot.set(m.hostIp, m);
  }

  /** Removes the mapping with key k, if present. */
  delete(k: PortKey): void {
    const slot = this.#slots.get(slotOf(k));
    if (slot?.delete(k.hostIp) !== true) return;
    this.#size--;
    if (slot.size === 0) this.#slots.delete(slotOf(k));
  }

  /** The mappings with the given protocol and host port, whatever their host address. */
  inSlot(k: Pick<PortKey, 'protocol' | 'hostPort'>): PortMapping[] {
    return [...(this.#slots.get(slotOf(k))?.values() ?? [])];
  }

  /** The mappings for which keep is true, ordered by protocol, host port and host address. */
  select(keep: (m: PortMapping) => boolean = () => true): PortMapping[] {
    const out: PortMapping[] = [];
    for (const slot of this.#slots.values()) {
      for (const m of slot.values()) if (keep(m)) out.push(m);
    }
    return out.sort(comparePortMappings);
  }
}
