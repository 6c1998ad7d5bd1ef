import { invalid } from '@router-service/core';

const IPV4_WITH_PREFIX = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** An IPv4 address with a prefix length, e.g. 172.18.0.1/16. */
export interface Ipv4Interface {
  address: string;
  prefixLength: number;
}

/** Parses "a.b.c.d/n" in canonical form (no leading zeros); throws an invalid error otherwise. */
export function parseIpv4Interface(text: string): Ipv4Interface {
  const match = IPV4_WITH_PREFIX.exec(text);
  const octets = match?.slice(1, 5).map(Number) ?? [];
  const prefixLength = Number(match?.[5]);
  const canonical = `${octets.join('.')}/${prefixLength}`;
  if (!match || octets.some((o) => o > 255) || prefixLength > 32 || canonical !== text) {
    throw invalid(`invalid IPv4 address with prefix length "${text}"`);
  }
  return { address: octets.join('.'), prefixLength };
}

/** The network of an address: 10.1.2.3 with 16 gives "10.1.0.0/16". */
export function ipv4Network(address: string, prefixLength: number): string {
  const value = address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const size = 2 ** (32 - prefixLength);
  const network = value - (value % size);
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256);
  return `${octets.join('.')}/${prefixLength}`;
}
