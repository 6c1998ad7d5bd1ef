/** What the kernel of a namespace holds for a link, as `ip -json` reports it. */
import { IP, runProcess, type Netns } from '@router-service/test-support';

export interface LinkView {
  readonly ifindex: number;
  readonly mtu: number;
  readonly up: boolean;
  readonly mac: string;
  /** The 802.1Q id for a VLAN link. */
  readonly vlanId: number | undefined;
  /** The link it sits on (e.g. eth0). */
  readonly parent: string | undefined;
  /** IPv4 addresses as ADDRESS/PREFIX. */
  readonly ipv4: readonly string[];
}

interface IpLink {
  ifindex: number;
  mtu: number;
  flags: string[];
  address: string;
  link?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number } };
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

/** The link named `name` in ns, or undefined if there is none. */
export async function showLink(ns: Netns, name: string): Promise<LinkView | undefined> {
  const link = await runProcess(IP, ['-n', ns.name, '-details', '-json', 'link', 'show', 'dev', name]);
  if (link.code !== 0) {
    if (link.stderr.includes('does not exist')) return undefined;
    throw new Error(`ip link show ${name}: ${link.stderr}`);
  }
  const addresses = await runProcess(IP, ['-n', ns.name, '-json', 'address', 'show', 'dev', name]);
  const [details] = JSON.parse(link.stdout) as IpLink[];
  const [withAddresses] = JSON.parse(addresses.stdout) as IpLink[];
  if (details === undefined) return undefined;
  return {
    ifindex: details.ifindex,
    mtu: details.mtu,
    up: details.flags.includes('UP'),
    mac: details.address,
    vlanId: details.linkinfo?.info_kind === 'vlan' ? details.linkinfo.info_data?.id : undefined,
    parent: details.link,
    ipv4: (withAddresses?.addr_info ?? [])
      .filter((address) => address.family === 'inet')
      .map((address) => `${address.local}/${address.prefixlen}`),
  };
}

/** Names of the VLAN links in ns, sorted. */
export async function vlanLinks(ns: Netns): Promise<string[]> {
  const out = await ns.ip('-details', '-json', 'link', 'show', 'type', 'vlan');
  const links = JSON.parse(out === '' ? '[]' : out) as { ifname: string }[];
  return links.map((link) => link.ifname).sort();
}
