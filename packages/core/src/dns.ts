/**
 * Container-name DNS of a network: the domain and host names its gateway
 * answers. Names are RFC 1123 host names and compare case-insensitively;
 * one name may have several addresses (answered round robin) and several
 * names one address (aliases).
 */
import { sameItems } from './arrays.js';
import { checkHostAddress } from './addresses.js';
import { invalid } from './errors.js';
import { compareAddresses, formatIPv4, mustParseIPv4Prefix, parseAddress, type ParsedAddress } from './ipv4.js';
import type { DnsConfig, Network } from './model.js';
import { quote } from './quote.js';

/** The longest host name DNS carries, without the trailing dot (RFC 1035 2.3.4). */
export const MAX_DNS_NAME_LENGTH = 253;
/** The longest label of a host name (RFC 1035 2.3.4). */
export const MAX_DNS_LABEL_LENGTH = 63;

/** A name with the addresses it answers, as a request gives it. */
export interface DnsHost {
  name: string;
  /** At least one IPv4 address. */
  addresses: readonly string[];
}

/** A ConfigureDNS request as received, without its VLAN id. */
export interface DnsRequest {
  /** Empty, or the network's subnet exactly. */
  subnet: string;
  /** Empty, or the network's gateway exactly. */
  gateway: string;
  domain: string;
  /** Name -> one address. */
  hosts: Readonly<Record<string, string>>;
  /**
   * Names with one or more addresses each. A name given here and in
   * `hosts`, or given twice (names compare case-insensitively), gets every
   * address the request gives it.
   */
  hostAddresses?: readonly DnsHost[] | undefined;
  /** Replace the network's host names instead of merging into them. */
  replaceHosts: boolean;
}

const HOSTNAME_CHARACTERS = /^[A-Za-z0-9-]+$/;

/**
 * Checks that s is a valid host name (dot-separated labels of letters,
 * digits and inner hyphens, 1 to 63 characters each, 253 in all) and
 * lower-cases it. Only ASCII passes, so that what reaches a resolver's
 * files and arguments is exactly these characters.
 */
function normalizeDnsName(s: string, what: string): string {
  if (s === '' || Buffer.byteLength(s, 'utf8') > MAX_DNS_NAME_LENGTH) {
    throw invalid(`${what} ${quote(s)} must be 1 to ${MAX_DNS_NAME_LENGTH} characters long`);
  }
  for (const label of s.split('.')) {
    const length = Buffer.byteLength(label, 'utf8');
    if (length === 0 || length > MAX_DNS_LABEL_LENGTH) {
      throw invalid(`${what} ${quote(s)} has an empty or over-long (>${MAX_DNS_LABEL_LENGTH}) label`);
    }
    if (label.startsWith('-') || label.endsWith('-')) {
      throw invalid(`${what} ${quote(s)} has a label that starts or ends with a hyphen`);
    }
    if (!HOSTNAME_CHARACTERS.test(label)) {
      throw invalid(`${what} ${quote(s)} is not a valid hostname: use letters, digits, hyphens and dots`);
    }
  }
  return s.toLowerCase();
}

function normalizeDomain(domain: string): string {
  return domain === '' ? '' : normalizeDnsName(domain.endsWith('.') ? domain.slice(0, -1) : domain, 'domain');
}

/** Checks names as RemoveDNSHosts receives them. */
export function validateDnsNames(names: readonly string[]): void {
  for (const name of names) normalizeDnsName(name, 'host name');
}

/** Every (name, addresses) pair of a request, from both of its fields. */
function* requestedEntries(req: DnsRequest): Generator<[name: string, addresses: readonly string[]]> {
  for (const [name, address] of Object.entries(req.hosts)) yield [name, [address]];
  for (const host of req.hostAddresses ?? []) yield [host.name, host.addresses];
}

/**
 * The request's names, lower-cased, each with every address the request
 * gives it, parsed. Throws invalid for a malformed name or address, or a
 * name given without any address.
 */
function parseRequestedHosts(req: DnsRequest): Map<string, ParsedAddress[]> {
  const hosts = new Map<string, ParsedAddress[]>();
  for (const [name, addresses] of requestedEntries(req)) {
    const host = normalizeDnsName(name, 'host name');
    if (addresses.length === 0) throw invalid(`host ${host} has no address: RemoveDNSHosts removes a name`);
    const parsed = hosts.get(host) ?? [];
    for (const text of addresses) {
      const address = parseAddress(text);
      if (address === undefined) throw invalid(`host ${host}: ${quote(text)} is not an IP address`);
      parsed.push(address);
    }
    hosts.set(host, parsed);
  }
  return hosts;
}

/** Checks everything of a request that does not depend on the network, so that it is invalid whatever the state. */
export function validateDnsRequest(req: DnsRequest): void {
  normalizeDomain(req.domain);
  parseRequestedHosts(req);
}

/** Distinct addresses in numeric order. */
function sortedAddresses(addresses: Iterable<string>): string[] {
  return [...new Set(addresses)].sort(compareAddresses);
}

function sortedHosts(hosts: ReadonlyMap<string, readonly string[]>): Record<string, string[]> {
  return Object.fromEntries([...hosts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, addresses]) => [name, [...addresses]]));
}

/** Checks that every name, qualified with the domain, is still a name DNS can carry. */
function checkQualifiedNames(names: Iterable<string>, domain: string): void {
  if (domain === '') return;
  for (const name of names) {
    const length = name.length + 1 + domain.length;
    if (length > MAX_DNS_NAME_LENGTH) {
      throw invalid(`host name ${name}.${domain} would be ${length} characters long: the limit is ${MAX_DNS_NAME_LENGTH}`);
    }
  }
}

/**
 * Validates req against the network and returns n with the resulting DNS
 * configuration: each name the request gives gets exactly the addresses
 * the request gives it; other names are kept, or dropped with replaceHosts.
 */
export function withDns(n: Network, req: DnsRequest): Network {
  if (req.subnet !== '' && req.subnet !== n.subnet) {
    throw invalid(`subnet ${req.subnet} does not match VLAN ${n.vlan}'s subnet ${n.subnet}`);
  }
  if (req.gateway !== '' && req.gateway !== n.gateway) {
    throw invalid(`gateway ${req.gateway} does not match VLAN ${n.vlan}'s gateway ${n.gateway}`);
  }
  const domain = normalizeDomain(req.domain);
  const hosts = new Map<string, readonly string[]>(n.dns !== null && !req.replaceHosts ? Object.entries(n.dns.hosts) : []);
  const subnet = mustParseIPv4Prefix(n.subnet);
  for (const [host, addresses] of parseRequestedHosts(req)) {
    const formatted = addresses.map((address) => {
      checkHostAddress(subnet, address, `host ${host} address`);
      return formatIPv4(address.address);
    });
    hosts.set(host, sortedAddresses(formatted));
  }
  checkQualifiedNames(hosts.keys(), domain);
  return { ...n, dns: { domain, hosts: sortedHosts(hosts) } };
}

/** n without the named hosts, each with all its addresses; absent names are ignored, invalid ones rejected. */
export function withoutDnsHosts(n: Network, names: readonly string[]): Network {
  if (n.dns === null) return n;
  const hosts = new Map<string, readonly string[]>(Object.entries(n.dns.hosts));
  for (const name of names) hosts.delete(normalizeDnsName(name, 'host name'));
  return { ...n, dns: { domain: n.dns.domain, hosts: sortedHosts(hosts) } };
}

export function dnsConfigsEqual(a: DnsConfig | null, b: DnsConfig | null): boolean {
  if (a === null || b === null) return a === b;
  const aNames = Object.keys(a.hosts);
  return (
    a.domain === b.domain &&
    aNames.length === Object.keys(b.hosts).length &&
    aNames.every((name) => Object.hasOwn(b.hosts, name) && sameItems(a.hosts[name] ?? [], b.hosts[name] ?? []))
  );
}
