/**
 * The durable desired state. A store keeps the validated inputs clients
 * asked for (networks and port mappings), never rendered kernel objects, so
 * that a restarted service converges the kernel to them.
 */
import type { DesiredState, Network, PortKey, PortMapping } from './model.js';

/** The kinds of backend whose choice the store records. */
export type BackendKind = 'firewall' | 'dns';

/** One atomic change of the desired state. */
export interface StoreTransaction {
  /** Stores n, replacing any network with the same VLAN id. */
  putNetwork(n: Network): void;
  /** Removes the network with the given VLAN id, if present. */
  deleteNetwork(vlan: number): void;
  /** Stores m, replacing any mapping with the same key. */
  putPortMapping(m: PortMapping): void;
  /** Removes the mapping with key k, if present. */
  deletePortMapping(k: PortKey): void;
  /** Records a subnet the desired state no longer has, whose tracked flows are still to be forgotten. */
  putRetiredSubnet(subnet: string): void;
  /** Removes a retired subnet, if present: its flows were forgotten, or it is in use again. */
  deleteRetiredSubnet(subnet: string): void;
}

export interface Store {
  /** The whole desired state: networks by VLAN id, mappings by protocol, host port, host address. */
  load(): DesiredState;
  /** The parent interface the stored networks were built on; "" if none was recorded. */
  parent(): string;
  /** Records the parent interface the networks are built on. */
  setParent(name: string): void;
  /**
   * The subnets of deleted or changed networks whose tracked flows may
   * outlive them: recorded with the change, removed once forgotten, so
   * that a crash in between leaves them for the next start.
   */
  retiredSubnets(): string[];
  /**
   * The configured name of the `kind` backend whose objects the kernel
   * holds, as last recorded; "" if none was. A service that starts with
   * another backend tears this one down first.
   */
  activeBackend(kind: BackendKind): string;
  /** Records the `kind` backend whose objects the kernel now holds. */
  setActiveBackend(kind: BackendKind, name: string): void;
  /**
   * The configured names of earlier `kind` backends whose teardown failed,
   * so that their objects may still be in the kernel: each start tries
   * again. Empty if none.
   */
  retiringBackends(kind: BackendKind): string[];
  /** Records the earlier `kind` backends still to tear down. */
  setRetiringBackends(kind: BackendKind, names: readonly string[]): void;
  /**
   * Applies change's operations in one durable transaction: all or nothing.
   * An exception thrown by change leaves the store as it was and is rethrown.
   */
  update(change: (tx: StoreTransaction) => void): void;
  /** Releases the store; a closed store must not be used again. */
  close(): void;
}

/** A stable text key for a port mapping. */
export function portKeyText(k: PortKey): string {
  return `${k.protocol}/${k.hostPort}/${k.hostIp}`;
}
