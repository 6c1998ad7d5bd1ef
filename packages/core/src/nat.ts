/**
 * Source NAT of a network: its own subnet (the spec's `nat` flag) and
 * further source subnets that ConfigureNAT adds.
 */
import { parseIPv4Network } from './addresses.js';
import { invalid } from './errors.js';
import { comparePrefixes, formatPrefix, mustParseIPv4Prefix } from './ipv4.js';
import type { Network } from './model.js';

/**
 * Parses a ConfigureNAT/RemoveNAT source subnet into its canonical form.
 * Empty means the network's own subnet and stays empty.
 */
export function parseNatSource(s: string): string {
  if (s === '') return '';
  const p = parseIPv4Network(s, 'source_subnet');
  if (p.bits === 0) {
    throw invalid(
      `source_subnet ${s} would masquerade every source, including the uplink's own traffic: name a specific subnet`,
    );
  }
  return formatPrefix(p);
}

function sortPrefixes(prefixes: readonly string[]): string[] {
  return prefixes
    .map(mustParseIPv4Prefix)
    .sort(comparePrefixes)
    .map(formatPrefix);
}

/** n with NAT enabled for source (empty: the network's own subnet). */
export function withNat(n: Network, source: string): Network {
  if (source === '' || source === n.subnet) return { ...n, nat: true };
  if (n.natSources.includes(source)) return n;
  return { ...n, natSources: sortPrefixes([...n.natSources, source]) };
}

/** n with NAT removed for source; empty removes all of the network's NAT. */
export function withoutNat(n: Network, source: string): Network {
  if (source === '') return { ...n, nat: false, natSources: [] };
  if (source === n.subnet) return { ...n, nat: false };
  return { ...n, natSources: n.natSources.filter((p) => p !== source) };
}
