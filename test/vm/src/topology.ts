/**
 * The test topology: the router's eth0 is one end of a veth whose other end
 * sits on a Linux bridge in the "fabric" namespace. Container namespaces
 * attach to that bridge and put their address on a VLAN subinterface of
 * their own, as container VMs do.
 */
import { vethArgs } from '@router-service/test-support';
import { inNamespace, ip, ipAll, succeeds } from './command.js';

/** TestNetwork is one bridge network of the scenario and the container on it. */
export interface TestNetwork {
  readonly vlan: number;
  readonly subnet: string;
  readonly gateway: string;
  readonly container: string;
  readonly containerAddr: string;
}

export const net100: TestNetwork = {
  vlan: 100,
  subnet: '172.18.0.0/16',
  gateway: '172.18.0.1',
  container: 'c100',
  containerAddr: '172.18.0.2/16',
};

export const net200: TestNetwork = {
  vlan: 200,
  subnet: '172.19.0.0/16',
  gateway: '172.19.0.1',
  container: 'c200',
  containerAddr: '172.19.0.2/16',
};

export function interfaceName(network: TestNetwork): string {
  return `eth0.${network.vlan}`;
}

/** buildFabric creates eth0 in the router's namespace and the bridge it is plugged into. */
export function buildFabric(): Promise<void> {
  return ipAll(
    ['netns', 'add', 'fabric'],
    vethArgs({ name: 'eth0' }, { name: 'uplink', netns: 'fabric' }),
    ['-n', 'fabric', 'link', 'add', 'br0', 'type', 'bridge'],
    ['-n', 'fabric', 'link', 'set', 'uplink', 'master', 'br0', 'up'],
    ['-n', 'fabric', 'link', 'set', 'br0', 'up'],
    ['link', 'set', 'eth0', 'up'],
  );
}

/** addContainer creates a container namespace whose eth0 is plugged into the fabric bridge. */
export function addContainer(name: string): Promise<void> {
  return ipAll(
    ['netns', 'add', name],
    vethArgs({ name: `p-${name}`, netns: 'fabric' }, { name: 'eth0', netns: name }),
    ['-n', 'fabric', 'link', 'set', `p-${name}`, 'master', 'br0', 'up'],
    ['-n', name, 'link', 'set', 'lo', 'up'],
    ['-n', name, 'link', 'set', 'eth0', 'up'],
  );
}

/**
 * setContainerAddr puts addr on the container's eth0.<vlan>, or on eth0
 * itself (untagged) when vlan is 0, removing whatever it had before.
 */
export async function setContainerAddr(name: string, vlan: number, addr: string): Promise<void> {
  const links = JSON.parse(await ip('-n', name, '-json', 'link', 'show')) as { ifname: string }[];
  for (const link of links) {
    if (link.ifname.startsWith('eth0.')) {
      await ip('-n', name, 'link', 'del', link.ifname);
    }
  }
  await ip('-n', name, 'addr', 'flush', 'dev', 'eth0');
  let device = 'eth0';
  if (vlan !== 0) {
    device = `eth0.${vlan}`;
    await ip('-n', name, 'link', 'add', 'link', 'eth0', 'name', device, 'type', 'vlan', 'id', String(vlan));
  }
  await ipAll(['-n', name, 'addr', 'add', addr, 'dev', device], ['-n', name, 'link', 'set', device, 'up']);
}

/**
 * The outside: a host on the LAN the router's eth0 also sits on, sending
 * untagged frames through the fabric bridge. It routes the containers'
 * range through the router, so that it can answer a container that is not
 * masqueraded and can try to reach containers directly.
 */
export const outside = {
  namespace: 'outside',
  address: '192.168.64.1',
  /** A second address, for a source a port mapping does not allow. */
  otherAddress: '192.168.64.9',
  /** The router's own address on the LAN, on its eth0. */
  router: '192.168.64.2',
  prefixLength: 24,
  containerRange: '172.16.0.0/12',
} as const;

/**
 * addOutside plugs the outside host into the fabric and gives the router's
 * eth0, the uplink, its address on the LAN; it also gives each container a
 * default route through its gateway.
 */
export async function addOutside(): Promise<void> {
  await addContainer(outside.namespace);
  const len = String(outside.prefixLength);
  await ipAll(
    ['-n', outside.namespace, 'addr', 'add', `${outside.address}/${len}`, 'dev', 'eth0'],
    ['-n', outside.namespace, 'addr', 'add', `${outside.otherAddress}/${len}`, 'dev', 'eth0'],
    ['-n', outside.namespace, 'route', 'add', outside.containerRange, 'via', outside.router],
    ['addr', 'add', `${outside.router}/${len}`, 'dev', 'eth0'],
    ...[net100, net200].map((network) => ['-n', network.container, 'route', 'replace', 'default', 'via', network.gateway]),
  );
}

/** ping reports whether namespace reaches dst; it tries a few times because the first packet also waits for ARP. */
export async function ping(namespace: string, dst: string): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await succeeds(inNamespace(namespace, '/bin/ping', '-c', '1', '-W', '2', dst))) {
      return true;
    }
  }
  return false;
}

/**
 * arpAnswered reports whether anyone answers ARP for dst on the container's
 * device. Unlike ping, this catches a router that answers for its gateway
 * address on the wrong VLAN even when its IP replies would go astray.
 */
export function arpAnswered(namespace: string, device: string, dst: string): Promise<boolean> {
  return succeeds(inNamespace(namespace, '/bin/arping', '-f', '-c', '3', '-w', '3', '-I', device, dst));
}
