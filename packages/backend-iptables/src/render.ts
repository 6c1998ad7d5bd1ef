/**
 * The chains and jumps a FirewallState asks for: one chain of ours per
 * built-in chain we hook into, holding per-network rules, and the tree of
 * published ports (dnat-tree.ts) under `RS-DNAT`.
 *
 * Decisions that let a packet through are RETURN, not ACCEPT: back in the
 * built-in chain, rules that are not ours still have their say, as other
 * nftables tables do beside the nft backend's.
 */
import { comparePrefixes, contains, formatPrefix, mustParseIPv4Prefix, type FirewallState, type IPv4Prefix } from '@router-service/core';
import { DNAT_CHAIN, changedDnatChains, dnatChains, type Chain } from './dnat-tree.js';
import { dport, formatRule, host } from './rule.js';
import { jumpRule, type OwnedRuleset, type OwnedTable, type TableName } from './ruleset.js';

/** Where a chain of ours hangs off a built-in chain. */
export interface Hook {
  readonly table: TableName;
  readonly builtin: string;
  readonly chain: string;
}

/** Every jump from a built-in chain into ours; each chain of ours is named after the built-in chain it serves. */
export const HOOKS: readonly Hook[] = [
  { table: 'raw', builtin: 'PREROUTING', chain: 'RS-PREROUTING' },
  { table: 'nat', builtin: 'PREROUTING', chain: 'RS-PREROUTING' },
  { table: 'nat', builtin: 'OUTPUT', chain: 'RS-OUTPUT' },
  { table: 'nat', builtin: 'POSTROUTING', chain: 'RS-POSTROUTING' },
  { table: 'filter', builtin: 'INPUT', chain: 'RS-INPUT' },
  { table: 'filter', builtin: 'FORWARD', chain: 'RS-FORWARD' },
];

const LOOPBACK = '127.0.0.0/8';
const ESTABLISHED = '-m conntrack --ctstate RELATED,ESTABLISHED';
const DNATED = '-m conntrack --ctstate DNAT';
const LOCAL_DESTINATION = '-m addrtype --dst-type LOCAL';

type Networks = FirewallState['networks'];

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * raw PREROUTING, before connection tracking and NAT: from a network's
 * interface, a source outside its subnet is spoofed, and a loopback
 * destination must never be routed in (route_localnet would let it).
 */
function preroutingRaw(networks: Networks): string[] {
  return networks.flatMap(({ network, interfaceName }) => [
    formatRule({ notSource: network.subnet, in: interfaceName, target: 'DROP' }),
    formatRule({ destination: LOOPBACK, in: interfaceName, target: 'DROP' }),
  ]);
}

/** filter INPUT: from a network, only replies, ping and DNS on that network's own gateway. */
function input(networks: Networks): string[] {
  return [
    formatRule({ matches: ESTABLISHED, target: 'RETURN' }),
    ...networks.flatMap(({ network, interfaceName }) => {
      const toGateway = { destination: host(network.gateway), in: interfaceName };
      return [
        formatRule({ ...toGateway, protocol: 'icmp', matches: '-m icmp --icmp-type 8', target: 'RETURN' }),
        formatRule({ ...toGateway, protocol: 'udp', matches: dport('udp', 53), target: 'RETURN' }),
        formatRule({ ...toGateway, protocol: 'tcp', matches: dport('tcp', 53), target: 'RETURN' }),
        formatRule({ in: interfaceName, target: 'DROP' }),
      ];
    }),
  ];
}

/**
 * filter FORWARD: replies and published ports (hairpin included) pass; a
 * network that is not internal may go out the uplink; anything else from or
 * into a network is dropped, which also keeps networks apart.
 */
function forward(uplink: string, networks: Networks): string[] {
  return [
    formatRule({ matches: ESTABLISHED, target: 'RETURN' }),
    formatRule({ matches: DNATED, target: 'RETURN' }),
    ...networks.flatMap(({ network, interfaceName }) => [
      ...(network.internal ? [] : [formatRule({ in: interfaceName, out: uplink, target: 'RETURN' })]),
      formatRule({ in: interfaceName, target: 'DROP' }),
      formatRule({ out: interfaceName, target: 'DROP' }),
    ]),
  ];
}

/** Drops prefixes inside another one and sorts the rest, so that each source is masqueraded by one rule. */
export function collapsePrefixes(cidrs: readonly string[]): IPv4Prefix[] {
  const widestFirst = cidrs.map(mustParseIPv4Prefix).sort((a, b) => a.bits - b.bits || comparePrefixes(a, b));
  const kept: IPv4Prefix[] = [];
  for (const p of widestFirst) if (!kept.some((k) => contains(k, p.address))) kept.push(p);
  return kept.sort(comparePrefixes);
}

/**
 * nat POSTROUTING: NAT sources leaving by the uplink; a published port
 * reached from the network it forwards to (hairpin: the answer must come
 * back through the router); the router's own connections from 127.0.0.0/8
 * to a published port, whose loopback source cannot leave into a network.
 * The postrouting hook knows no input interface, so "from the network" is
 * "from the subnet of the interface it leaves by"; between two networks the
 * router is on the path both ways and the source stays real.
 */
function postrouting(uplink: string, networks: Networks): string[] {
  const natSources = networks.flatMap(({ network }) => [...(network.nat ? [network.subnet] : []), ...network.natSources]);
  return [
    ...collapsePrefixes(natSources).map((p) => formatRule({ source: formatPrefix(p), out: uplink, target: 'MASQUERADE' })),
    ...networks.flatMap(({ network, interfaceName }) => [
      formatRule({ source: network.subnet, out: interfaceName, matches: DNATED, target: 'MASQUERADE' }),
      formatRule({ source: LOOPBACK, out: interfaceName, target: 'MASQUERADE' }),
    ]),
  ];
}

function table(name: TableName, chains: readonly Chain[]): OwnedTable {
  return {
    chains: new Map(chains),
    jumps: HOOKS.filter((h) => h.table === name).map((h) => jumpRule(h.builtin, h.chain)),
    buried: [],
  };
}

/** Everything but the bucket chains and `RS-DNAT`, with `dnat` appended to the nat table. */
function renderWith(state: FirewallState, dnat: readonly Chain[]): OwnedRuleset {
  const networks = [...state.networks].sort((a, b) => byString(a.interfaceName, b.interfaceName));
  const toPublished = formatRule({ matches: LOCAL_DESTINATION, target: DNAT_CHAIN });
  return {
    raw: table('raw', [['RS-PREROUTING', preroutingRaw(networks)]]),
    nat: table('nat', [
      // From outside the router, 127.0.0.0/8 is never published: a neighbour
      // could otherwise reach what was published on 127.0.0.1 only.
      ['RS-PREROUTING', [formatRule({ destination: LOOPBACK, target: 'RETURN' }), toPublished]],
      // The router's own connections, 127.0.0.1 included.
      ['RS-OUTPUT', [toPublished]],
      ['RS-POSTROUTING', postrouting(state.uplink, networks)],
      ...dnat,
    ]),
    filter: table('filter', [
      ['RS-INPUT', input(networks)],
      ['RS-FORWARD', forward(state.uplink, networks)],
    ]),
  };
}

/** Everything of ours that `state` asks for. Pure; the order of networks and mappings in `state` does not matter. */
export function render(state: FirewallState): OwnedRuleset {
  return renderWith(state, dnatChains(state.portMappings));
}

/**
 * The parts of the renderings of `previous` and `next` that may differ:
 * the chains that depend on networks and the uplink (few), and of the
 * published-port tree only the chains the changed mappings touch. Planning
 * a change between the two gives the same commands as between the whole
 * renderings, at a cost that follows the change.
 */
export function renderChange(previous: FirewallState, next: FirewallState): { before: OwnedRuleset; after: OwnedRuleset } {
  const dnat = changedDnatChains(previous.portMappings, next.portMappings);
  return { before: renderWith(previous, dnat.before), after: renderWith(next, dnat.after) };
}
