/**
 * Checks shared by every request that names IPv4 networks and hosts: one
 * wording for the same mistake whichever field it is made in.
 */
import { invalid } from './errors.js';
import {
  broadcast,
  contains,
  formatAddress,
  formatIPv4,
  formatPrefix,
  masked,
  mustParseIPv4Prefix,
  nextAddress,
  parsePrefix,
  type IPv4Prefix,
  type ParsedAddress,
} from './ipv4.js';
import type { NetworkSpec } from './model.js';
import { quote } from './quote.js';

/** Parses an IPv4 CIDR without host bits; `field` names the request field in errors. */
export function parseIPv4Network(s: string, field: string): IPv4Prefix {
  const parsed = parsePrefix(s);
  if (parsed === undefined) {
    throw invalid(`${field} ${quote(s)} is not a CIDR such as 172.18.0.0/16`);
  }
  if (parsed.family !== 4) {
    throw invalid(`${field} ${s} is not IPv4: only IPv4 networks are supported`);
  }
  const network = masked(parsed.prefix);
  if (network.address !== parsed.prefix.address) {
    throw invalid(`${field} ${s} has host bits set: did you mean ${formatPrefix(network)}?`);
  }
  return network;
}

/**
 * Checks that `a` is a usable host address of `subnet`: inside it and
 * neither its network nor its broadcast address.
 */
export function checkHostAddress(
  subnet: IPv4Prefix,
  a: ParsedAddress,
  what: string,
): asserts a is Extract<ParsedAddress, { family: 4 }> {
  const subnetText = formatPrefix(subnet);
  if (a.family !== 4 || !contains(subnet, a.address)) {
    throw invalid(`${what} ${formatAddress(a)} is not inside subnet ${subnetText}`);
  }
  if (a.address === subnet.address) {
    const firstHost = formatIPv4(nextAddress(subnet.address) ?? 0);
    throw invalid(
      `${what} ${formatIPv4(a.address)} is the network address of ${subnetText}: use a host address such as ${firstHost}`,
    );
  }
  if (a.address === broadcast(subnet)) {
    throw invalid(`${what} ${formatIPv4(a.address)} is the broadcast address of ${subnetText}`);
  }
}

/** Checks that `a` can be a container on `n`: a host address of its subnet other than the gateway. */
export function checkContainerAddress(n: NetworkSpec, a: ParsedAddress): void {
  checkHostAddress(mustParseIPv4Prefix(n.subnet), a, 'container_ip');
  if (formatAddress(a) === n.gateway) {
    throw invalid(`container_ip ${n.gateway} is the gateway of VLAN ${n.vlan}, not a container`);
  }
}
