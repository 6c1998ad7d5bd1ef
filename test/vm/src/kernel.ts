/** Readers of what the kernel holds, through `ip -json` of the real iproute2. */
import { CommandError, ip } from './command.js';
import { interfaceName, type TestNetwork } from './topology.js';

/** KernelLink is the part of a link the scenario compares. */
export interface KernelLink {
  readonly name: string;
  readonly index: number;
  /** The link type as the kernel names it (vlan, veth, ...); "device" for a plain one. */
  readonly kind: string;
  readonly mtu: number;
  readonly macAddress: string;
  readonly up: boolean;
  readonly alias: string;
  /** Present for a VLAN link only. */
  readonly vlan: { readonly id: number; readonly protocol: string; readonly parentIndex: number } | undefined;
}

export class LinkNotFoundError extends Error {
  constructor(name: string) {
    super(`link ${name} not found`);
    this.name = 'LinkNotFoundError';
  }
}

interface IpLinkJson {
  ifindex: number;
  ifname: string;
  flags?: string[];
  mtu: number;
  address?: string;
  ifalias?: string;
  link?: string;
  link_index?: number;
  linkinfo?: { info_kind?: string; info_data?: { protocol?: string; id?: number } };
}

interface IpAddrJson {
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

/** linkByName reads one link in the router's namespace; an absent link rejects with LinkNotFoundError. */
export async function linkByName(name: string): Promise<KernelLink> {
  const raw = await showLink(name, true);
  const kind = raw.linkinfo?.info_kind ?? 'device';
  let vlan: KernelLink['vlan'];
  if (kind === 'vlan') {
    const data = raw.linkinfo?.info_data ?? {};
    vlan = { id: data.id ?? -1, protocol: data.protocol ?? '', parentIndex: await parentIndex(raw) };
  }
  return {
    name: raw.ifname,
    index: raw.ifindex,
    kind,
    mtu: raw.mtu,
    macAddress: raw.address ?? '',
    up: raw.flags?.includes('UP') ?? false,
    alias: raw.ifalias ?? '',
    vlan,
  };
}

/** linkIndex is the ifindex of a link, or -1 when it cannot be read. */
export async function linkIndex(name: string): Promise<number> {
  try {
    return (await showLink(name, false)).ifindex;
  } catch {
    return -1;
  }
}

/** ipv4Addresses lists a link's IPv4 addresses as address/prefix. */
export async function ipv4Addresses(name: string): Promise<string[]> {
  const entries = JSON.parse(await ip('-json', '-4', 'addr', 'show', 'dev', name)) as IpAddrJson[];
  return entries.flatMap((entry) =>
    (entry.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
  );
}

/**
 * checkKernelVlan checks the link the kernel holds for network: an 802.1Q
 * VLAN with its id on the parent, up, carrying exactly the gateway and no
 * IPv6 address.
 */
export async function checkKernelVlan(network: TestNetwork, parentIfindex: number): Promise<void> {
  const name = interfaceName(network);
  const link = await linkByName(name);
  if (link.vlan === undefined) {
    throw new Error(`${name} is a ${link.kind} link, not vlan`);
  }
  const { id, parentIndex: parent, protocol } = link.vlan;
  if (id !== network.vlan || parent !== parentIfindex || protocol !== '802.1Q') {
    throw new Error(`${name}: id ${id} parent ${parent} protocol ${protocol}`);
  }
  if (!link.up) {
    throw new Error(`${name} is down`);
  }
  const addresses = await ipv4Addresses(name);
  const want = `${network.gateway}/${prefixLength(network.subnet)}`;
  if (addresses.length !== 1 || addresses[0] !== want) {
    throw new Error(`${name} has addresses [${addresses.join(' ')}], want only ${want}`);
  }
  // IPv6 is off on network links: not even a link-local address for a container to reach the router by.
  const ipv6 = (JSON.parse(await ip('-json', '-6', 'addr', 'show', 'dev', name)) as IpAddrJson[]).flatMap((entry) =>
    (entry.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`),
  );
  if (ipv6.length > 0) {
    throw new Error(`${name} has IPv6 addresses [${ipv6.join(' ')}]; IPv6 should be off on a network link`);
  }
}

/** checkForeignIntact checks that the foreign eth0.300 still has no alias and only its own address. */
export async function checkForeignIntact(): Promise<void> {
  const link = await linkByName('eth0.300');
  const addresses = await ipv4Addresses('eth0.300');
  if (link.alias !== '' || addresses.length !== 1 || addresses[0] !== '10.30.0.1/24') {
    throw new Error(`alias "${link.alias}" addresses [${addresses.join(' ')}]`);
  }
}

async function showLink(name: string, details: boolean): Promise<IpLinkJson> {
  let output: string;
  try {
    output = await ip('-json', ...(details ? ['-details'] : []), 'link', 'show', 'dev', name);
  } catch (error) {
    if (error instanceof CommandError && error.output.includes('does not exist')) {
      throw new LinkNotFoundError(name);
    }
    throw error;
  }
  const [raw] = JSON.parse(output) as IpLinkJson[];
  if (raw === undefined) {
    throw new LinkNotFoundError(name);
  }
  return raw;
}

/** iproute2 names the parent when it lives in the same namespace, else gives its index. */
async function parentIndex(raw: IpLinkJson): Promise<number> {
  if (raw.link_index !== undefined) {
    return raw.link_index;
  }
  if (raw.link !== undefined) {
    return (await showLink(raw.link, false)).ifindex;
  }
  return -1;
}

function prefixLength(cidr: string): string {
  const slash = cidr.indexOf('/');
  if (slash < 0) {
    throw new Error(`subnet ${cidr} has no prefix length`);
  }
  return cidr.slice(slash + 1);
}
