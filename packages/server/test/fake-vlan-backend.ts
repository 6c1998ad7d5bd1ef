/**
 * An in-memory VlanBackend for the service tests: links live in a map, and
 * ensureVlan can be told to fail for a VLAN.
 */
import { precondition, type LinkStatus, type Uplink, type VlanBackend, type VlanLink } from '@router-service/core';

export class FakeVlanBackend implements VlanBackend {
  readonly name = 'fake';
  readonly uplinkState: Uplink = { name: 'eth0', mtu: 1500, prefixes: ['10.0.2.0/24'] };
  /** VLAN id -> the error ensureVlan throws for it. */
  readonly failEnsure = new Map<number, Error>();
  /** While set, ensureVlan waits for it: a call held in flight. */
  ensureGate: Promise<void> | undefined;
  forwarding = false;
  readonly #links = new Map<string, LinkStatus>();

  async defaultRouteInterface(): Promise<string> {
    return this.uplinkState.name;
  }

  async uplink(name: string): Promise<Uplink> {
    if (name !== this.uplinkState.name) throw precondition(`parent interface ${name} does not exist`);
    return structuredClone(this.uplinkState);
  }

  async ensureVlan(link: VlanLink): Promise<LinkStatus> {
    const failure = this.failEnsure.get(link.vlan);
    if (failure !== undefined) throw failure;
    await this.ensureGate;
    const name = `${link.parent}.${link.vlan}`;
    const hex = link.vlan.toString(16).padStart(4, '0');
    const status: LinkStatus = {
      name,
      index: 100 + link.vlan,
      vlan: link.vlan,
      mac: `02:00:00:00:${hex.slice(0, 2)}:${hex.slice(2)}`,
      mtu: link.mtu || this.uplinkState.mtu,
      up: true,
      owned: true,
      addresses: [link.address],
    };
    this.#links.set(name, status);
    return { ...status };
  }

  async deleteVlan(name: string): Promise<void> {
    this.#links.delete(name);
  }

  async status(name: string): Promise<LinkStatus | undefined> {
    const status = this.#links.get(name);
    return status === undefined ? undefined : { ...status };
  }

  async owned(): Promise<LinkStatus[]> {
    return [...this.#links.values()].map((s) => ({ ...s }));
  }

  async isolate(): Promise<void> {}

  async enableForwarding(): Promise<void> {
    this.forwarding = true;
  }

  /** The names of the links present, sorted. */
  names(): string[] {
    return [...this.#links.keys()].sort();
  }
}
