/**
 * The sets and maps of the table and their elements for a FirewallState.
 * Everything the state decides lives here: the rules only look things up.
 * A published range is one element per port in the DNAT maps, so that a
 * lookup stays one hash probe however wide the range, and one interval
 * element in the sets that restrict sources.
 */
import {
  comparePrefixes,
  compareAddresses,
  contains,
  formatIPv4,
  mustParseIPv4Prefix,
  type FirewallState,
  type IPv4Prefix,
  type PortMapping,
  type Protocol,
  PROTOCOLS,
} from '@router-service/core';
import { concat, prefix, type NftExpr } from './nft-json.js';

/** A set or map of the table, with the elements a state puts in it. */
export interface SetSpec {
  readonly name: string;
  readonly type: string | readonly string[];
  /** Elements may be prefixes and ranges (which may not overlap). */
  readonly interval?: boolean;
  /** For maps: the type of the values; each element is then `[key, value]`. */
  readonly map?: string;
  readonly elem: readonly NftExpr[];
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Drops prefixes inside another one (an interval set refuses overlaps) and sorts the rest. */
export function collapsePrefixes(cidrs: readonly string[]): IPv4Prefix[] {
  const sorted = cidrs.map(mustParseIPv4Prefix).sort((a, b) => a.bits - b.bits || comparePrefixes(a, b));
  const kept: IPv4Prefix[] = [];
  for (const p of sorted) if (!kept.some((k) => contains(k, p.address))) kept.push(p);
  return kept.sort(comparePrefixes);
}

/** A prefix as nft lists it back: a /32 is a plain address. */
function cidr(p: IPv4Prefix): NftExpr {
  return p.bits === 32 ? formatIPv4(p.address) : prefix(formatIPv4(p.address), p.bits);
}

function compareMappings(a: PortMapping, b: PortMapping): number {
  return compareAddresses(a.hostIp, b.hostIp) || byString(a.protocol, b.protocol) || a.hostPort - b.hostPort;
}

/**
 * The ports of a mapping for the DNAT maps: one element per port, so that
 * the container port is the host port's partner one-to-one.
 */
function perPort(mappings: readonly PortMapping[], element: (m: PortMapping, hostPort: number, containerPort: number) => NftExpr): NftExpr[] {
  const elements: NftExpr[] = [];
  for (const m of mappings) {
    for (let offset = 0; offset <= m.hostPortEnd - m.hostPort; offset++) elements.push(element(m, m.hostPort + offset, m.containerPort + offset));
  }
  return elements;
}

/** The host ports of a mapping in an interval set: a range is one element. */
function portInterval(m: PortMapping): NftExpr {
  return m.hostPortEnd === m.hostPort ? m.hostPort : { range: [m.hostPort, m.hostPortEnd] };
}

/** Where the source restrictions of one kind of published port (on one host address, or on every address) are kept. */
interface RestrictedKind {
  /** The keys that only some sources may reach: one element per mapping. */
  readonly restricted: string;
  /** The sources allowed to reach them: one element per mapping and source. */
  readonly allowed: string;
  /** The key of `restricted`. */
  readonly keyType: readonly string[];
  /** The key of `allowed`: the key with the source where the rule reads `ip saddr`. */
  readonly allowedType: readonly string[];
  /** The key's fields for a host port (a number, or an interval). */
  key(m: PortMapping, port: NftExpr): NftExpr[];
  allowedKey(m: PortMapping, source: NftExpr): NftExpr[];
}

const ON_HOST_IP: RestrictedKind = {
  restricted: 'restricted',
  allowed: 'allowed',
  keyType: ['ipv4_addr', 'inet_proto', 'inet_service'],
  allowedType: ['ipv4_addr', 'ipv4_addr', 'inet_proto', 'inet_service'],
  key: (m, port) => [m.hostIp, m.protocol, port],
  allowedKey: (m, source) => [m.hostIp, source, m.protocol, portInterval(m)],
};

const ON_EVERY_ADDRESS: RestrictedKind = {
  restricted: 'restricted_any',
  allowed: 'allowed_any',
  keyType: ['inet_proto', 'inet_service'],
  allowedType: ['ipv4_addr', 'inet_proto', 'inet_service'],
  key: (m, port) => [m.protocol, port],
  allowedKey: (m, source) => [source, m.protocol, portInterval(m)],
};

/**
 * Source restrictions are interval sets holding a range as one element:
 * their size follows the number of mappings and sources, not of ports.
 */
function restrictedSets(kind: RestrictedKind, mappings: readonly PortMapping[]): SetSpec[] {
  const restricted = mappings.filter((m) => m.sources.length > 0);
  return [
    { name: kind.restricted, type: kind.keyType, interval: true, elem: restricted.map((m) => concat(...kind.key(m, portInterval(m)))) },
    {
      name: kind.allowed,
      type: kind.allowedType,
      interval: true,
      elem: restricted.flatMap((m) => m.sources.map((s) => concat(...kind.allowedKey(m, cidr(mustParseIPv4Prefix(s)))))),
    },
  ];
}

/** The DNAT maps `<name>_addr` and `<name>_port`, with the same keys: the container's address and its port. */
function dnatMaps(name: string, keyType: string | readonly string[], key: (m: PortMapping, hostPort: number) => NftExpr, mappings: readonly PortMapping[]): SetSpec[] {
  return [
    { name: `${name}_addr`, type: keyType, map: 'ipv4_addr', elem: perPort(mappings, (m, hostPort) => [key(m, hostPort), m.containerIp]) },
    {
      name: `${name}_port`,
      type: keyType,
      map: 'inet_service',
      elem: perPort(mappings, (m, hostPort, containerPort) => [key(m, hostPort), containerPort]),
    },
  ];
}

/** The name of the DNAT maps of `protocol`'s ports published on every address. */
export function publishedAnywhere(protocol: Protocol): string {
  return `published_any_${protocol}`;
}

/** Every set and map of the table, in declaration order, filled from `state`. */
export function sets(state: FirewallState): SetSpec[] {
  const networks = [...state.networks].sort((a, b) => byString(a.interfaceName, b.interfaceName));
  const mappings = [...state.portMappings].sort(compareMappings);
  const onHostIp = mappings.filter((m) => m.hostIp !== '');
  const onEveryAddress = mappings.filter((m) => m.hostIp === '');
  const natSources = networks.flatMap(({ network }) => [...(network.nat ? [network.subnet] : []), ...network.natSources]);
  return [
    { name: 'networks', type: 'ifname', elem: networks.map((n) => n.interfaceName) },
    { name: 'internal', type: 'ifname', elem: networks.filter((n) => n.network.internal).map((n) => n.interfaceName) },
    {
      name: 'subnets',
      type: ['ifname', 'ipv4_addr'],
      interval: true,
      elem: networks.map((n) => concat(n.interfaceName, cidr(mustParseIPv4Prefix(n.network.subnet)))),
    },
    { name: 'gateways', type: ['ifname', 'ipv4_addr'], elem: networks.map((n) => concat(n.interfaceName, n.network.gateway)) },
    {
      name: 'nat_sources',
      type: 'ipv4_addr',
      interval: true,
      elem: collapsePrefixes(natSources).map(cidr),
    },
    ...dnatMaps('published', ON_HOST_IP.keyType, (m, hostPort) => concat(...ON_HOST_IP.key(m, hostPort)), onHostIp),
    ...restrictedSets(ON_HOST_IP, onHostIp),
    // Keyed by the port alone, not by protocol and port: nft takes about
    // twice as long to add or delete an element with a concatenated key,
    // and every port call changes two elements.
    ...PROTOCOLS.flatMap((protocol) =>
      dnatMaps(publishedAnywhere(protocol), 'inet_service', (_m, hostPort) => hostPort, onEveryAddress.filter((m) => m.protocol === protocol)),
    ),
    ...restrictedSets(ON_EVERY_ADDRESS, onEveryAddress),
  ];
}
