/**
 * An in-memory VlanBackend: links live in a map, with the ownership rules
 * of the kernel backend. It can be told to fail, and drift can be staged.
 */
import { precondition } from '../src/errors.js';
import type { LinkStatus, Uplink, VlanBackend, VlanLink } from '../src/backends.js';

export class FakeVlanBackend implements VlanBackend {
  readonly name = 'fake';
  readonly uplinkState: Uplink;
  /** VLAN id -> the error ensureVlan throws for it. */
  readonly failEnsure = new Map<number, Error>();
  /** Link name -> the error deleteVlan throws for it. */
  readonly failDelete = new Map<string, Error>();
  /** When set, isolate throws it. */
  failIsolate: Error | undefined;
  /** Interfaces isolate was called on, in order. */
  readonly isolated: string[] = [];
  readonly #links = new Map<string, LinkStatus>();
  #nextIndex = 10;

  constructor(uplink: Uplink) {
    this.uplinkState = structuredClone(uplink);
  }

  async defaultRouteInterface(): Promise<string> {
    return this.uplinkState.name;
  }

  async uplink(name: string): Promise<Uplink> {
    if (name !== this.uplinkState.name) throw precondition(`parent interface ${name}: link not found`);
    return structuredClone(this.uplinkState);
  }

  async ensureVlan(link: VlanLink): Promise<LinkStatus> {
    const failure = this.failEnsure.get(link.vlan);
    if (failure !== undefined) throw failure;
    const name = `${link.parent}.${link.vlan}`;
    let status = this.#links.get(name);
    if (status !== undefined && !status.owned) {
      throw precondition(`interface ${name} exists and is not managed by router-service`);
    }
    if (status === undefined || status.vlan !== link.vlan) {
      const vlanHex = link.vlan.toString(16).padStart(4, '0');
      status = {
        name,
        index: ++this.#nextIndex,
        vlan: link.vlan,
        mac: `02:00:00:00:${vlanHex.slice(0, 2)}:${vlanHex.slice(2)}`,
        mtu: 0,
        up: false,
        owned: true,
        addresses: [],
      };
    }
    const next = { ...status, mtu: link.mtu || this.uplinkState.mtu, up: true, addresses: [link.address] };
    this.#links.set(name, next);
    return { ...next };
  }

  async deleteVlan(name: string): Promise<void> {
    const failure = this.failDelete.get(name);
    if (failure !== undefined) throw failure;
    const status = this.#links.get(name);
    if (status === undefined) return;
    if (!status.owned) throw precondition(`interface ${name} is not managed by router-service`);
    this.#links.delete(name);
  }

  async status(name: string): Promise<LinkStatus | undefined> {
    const status = this.#links.get(name);
    return status === undefined ? undefined : { ...status };
  }

  async owned(): Promise<LinkStatus[]> {
    return this.names()
      .map((name) => this.#links.get(name))
      .filter((s): s is LinkStatus => s?.owned === true);
  }

  async isolate(name: string): Promise<void> {
    if (this.failIsolate !== undefined) throw this.failIsolate;
    this.isolated.push(name);
  }

  /** Whether IPv4 forwarding is on, as the kernel's switch would be. */
  forwarding = false;
  /** When set, enableForwarding throws it. */
  failForwarding: Error | undefined;

  async enableForwarding(): Promise<void> {
    if (this.failForwarding !== undefined) throw this.failForwarding;
    this.forwarding = true;
  }

  /** Installs a link directly, as drift or someone else's link would appear. */
  put(status: Partial<LinkStatus> & { name: string; vlan: number }): void {
    this.#links.set(status.name, {
      index: ++this.#nextIndex,
      mac: '02:aa:00:00:00:01',
      mtu: 1500,
      up: true,
      owned: false,
      addresses: [],
      ...status,
    });
  }

  /** Removes a link behind the service's back. */
  vanish(name: string): void {
    this.#links.delete(name);
  }

  /** The links present, sorted. */
  names(): string[] {
    return [...this.#links.keys()].sort();
  }

  link(name: string): LinkStatus {
    const status = this.#links.get(name);
    if (status === undefined) throw new Error(`link ${name} does not exist`);
    return { ...status };
  }
}
