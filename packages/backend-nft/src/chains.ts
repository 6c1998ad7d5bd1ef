/**
 * The base chains of the table and their rules. Rules are static: they name
 * the uplink, and everything else comes from sets and maps (see sets.ts).
 *
 * Rules are written as nft lists them back (`nft -j list table`), so that
 * drift compares them as they are: no `meta nfproto ipv4` where an `ip`
 * match already implies it, prefixes and sets in nft's own shapes.
 */
import { accept, concat, ct, drop, fib, masquerade, match, meta, payload, prefix, ret, setRef, type NftExpr } from './nft-json.js';
import { PROTOCOLS } from '@router-service/core';
import { publishedAnywhere } from './sets.js';

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
  { name: 'martians', type: 'filter', hook: 'prerouting', prio: -300 },
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
const loopback = prefix('127.0.0.0', 8);
const establishedOrRelated = match(ct('state'), ['established', 'related'], 'in');

/**
 * DNAT through maps. Each published port is a pair of maps with the same
 * keys, one giving the container address and one its port, because
 * libnftables 1.0.6 (Debian 12) cannot declare a map with concatenated data
 * (`: ipv4_addr . inet_service`) in JSON: it makes a plain set of it, and a
 * rule using it crashes nft.
 */
function dnatThrough(key: NftExpr, maps: string): NftExpr {
  return {
    dnat: { family: 'ip', addr: { map: { key, data: setRef(`${maps}_addr`) } }, port: { map: { key, data: setRef(`${maps}_port`) } } },
  };
}

/**
 * Publishing, for packets to a local address: a key that only some sources
 * may reach leaves the chain undNATed for every other source; then the
 * host-address maps, then the every-address ones, one pair per protocol
 * (a port is never in both).
 */
const publishRules: readonly NftExpr[][] = [
  [match(fib('type', 'daddr'), 'local', '!='), ret],
  [match(concat(daddr, l4proto, dport), setRef('restricted')), match(concat(daddr, saddr, l4proto, dport), setRef('allowed'), '!='), ret],
  [match(concat(l4proto, dport), setRef('restricted_any')), match(concat(saddr, l4proto, dport), setRef('allowed_any'), '!='), ret],
  [dnatThrough(concat(daddr, l4proto, dport), 'published')],
  // `tcp dport` and its kin imply their protocol: nft adds the match itself.
  ...PROTOCOLS.map((protocol) => [ipv4, dnatThrough(payload(protocol, 'dport'), publishedAnywhere(protocol))]),
];

/** The rules of each chain, in order. */
export function chainRules(uplink: string): Record<string, readonly NftExpr[][]> {
  return {
    martians: [
      // A packet from a network's interface must come from that network's subnet.
      [match(iifname, setRef('networks')), match(concat(iifname, saddr), setRef('subnets'), '!='), drop],
      // route_localnet, which publishing on 127.0.0.1 needs on the network
      // links, would let a network reach the router's loopback addresses
      // (CVE-2020-8558): nothing from a network may be addressed to them.
      [match(iifname, setRef('networks')), match(daddr, loopback), drop],
    ],
    // From outside the router, 127.0.0.0/8 is never published: a neighbour
    // could otherwise reach what was published on 127.0.0.1 only.
    dnat_prerouting: [[match(daddr, loopback), ret], ...publishRules],
    // The router's own connections, 127.0.0.1 included.
    dnat_output: publishRules,
    input: [
      [match(iifname, setRef('networks')), establishedOrRelated, accept],
      [match(concat(iifname, daddr), setRef('gateways')), match(payload('icmp', 'type'), 'echo-request'), accept],
      [match(concat(iifname, daddr), setRef('gateways')), match(l4proto, { set: ['tcp', 'udp'] }), match(dport, 53), accept],
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
      [match(saddr, setRef('nat_sources')), match(oifname, uplink), masquerade],
      // Hairpin: a published port reached from the network it forwards to.
      // The postrouting hook has no input interface, so "the source is in a
      // network" is asked as "the source is in the subnet of the interface
      // the packet leaves by"; traffic between two networks needs no
      // masquerade, as the router is on its path both ways.
      [match(ct('status'), 'dnat', 'in'), match(concat(oifname, saddr), setRef('subnets')), masquerade],
      // The router's own connection to a port published on 127.0.0.1 (or
      // on every address): a container cannot answer a loopback source.
      [match(saddr, loopback), match(oifname, setRef('networks')), masquerade],
    ],
  };
}
