/**
 * A VlanBackend for kernels without 802.1Q (where `ip link add ... type
 * vlan` fails): a network's link is a veth pair the bench wired beforehand
 * under the VLAN link's name, `<parent>.<vlan>`. Converging it adopts that
 * link (tags it as ours, isolates it, gives it the gateway address, brings
 * it up) instead of creating one; everything else is the iproute2 backend's.
 * The firewall sees the same interface names either way.
 */
import { precondition, type LinkStatus, type Uplink, type VlanBackend, type VlanLink } from '@router-service/core';
import { IP, runChecked } from '@router-service/test-support';
import { OWNER_ALIAS } from '@router-service/vlan-iproute2';

/** The VLAN id a `<parent>.<vlan>` name stands for. */
function vlanOf(status: LinkStatus): LinkStatus {
  const suffix = status.name.slice(status.name.lastIndexOf('.') + 1);
  return { ...status, vlan: /^[0-9]+$/.test(suffix) ? Number(suffix) : 0 };
}

export class PrewiredVlanBackend implements VlanBackend {
  readonly name = 'prewired-veth';
  readonly #iproute2: VlanBackend;

  constructor(iproute2: VlanBackend) {
    this.#iproute2 = iproute2;
  }

  defaultRouteInterface(): Promise<string> {
    return this.#iproute2.defaultRouteInterface();
  }

  uplink(name: string): Promise<Uplink> {
    return this.#iproute2.uplink(name);
  }

  async ensureVlan(link: VlanLink): Promise<LinkStatus> {
    const name = `${link.parent}.${link.vlan}`;
    if ((await this.#iproute2.status(name)) === undefined) {
      throw precondition(`${name} does not exist: wire it as a veth pair before creating VLAN ${link.vlan}`);
    }
    await this.#iproute2.isolate(name);
    await runChecked(IP, ['link', 'set', 'dev', name, 'alias', OWNER_ALIAS, 'up']);
    await runChecked(IP, ['address', 'replace', link.address, 'dev', name]);
    const status = await this.#iproute2.status(name);
    if (status === undefined) throw new Error(`link ${name} vanished while it was configured`);
    return vlanOf(status);
  }

  deleteVlan(name: string): Promise<void> {
    return this.#iproute2.deleteVlan(name);
  }

  async status(name: string): Promise<LinkStatus | undefined> {
    const status = await this.#iproute2.status(name);
    return status === undefined ? undefined : vlanOf(status);
  }

  async owned(): Promise<LinkStatus[]> {
    return (await this.#iproute2.owned()).map(vlanOf);
  }

  isolate(name: string): Promise<void> {
    return this.#iproute2.isolate(name);
  }

  enableForwarding(): Promise<void> {
    return this.#iproute2.enableForwarding();
  }
}
