/**
 * Container-name DNS of a network: the domain and host names its gateway
 * answers. Names are RFC 1123 host names and compare case-insensitively.
 */
import { checkHostAddress } from './addresses.js';
import { invalid } from './errors.js';
import { formatIPv4, mustParseIPv4Prefix, parseAddress } from './ipv4.js';
import type { DnsConfig, Network } from './model.js';
import { quote } from './quote.js';

/** A ConfigureDNS request as received, without its VLAN id. */
export interface DnsRequest {
  /** Empty, or the network's subnet exactly. */
  subnet: string;
  /** Empty, or the network's gateway exactly. */
  gateway: string;
  domain: string;
  hosts: Readonly<Record<string, string>>;
  /** Replace the network's host names instead of merging into them. */
  replaceHosts: boolean;
}

const HOSTNAME_CHARACTERS = /^[A-Za-z0-9-]+$/;

/**
 * Checks that s is a valid host name (dot-separated labels of letters,
 * digits and inner hyphens, 1 to 63 characters each, 253 in all) and
 * lower-cases it.
 */
function normalizeDnsName(s: string, what: string): string {
  if (s === '' || Buffer.byteLength(s, 'utf8') > 253) {
    throw invalid(`${what} ${quote(s)} must be 1 to 253 characters long`);
  }
  for (const label of s.split('.')) {
    const length = Buffer.byteLength(label, 'utf8');
    if (length === 0 || length > 63) {
      throw invalid(`${what} ${quote(s)} has an empty or over-long (>63) label`);
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

/** Checks everything of a request that does not depend on the network, so that it is invalid whatever the state. */
export function validateDnsRequest(req: DnsRequest): void {
  normalizeDomain(req.domain);
  for (const [name, ip] of Object.entries(req.hosts)) {
    normalizeDnsName(name, 'host name');
    if (parseAddress(ip) === undefined) throw invalid(`host ${name}: ${quote(ip)} is not an IP address`);
  }
}

function sortedHosts(hosts: ReadonlyMap<string, string>): Record<string, string> {
  return Object.fromEntries([...hosts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Validates req against the network and returns n with the resulting DNS
 * configuration: hosts merged into the existing names, or replacing them.
 */
export function withDns(n: Network, req: DnsRequest): Network {
  if (req.subnet !== '' && req.subnet !== n.subnet) {
    throw invalid(`subnet ${req.subnet} does not match VLAN ${n.vlan}'s subnet ${n.subnet}`);
  }
  if (req.gateway !== '' && req.gateway !== n.gateway) {
    throw invalid(`gateway ${req.gateway} does not match VLAN ${n.vlan}'s gateway ${n.gateway}`);
  }
  const domain = normalizeDomain(req.domain);
  const hosts = new Map<string, string>(n.dns !== null && !req.replaceHosts ? Object.entries(n.dns.hosts) : []);
  const subnet = mustParseIPv4Prefix(n.subnet);
  for (const [name, ip] of Object.entries(req.hosts)) {
    const host = normalizeDnsName(name, 'host name');
    const address = parseAddress(ip);
    if (address === undefined) throw invalid(`host ${name}: ${quote(ip)} is not an IP address`);
    checkHostAddress(subnet, address, `host ${host} address`);
    hosts.set(host, formatIPv4(address.address));
  }
  return { ...n, dns: { domain, hosts: sortedHosts(hosts) } };
}

/** n without the named hosts; absent names are ignored, invalid ones rejected. */
export function withoutDnsHosts(n: Network, names: readonly string[]): Network {
  if (n.dns === null) return n;
  const hosts = new Map(Object.entries(n.dns.hosts));
  for (const name of names) hosts.delete(normalizeDnsName(name, 'host name'));
  return { ...n, dns: { domain: n.dns.domain, hosts: sortedHosts(hosts) } };
}

export function dnsConfigsEqual(a: DnsConfig | null, b: DnsConfig | null): boolean {
  if (a === null || b === null) return a === b;
  const aNames = Object.keys(a.hosts);
  return (
    a.domain === b.domain &&
    aNames.length === Object.keys(b.hosts).length &&
    aNames.every((name) => Object.hasOwn(b.hosts, name) && a.hosts[name] === b.hosts[name])
  );
}
