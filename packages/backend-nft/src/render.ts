/**
 * The whole `inet router_service` table for a FirewallState, as one nft JSON
 * batch. Rules are static: what changes with the desired state is only the
 * content of sets and maps, so each decision is one lookup however many
 * networks or published ports there are.
 *
 * The batch first adds the table, then deletes it, then declares it again
 * in full: `add` of an existing table is a no-op and makes the `delete`
 * valid whether or not the table existed, and since nft applies a batch as
 * one transaction, packets see either the old table or the new one.
 */
import {
  comparePrefixes,
  compareAddresses,
  contains,
  formatPrefix,
  mustParseIPv4Prefix,
  type FirewallState,
  type IPv4Prefix,
  type PortMapping,
} from '@router-service/core';
import {
  METAINFO,
  accept,
  concat,
  ct,
  drop,
  masquerade,
  match,
  meta,
  payload,
  prefix,
  setRef,
  type NftCommand,
  type NftExpr,
  type NftJson,
} from './nft-json.js';

export const FAMILY = 'inet';
export const TABLE = 'router_service';

/** A base chain: where it hooks into the stack. */
export interface ChainSpec {
  readonly name: string;
  readonly type: 'filter' | 'nat';
  readonly hook: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
  /** nft's numeric priority: raw -300, dstnat -100, filter 0, srcnat 100. */
  readonly prio: number;
}

/** Every chain of the table. All have policy accept: we decide only about our own networks. */
export const CHAINS: readonly ChainSpec[] = [
  { name: 'antispoof', type: 'filter', hook: 'prerouting', prio: -300 },
  { name: 'dnat_prerouting', type: 'nat', hook: 'prerouting', prio: -100 },
  { name: 'dnat_output', type: 'nat', hook: 'output', prio: -100 },
  { name: 'input', type: 'filter', hook: 'input', prio: 0 },
  { name: 'forward', type: 'filter', hook: 'forward', prio: 0 },
  { name: 'snat_postrouting', type: 'nat', hook: 'postrouting', prio: 100 },
];

const ipv4 = match(meta('nfproto'), 'ipv4');
const iifname = meta('iifname');
const oifname = meta('oifname');
const saddr = payload('ip', 'saddr');
const daddr = payload('ip', 'daddr');
const l4proto = meta('l4proto');
const dport = payload('th', 'dport');
const localDestination = match({ fib: { result: 'type', flags: ['daddr'] } }, 'local');
const establishedOrRelated = match(ct('state'), ['established', 'related'], 'in');

/**
 * DNAT through maps: the host-address maps first, then the every-address
 * ones. Each published port is a pair of maps with the same keys, one giving
 * the container address and one its port, because libnftables 1.0.6 (Debian
 * 12) cannot declare a map with concatenated data (`: ipv4_addr .
 * inet_service`) in JSON: it makes a plain set of it, and a rule using it
 * crashes nft.
 */
function dnatThrough(key: NftExpr, maps: string): NftExpr {
  return {
    dnat: { family: 'ip', addr: { map: { key, data: setRef(`${maps}_addr`) } }, port: { map: { key, data: setRef(`${maps}_port`) } } },
  };
}

function publishRules(...conditions: NftExpr[]): NftExpr[][] {
  return [
    [ipv4, ...conditions, localDestination, dnatThrough(concat(daddr, l4proto, dport), 'published')],
    [ipv4, ...conditions, localDestination, dnatThrough(concat(l4proto, dport), 'published_any')],
  ];
}

/** The rules of each chain, in order. They name the uplink; everything else comes from sets and maps. */
function rules(uplink: string): Record<string, NftExpr[][]> {
  return {
    // A packet from a network's interface must come from that network's subnet.
    antispoof: [[ipv4, match(iifname, setRef('networks')), match(concat(iifname, saddr), setRef('subnets'), '!='), drop]],
    dnat_prerouting: publishRules(),
    // Published ports reached from the router itself. Loopback destinations
    // are left alone: publishing on 127.0.0.1 needs route_localnet, which
    // this backend does not turn on.
    dnat_output: publishRules(match(daddr, prefix('127.0.0.0', 8), '!=')),
    input: [
      [match(iifname, setRef('networks')), establishedOrRelated, accept],
      [ipv4, match(concat(iifname, daddr), setRef('gateways')), match(payload('icmp', 'type'), 'echo-request'), accept],
      [ipv4, match(concat(iifname, daddr), setRef('gateways')), match(l4proto, { set: ['tcp', 'udp'] }), match(dport, 53), accept],
      [match(iifname, setRef('networks')), drop],
    ],
    forward: [
      [establishedOrRelated, accept],
      [match(ct('status'), 'dnat', 'in'), accept],
      [match(iifname, setRef('networks')), match(iifname, setRef('internal'), '!='), match(oifname, uplink), accept],
      [match(iifname, setRef('networks')), drop],
      [match(oifname, setRef('networks')), drop],
    ],
    snat_postrouting: [
      [ipv4, match(saddr, setRef('nat_sources')), match(oifname, uplink), masquerade],
      // Hairpin: a published port reached from the network it forwards to.
      // The postrouting hook has no input interface, so "the source is in a
      // network" is asked as "the source is in the subnet of the interface
      // the packet leaves by"; traffic between two networks needs no
      // masquerade, as the router is on its path both ways.
      [ipv4, match(ct('status'), 'dnat', 'in'), match(concat(oifname, saddr), setRef('subnets')), masquerade],
    ],
  };
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Drops prefixes inside another one (an interval set refuses overlaps) and sorts the rest. */
export function collapsePrefixes(cidrs: readonly string[]): IPv4Prefix[] {
  const sorted = cidrs.map(mustParseIPv4Prefix).sort((a, b) => a.bits - b.bits || comparePrefixes(a, b));
  const kept: IPv4Prefix[] = [];
  for (const p of sorted) if (!kept.some((k) => contains(k, p.address))) kept.push(p);
  return kept.sort(comparePrefixes);
}

function cidr(p: IPv4Prefix): NftExpr {
  const [addr = '', len = '32'] = formatPrefix(p).split('/');
  return prefix(addr, Number(len));
}

function compareMappings(a: PortMapping, b: PortMapping): number {
  return compareAddresses(a.hostIp, b.hostIp) || byString(a.protocol, b.protocol) || a.hostPort - b.hostPort;
}

interface SetSpec {
  name: string;
  type: string | string[];
  interval?: boolean;
  /** For maps: the type of the values. */
  map?: string;
  elem: NftExpr[];
}

function setCommand(spec: SetSpec): NftCommand {
  const body: Record<string, NftExpr> = { family: FAMILY, table: TABLE, name: spec.name, type: spec.type };
  if (spec.map !== undefined) body.map = spec.map;
  if (spec.interval === true) body.flags = ['interval'];
  // nft refuses an empty element list: an empty set simply has none.
  if (spec.elem.length > 0) body.elem = spec.elem;
  return { add: { [spec.map === undefined ? 'set' : 'map']: body } };
}

/** The address map and the port map of one kind of published port. */
function publishedMaps(name: string, type: string[], mappings: readonly PortMapping[], key: (m: PortMapping) => NftExpr): SetSpec[] {
  return [
    { name: `${name}_addr`, type, map: 'ipv4_addr', elem: mappings.map((m) => [key(m), m.containerIp]) },
    { name: `${name}_port`, type, map: 'inet_service', elem: mappings.map((m) => [key(m), m.containerPort]) },
  ];
}

/** The sets and maps, filled from the state. */
function sets(state: FirewallState): SetSpec[] {
  const networks = [...state.networks].sort((a, b) => byString(a.interfaceName, b.interfaceName));
  const mappings = [...state.portMappings].sort(compareMappings);
  const hostIpMappings = mappings.filter((m) => m.hostIp !== '');
  const anyAddressMappings = mappings.filter((m) => m.hostIp === '');
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
    { name: 'nat_sources', type: 'ipv4_addr', interval: true, elem: collapsePrefixes(natSources).map(cidr) },
    ...publishedMaps('published', ['ipv4_addr', 'inet_proto', 'inet_service'], hostIpMappings, (m) => concat(m.hostIp, m.protocol, m.hostPort)),
    ...publishedMaps('published_any', ['inet_proto', 'inet_service'], anyAddressMappings, (m) => concat(m.protocol, m.hostPort)),
  ];
}

const table = { table: { family: FAMILY, name: TABLE } };

/** The nft JSON batch that replaces our table with the one `state` asks for. Pure. */
export function render(state: FirewallState): NftJson {
  const chainRules = rules(state.uplink);
  return {
    nftables: [
      METAINFO,
      { add: table },
      { delete: table },
      { add: table },
      ...sets(state).map(setCommand),
      ...CHAINS.map(
        (c): NftCommand => ({
          add: { chain: { family: FAMILY, table: TABLE, name: c.name, type: c.type, hook: c.hook, prio: c.prio, policy: 'accept' } },
        }),
      ),
      ...CHAINS.flatMap((c) =>
        (chainRules[c.name] ?? []).map((expr): NftCommand => ({ add: { rule: { family: FAMILY, table: TABLE, chain: c.name, expr } } })),
      ),
    ],
  };
}

/** The batch that removes our table, whether or not it exists. */
export function renderTeardown(): NftJson {
  return { nftables: [METAINFO, { add: table }, { delete: table }] };
}
