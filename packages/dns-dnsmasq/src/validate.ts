/**
 * The backend's own checks of every value it writes into a hosts file or an
 * argument of dnsmasq. Core validates requests already; these run again
 * here (defence in depth) so that no value this package did not check
 * itself reaches dnsmasq, whatever the caller. They are strict allow-lists:
 * a value is refused unless it has exactly the expected shape.
 */
import { formatIPv4, invalid, parseAddress, parseIPv4, parsePrefix, quote } from '@router-service/core';

export const BACKEND_NAME = 'dnsmasq';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const MAX_NAME_LENGTH = 253;
const PORT = /^[1-9][0-9]{0,4}$/;
/** Control characters, which no path we hand dnsmasq may hold. */
const CONTROL = /[\u0000-\u001f\u007f]/;

function refuse(what: string, value: string, why: string): never {
  throw invalid(`[${BACKEND_NAME}] ${what} ${quote(value)} ${why}`);
}

/**
 * A host or domain name as dnsmasq gets it: lower-case RFC 1123 labels of
 * letters, digits and inner hyphens, 1 to 63 characters each, 253 in all,
 * no trailing dot. Upper-case letters are lowered; anything else is refused.
 */
export function checkName(name: string, what: string): string {
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) refuse(what, name, `must be 1 to ${MAX_NAME_LENGTH} characters long`);
  // Checked before lowering: toLowerCase maps some non-ASCII letters (the
  // Kelvin sign) onto ASCII ones.
  if (!name.split('.').every((label) => LABEL.test(label))) {
    refuse(what, name, 'must be dot-separated labels of 1 to 63 letters, digits and inner hyphens');
  }
  return name.toLowerCase();
}

/** A domain: a name, or '' for none. */
export function checkDomain(domain: string): string {
  return domain === '' ? '' : checkName(domain, 'domain');
}

/**
 * An IPv4 address in canonical dotted-quad form. `what` may be a function,
 * so that a description costly to build is built only for a refusal.
 */
export function checkIPv4(address: string, what: string | (() => string)): string {
  const parsed = parseIPv4(address);
  if (parsed === undefined || formatIPv4(parsed) !== address) refuse(typeof what === 'string' ? what : what(), address, 'is not an IPv4 address in dotted-quad form');
  return address;
}

/** An IPv4 CIDR in canonical form, host bits clear. */
export function checkSubnet(subnet: string): string {
  const parsed = parsePrefix(subnet);
  if (parsed?.family !== 4 || `${formatIPv4(parsed.prefix.address)}/${parsed.prefix.bits}` !== subnet) {
    refuse('subnet', subnet, 'is not an IPv4 CIDR in canonical form');
  }
  const { address, bits } = parsed.prefix;
  if (bits < 32 && address % 2 ** (32 - bits) !== 0) refuse('subnet', subnet, 'has host bits set');
  return subnet;
}

/** An 802.1Q id, which names the network's directory. */
export function checkVlan(vlan: number): number {
  if (!Number.isInteger(vlan) || vlan < 1 || vlan > 4094) refuse('VLAN', String(vlan), 'is not an integer from 1 to 4094');
  return vlan;
}

/**
 * An upstream resolver as `--server` takes it: an IPv4 address, or an
 * IPv6 one without a zone, each in canonical form, optionally followed by
 * `#port`.
 */
export function checkUpstream(upstream: string): string {
  const hash = upstream.indexOf('#');
  const address = hash < 0 ? upstream : upstream.slice(0, hash);
  const port = hash < 0 ? undefined : upstream.slice(hash + 1);
  const parsed = parseAddress(address);
  const canonical = parsed?.family === 4 ? formatIPv4(parsed.address) : parsed?.text;
  if (parsed === undefined || canonical !== address || address.includes('%')) refuse('upstream', upstream, 'is not an IP address in canonical form');
  if (port !== undefined && (!PORT.test(port) || Number(port) > 65535)) refuse('upstream', upstream, 'has a port that is not 1 to 65535');
  return upstream;
}

/** A file or directory path for an argument: absolute, without control characters. */
export function checkPath(path: string, what: string): string {
  if (!path.startsWith('/') || CONTROL.test(path)) refuse(what, path, 'must be an absolute path without control characters');
  return path;
}

/** A named network namespace as `ip netns` names it: a file name under /run/netns. */
export function checkNetnsName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/.test(name)) refuse('network namespace', name, 'must be letters, digits, dots, hyphens and underscores');
  return name;
}
