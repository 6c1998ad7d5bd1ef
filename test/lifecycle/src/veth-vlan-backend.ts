/**
 * A VlanBackend standing in for 802.1Q links on a kernel without them (this
 * one's tests run where module 8021q does not exist): the link
 * `<parent>.<vlan>` is one end of a veth pair, either one a test wired to a
 * container's namespace beforehand, untagged, which the stand-in adopts, or
 * one it makes itself with the other end, rsv<vlan>, left in the namespace.
 * Only finding or making the link and configuring it differ from the real
 * backend; ownership (the ifalias), listing, deleting, isolation and
 * forwarding are iproute2's own backend, so that the daemon tells its links
 * from foreign ones, and removes undesired ones, exactly as with real VLANs.
 */
import { execa } from 'execa';
import { interfaceName, precondition, silentLogger, type LinkStatus, type Logger, type VlanBackend, type VlanLink } from '@router-service/core';
import { IP } from '@router-service/test-support';
import { OWNER_ALIAS, createIproute2VlanBackend } from '@router-service/vlan-iproute2';

export const VETH_VLAN_BACKEND_NAME = 'veth-stand-in';

/** The name of the veth end that stays behind `<parent>.<vlan>`. */
export function peerName(vlan: number): string {
  return `rsv${vlan}`;
}

/** Options of `createVethVlanBackend`; those of the iproute2 backend it replaces. */
export interface VethVlanBackendOptions {
  log?: Logger;
}

/** The stand-in, acting on the namespace it runs in. */
export function createVethVlanBackend(options: VethVlanBackendOptions = {}): VlanBackend {
  const log = options.log ?? silentLogger;
  const iproute2 = createIproute2VlanBackend({ log });
  return {
    name: VETH_VLAN_BACKEND_NAME,
    defaultRouteInterface: () => iproute2.defaultRouteInterface(),
    uplink: (name) => iproute2.uplink(name),
    deleteVlan: (name) => iproute2.deleteVlan(name),
    status: (name) => iproute2.status(name),
    owned: () => iproute2.owned(),
    isolate: (name) => iproute2.isolate(name),
    enableForwarding: () => iproute2.enableForwarding(),
    async ensureVlan(link: VlanLink): Promise<LinkStatus> {
      const name = interfaceName(link.parent, link.vlan);
      const parent = await iproute2.uplink(link.parent);
      const mtu = link.mtu === 0 ? parent.mtu : link.mtu;
      let current = await iproute2.status(name);
      if (current !== undefined && !current.owned) {
        if ((await linkKind(name)) !== 'veth') {
          throw precondition(`interface ${name} exists, is not managed by router-service and is no veth to adopt: remove or rename it`);
        }
        log.info({ link: name }, 'adopting a veth standing in for a VLAN link');
        await batch([`link set dev ${name} alias ${OWNER_ALIAS}`]);
        current = await mustExist(iproute2, name);
      }
      if (current === undefined) {
        log.info({ link: name, peer: peerName(link.vlan), mtu }, 'creating a veth standing in for a VLAN link');
        // One batch written at once: a daemon killed meanwhile leaves
        // either no link or a tagged one, never an untagged one of our name.
        await batch([
          `link add ${name} mtu ${mtu} type veth peer name ${peerName(link.vlan)}`,
          `link set dev ${name} alias ${OWNER_ALIAS}`,
          `link set dev ${peerName(link.vlan)} up`,
        ]);
        current = await mustExist(iproute2, name);
      }
      await iproute2.isolate(name);
      const stale = current.addresses.filter((address) => address !== link.address);
      await batch([
        `link set dev ${name} mtu ${mtu}`,
        `address replace ${link.address} dev ${name}`,
        ...stale.map((address) => `address del ${address} dev ${name}`),
        `link set dev ${name} up`,
      ]);
      return mustExist(iproute2, name);
    },
  };
}

/** The kind of the named link as `ip -details` reports it ("veth", "vlan"; "" for a plain device). */
async function linkKind(name: string): Promise<string> {
  const result = await execa(IP, ['-json', '-details', 'link', 'show', 'dev', name], { reject: false });
  if (result.exitCode !== 0) throw new Error(`ip link show ${name} failed: ${result.stderr.trim()}`);
  const [link] = JSON.parse(result.stdout) as Array<{ linkinfo?: { info_kind?: string } }>;
  return link?.linkinfo?.info_kind ?? '';
}

async function mustExist(iproute2: VlanBackend, name: string): Promise<LinkStatus> {
  const status = await iproute2.status(name);
  if (status === undefined) throw new Error(`link ${name} vanished while it was configured`);
  return status;
}

/** Runs `lines` through `ip -batch -` in this process's namespace; the first failure stops it. */
async function batch(lines: readonly string[]): Promise<void> {
  const result = await execa(IP, ['-batch', '-'], { input: `${lines.join('\n')}\n`, reject: false });
  if (result.exitCode !== 0) throw new Error(`ip -batch failed (exit ${result.exitCode}): ${result.stderr.trim()}\n${lines.join('\n')}`);
}
