/**
 * Interface addresses as iproute2 reports and takes them, over core's IPv4
 * parsing.
 */
import { formatIPv4, formatPrefix, invalid, masked, mustParseIPv4, parsePrefix } from '@router-service/core';

/** An IPv4 address with a prefix length, e.g. 172.18.0.1/16. */
export interface Ipv4Interface {
  address: string;
  prefixLength: number;
}

/** Parses "a.b.c.d/n" in canonical form (no leading zeros); throws an invalid error otherwise. */
export function parseIpv4Interface(text: string): Ipv4Interface {
  const parsed = parsePrefix(text);
  if (parsed?.family !== 4 || formatPrefix(parsed.prefix) !== text) {
    throw invalid(`invalid IPv4 address with prefix length "${text}"`);
  }
  return { address: formatIPv4(parsed.prefix.address), prefixLength: parsed.prefix.bits };
}

/** The network of an address: 10.1.2.3 with 16 gives "10.1.0.0/16". */
export function ipv4Network(address: string, prefixLength: number): string {
  return formatPrefix(masked({ address: mustParseIPv4(address), bits: prefixLength }));
}
