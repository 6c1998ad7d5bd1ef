/**
 * What the backend serves for one network, as it needs it: the values of
 * core's DnsNetworkState that reach dnsmasq, each one checked again (see
 * validate.ts), the host names grouped as records of one or more
 * addresses.
 */
import { compareAddresses, invalid, quote, type DnsNetworkState } from '@router-service/core';
import { BACKEND_NAME, checkDomain, checkIPv4, checkName, checkSubnet, checkVlan } from './validate.js';

/** One name and the addresses it answers with. */
export interface HostRecord {
  /** Lower-case host name, without the domain. */
  readonly name: string;
  /** Distinct IPv4 addresses, sorted, at least one. */
  readonly addresses: readonly string[];
}

/** One network's resolver, in the backend's terms. */
export interface DnsmasqNetwork {
  readonly vlan: number;
  /** The only address the resolver listens on. */
  readonly gateway: string;
  /** Canonical IPv4 CIDR: reverse lookups in it are answered here only. */
  readonly subnet: string;
  /** Lower-case, no trailing dot; '' for none. */
  readonly domain: string;
  /** Internal networks get no upstream resolver. */
  readonly internal: boolean;
  /** Sorted by name. */
  readonly records: readonly HostRecord[];
}

/** The host's addresses, each checked; unsorted, maybe repeated. */
function addressesOf(name: string, value: readonly string[]): string[] {
  // Checked as unknown: the state may come from a library user, not core.
  const list: readonly unknown[] = Array.isArray(value) ? value : [];
  if (list.length === 0) throw invalid(`[${BACKEND_NAME}] host ${quote(name)} has no address`);
  return list.map((address) => {
    if (typeof address !== 'string') throw invalid(`[${BACKEND_NAME}] host ${quote(name)} has an address that is not a string`);
    return checkIPv4(address, () => `address of host ${quote(name)}`);
  });
}

/** Distinct and sorted; a single address, the usual case, as it is. */
function distinctSorted(addresses: string[]): string[] {
  return addresses.length === 1 ? addresses : [...new Set(addresses)].sort(compareAddresses);
}

/**
 * The network's resolver as the backend serves it, or undefined when the
 * network has DNS off. Throws an invalid error naming the first value that
 * fails its check.
 */
export function dnsmasqNetworkOf(state: DnsNetworkState): DnsmasqNetwork | undefined {
  const { network } = state;
  if (network.dns === null) return undefined;
  const byName = new Map<string, string[]>();
  for (const [name, value] of Object.entries(network.dns.hosts)) {
    const checked = checkName(name, 'host name');
    const addresses = addressesOf(name, value);
    // Names differing only in case are one name in DNS: their addresses join.
    const known = byName.get(checked);
    if (known === undefined) byName.set(checked, addresses);
    else known.push(...addresses);
  }
  const records = [...byName]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, addresses]) => ({ name, addresses: distinctSorted(addresses) }));
  return {
    vlan: checkVlan(network.vlan),
    gateway: checkIPv4(network.gateway, 'gateway'),
    subnet: checkSubnet(network.subnet),
    domain: checkDomain(network.dns.domain),
    internal: network.internal === true,
    records,
  };
}
