/**
 * A Store held in memory, for tests and for tools that keep no state across
 * runs. It copies on the way in and out, as a durable store would.
 */
import type { Network, PortMapping } from './model.js';
import { comparePortMappings } from './ports.js';
import { portKeyText, type BackendKind, type Store, type StoreTransaction } from './store.js';

export function createMemoryStore(): Store {
  const networks = new Map<number, Network>();
  const portMappings = new Map<string, PortMapping>();
  let parent = '';
  const retiredSubnets = new Set<string>();
  const activeBackends = new Map<BackendKind, string>();
  const retiringBackends = new Map<BackendKind, string[]>();
  let closed = false;
  const checkOpen = (): void => {
    if (closed) throw new Error('memory store is closed');
  };
  return {
    load() {
      checkOpen();
      return {
        networks: structuredClone([...networks.values()].sort((a, b) => a.vlan - b.vlan)),
        portMappings: structuredClone([...portMappings.values()].sort(comparePortMappings)),
      };
    },
    parent() {
      checkOpen();
      return parent;
    },
    setParent(name) {
      checkOpen();
      parent = name;
    },
    retiredSubnets() {
      checkOpen();
      return [...retiredSubnets].sort();
    },
    activeBackend(kind) {
      checkOpen();
      return activeBackends.get(kind) ?? '';
    },
    setActiveBackend(kind, name) {
      checkOpen();
      activeBackends.set(kind, name);
    },
    retiringBackends(kind) {
      checkOpen();
      return [...(retiringBackends.get(kind) ?? [])];
    },
    setRetiringBackends(kind, names) {
      checkOpen();
      retiringBackends.set(kind, [...names]);
    },
    update(change) {
      checkOpen();
      // Operations are journaled and applied only once change returns, so
      // a change that throws half-way leaves nothing behind.
      const journal: Array<() => void> = [];
      const tx: StoreTransaction = {
        putNetwork: (n) => {
          const copy = structuredClone(n);
          journal.push(() => networks.set(copy.vlan, copy));
        },
        deleteNetwork: (vlan) => journal.push(() => networks.delete(vlan)),
        putPortMapping: (m) => {
          const copy = structuredClone(m);
          journal.push(() => portMappings.set(portKeyText(copy), copy));
        },
        deletePortMapping: (k) => {
          const key = portKeyText(k);
          journal.push(() => portMappings.delete(key));
        },
        putRetiredSubnet: (subnet) => journal.push(() => retiredSubnets.add(subnet)),
        deleteRetiredSubnet: (subnet) => journal.push(() => retiredSubnets.delete(subnet)),
      };
      change(tx);
      for (const apply of journal) apply();
    },
    close() {
      closed = true;
    },
  };
}
