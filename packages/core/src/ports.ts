/**
 * Port mappings: host ports published to a container address, one port or
 * a range mapped one-to-one, optionally only for some sources. Validation
 * of AddPortMapping/RemovePortMapping requests and the conflict rule.
 */
import { sameItems } from './arrays.js';
import { checkContainerAddress, parseIPv4Network } from './addresses.js';
import { alreadyExists, invalid, precondition } from './errors.js';
import {
  compareAddresses,
  comparePrefixes,
  contains,
  formatAddress,
  formatPrefix,
  parseAddress,
  type IPv4Prefix,
  type ParsedAddress,
} from './ipv4.js';
import { PROTOCOLS, type NetworkSpec, type PortKey, type PortMapping, type Protocol } from './model.js';
import { quote } from './quote.js';

const MAX_PORT = 65535;

/** The most source CIDRs one mapping may list: each is a rule element in the kernel. */
export const MAX_PORT_SOURCES = 64;

/** An AddPortMapping request as received. vlan 0 finds the network by container address. */
export interface PortRequest {
  containerIp: string;
  containerPort: number;
  hostPort: number;
  protocol: string;
  vlan: number;
  hostIp: string;
  /**
   * The last host port of a range mapped one-to-one onto containerPort..;
   * 0, absent or equal to hostPort publishes one port.
   */
  hostPortEnd?: number | undefined;
  /** IPv4 CIDRs or bare addresses allowed to reach the mapping; empty or absent lets every source in. */
  sources?: readonly string[] | undefined;
}

/** A RemovePortMapping request as received. */
export interface PortRemovalRequest {
  hostPort: number;
  protocol: string;
  /** "" for every address. */
  hostIp: string;
  /** 0 or absent: the mapping that starts at hostPort, whatever its end; else its end must be this. */
  hostPortEnd?: number | undefined;
}

/**
 * An AddPortMapping request checked on its own: everything but the network
 * it targets, which only the state can tell.
 */
export interface PortDraft extends Omit<PortMapping, 'containerIp' | 'vlan'> {
  containerIp: ParsedAddress;
}

/** A RemovePortMapping request checked on its own; hostPortEnd 0 accepts any end. */
export interface PortRemoval extends PortKey {
  hostPortEnd: number;
}

/** Finds mappings by the port they start at or by a port they cover; a PortTable is one. */
export interface PortLookup {
  /** The mapping that starts at k.hostPort on exactly k.hostIp. */
  get(k: PortKey): PortMapping | undefined;
  /** The mapping on exactly k.hostIp whose host ports include k.hostPort. */
  covering(k: PortKey): PortMapping | undefined;
}

function isRange(m: Pick<PortMapping, 'hostPort'> & { hostPortEnd?: number }): boolean {
  return m.hostPortEnd !== undefined && m.hostPortEnd !== m.hostPort;
}

function portSpan(first: number, last: number): string {
  return first === last ? String(first) : `${first}-${last}`;
}

/** Renders host ports as "127.0.0.1:8080/tcp" or "*:8000-8010/tcp", "*" standing for every address. */
export function formatPortKey(k: PortKey & { hostPortEnd?: number }): string {
  return `${k.hostIp === '' ? '*' : k.hostIp}:${portSpan(k.hostPort, k.hostPortEnd ?? k.hostPort)}/${k.protocol}`;
}

/** "host port *:8080/tcp is" or "host ports *:8000-8010/tcp are", to start a sentence about a mapping. */
function hostPortsAre(m: PortMapping): string {
  return isRange(m) ? `host ports ${formatPortKey(m)} are` : `host port ${formatPortKey(m)} is`;
}

/** The last container port of a mapping. */
export function containerPortEnd(m: Pick<PortMapping, 'hostPort' | 'hostPortEnd' | 'containerPort'>): number {
  return m.containerPort + (m.hostPortEnd - m.hostPort);
}

/** Renders where a mapping forwards to: "172.18.0.2:80 (VLAN 100)" or "172.18.0.2:80-90 (VLAN 100)". */
export function portTarget(m: PortMapping): string {
  return `${m.containerIp}:${portSpan(m.containerPort, containerPortEnd(m))} (VLAN ${m.vlan})`;
}

/** Names a mapping for a person: "tcp *:8080 -> 172.18.0.5:80 (VLAN 100)", with its sources if it has any. */
export function describePortMapping(m: PortMapping): string {
  const host = `${m.hostIp === '' ? '*' : m.hostIp}:${portSpan(m.hostPort, m.hostPortEnd)}`;
  const from = m.sources.length === 0 ? '' : ` from ${m.sources.join(', ')}`;
  return `${m.protocol} ${host} -> ${portTarget(m)}${from}`;
}

/** Whether two keys name the same first host port on the same address. */
export function samePortKey(a: PortKey, b: PortKey): boolean {
  return a.protocol === b.protocol && a.hostIp === b.hostIp && a.hostPort === b.hostPort;
}

/** Whether two mappings are the same in every field, so that adding one over the other changes nothing. */
export function samePortMapping(a: PortMapping, b: PortMapping): boolean {
  return (
    samePortKey(a, b) &&
    a.hostPortEnd === b.hostPortEnd &&
    a.containerIp === b.containerIp &&
    a.containerPort === b.containerPort &&
    a.vlan === b.vlan &&
    sameItems(a.sources, b.sources)
  );
}

/**
 * Whether two mappings compete for a packet: same protocol, intersecting
 * host ports, and host addresses that are equal or where either is every
 * address.
 */
export function portMappingsOverlap(a: PortMapping, b: PortMapping): boolean {
  return (
    a.protocol === b.protocol &&
    a.hostPort <= b.hostPortEnd &&
    b.hostPort <= a.hostPortEnd &&
    (a.hostIp === b.hostIp || a.hostIp === '' || b.hostIp === '')
  );
}

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 1 || port > MAX_PORT) {
    throw invalid(`${what} ${port} is out of range: use 1 to ${MAX_PORT}`);
  }
}

function parseProtocol(protocol: string): Protocol {
  const lower = protocol.toLowerCase();
  const known = PROTOCOLS.find((p) => p === lower);
  if (known === undefined) throw invalid(`protocol ${quote(protocol)} is not supported: use tcp, udp or sctp`);
  return known;
}

/** Validates the fields that identify a published port; 0.0.0.0 means every address (""). */
export function parsePortKey(protocol: string, hostPort: number, hostIp: string): PortKey {
  const key: PortKey = { protocol: parseProtocol(protocol), hostIp: '', hostPort };
  checkPort(hostPort, 'host_port');
  if (hostIp !== '') {
    const ip = parseAddress(hostIp);
    if (ip?.family !== 4) throw invalid(`host_ip ${quote(hostIp)} is not an IPv4 address`);
    if (ip.address !== 0) key.hostIp = formatAddress(ip);
  }
  return key;
}

/** The last host port a request asks for: hostPortEnd, or hostPort when it is 0 or absent. */
function parseHostPortEnd(key: PortKey, hostPortEnd: number | undefined): number {
  if (hostPortEnd === undefined || hostPortEnd === 0) return key.hostPort;
  if (!Number.isInteger(hostPortEnd) || hostPortEnd > MAX_PORT) {
    throw invalid(`host_port_end ${hostPortEnd} of ${formatPortKey(key)} is out of range: use ${key.hostPort} to ${MAX_PORT}, or 0 for one port`);
  }
  if (hostPortEnd < key.hostPort) {
    throw invalid(
      `host_port_end ${hostPortEnd} of ${formatPortKey(key)} is below host_port: give the last port of the range (at least ${key.hostPort}), or 0 for one port`,
    );
  }
  return hostPortEnd;
}

/** Parses one allowed source: a CIDR without host bits, or a bare address standing for its /32. */
function parseSource(s: string): IPv4Prefix {
  if (!s.includes('/')) {
    const ip = parseAddress(s);
    if (ip === undefined) {
      throw invalid(`allowed_sources entry ${quote(s)} is not an IPv4 address or a CIDR such as 192.0.2.0/24`);
    }
    if (ip.family !== 4) throw invalid(`allowed_sources entry ${s} is not IPv4: only IPv4 sources are supported`);
    return { address: ip.address, bits: 32 };
  }
  return parseIPv4Network(s, 'allowed_sources entry');
}

/**
 * Parses the sources allowed to reach a mapping into canonical CIDRs,
 * sorted, with those inside another dropped. A list that holds 0.0.0.0/0
 * lets every source in and becomes empty, the one form of "any".
 */
export function parsePortSources(sources: readonly string[]): string[] {
  if (sources.length > MAX_PORT_SOURCES) {
    throw invalid(`allowed_sources has ${sources.length} entries: at most ${MAX_PORT_SOURCES} are allowed, so use wider CIDRs`);
  }
  const sorted = sources.map(parseSource).sort(comparePrefixes);
  const kept: IPv4Prefix[] = [];
  for (const p of sorted) {
    // Prefixes either nest or are disjoint, so sorted by address then
    // length, the only one that can hold p is the last kept.
    const last = kept.at(-1);
    if (last !== undefined && last.bits <= p.bits && contains(last, p.address)) continue;
    kept.push(p);
  }
  if (kept.length === 1 && kept[0]?.bits === 0) return [];
  return kept.map(formatPrefix);
}

/**
 * Checks everything of an AddPortMapping request that does not depend on
 * the state, so that it is invalid whatever the state.
 */
export function parsePortRequest(req: PortRequest): PortDraft {
  const key = parsePortKey(req.protocol, req.hostPort, req.hostIp);
  const hostPortEnd = parseHostPortEnd(key, req.hostPortEnd);
  checkPort(req.containerPort, 'container_port');
  const lastContainerPort = req.containerPort + (hostPortEnd - key.hostPort);
  if (lastContainerPort > MAX_PORT) {
    throw invalid(
      `host ports ${formatPortKey({ ...key, hostPortEnd })} would map onto container ports ${req.containerPort}-${lastContainerPort}, ` +
        `past ${MAX_PORT}: lower container_port to at most ${MAX_PORT - (hostPortEnd - key.hostPort)} or shorten the range`,
    );
  }
  const containerIp = parseAddress(req.containerIp);
  if (containerIp === undefined) throw invalid(`container_ip ${quote(req.containerIp)} is not an IP address`);
  const sources = parsePortSources(req.sources ?? []);
  return { ...key, hostPortEnd, containerIp, containerPort: req.containerPort, sources };
}

/** The mapping a draft asks for on network n, whose subnet must hold the container address. */
export function placePortMapping(d: PortDraft, n: NetworkSpec): PortMapping {
  checkContainerAddress(n, d.containerIp);
  return {
    protocol: d.protocol,
    hostIp: d.hostIp,
    hostPort: d.hostPort,
    hostPortEnd: d.hostPortEnd,
    containerIp: formatAddress(d.containerIp),
    containerPort: d.containerPort,
    vlan: n.vlan,
    sources: d.sources,
  };
}

/** Checks a RemovePortMapping request on its own. */
export function parsePortRemoval(req: PortRemovalRequest): PortRemoval {
  const key = parsePortKey(req.protocol, req.hostPort, req.hostIp);
  const end = req.hostPortEnd ?? 0;
  return { ...key, hostPortEnd: end === 0 ? 0 : parseHostPortEnd(key, end) };
}

/**
 * The mapping a removal names, or undefined when nothing is published
 * there. A range is removed as a whole, by its first port: naming a port
 * inside it, or another end, is refused so that no one believes they
 * unpublished part of it.
 */
export function findPortRemoval(ports: PortLookup, r: PortRemoval): PortMapping | undefined {
  const m = ports.get(r);
  if (m === undefined) {
    const covering = ports.covering(r);
    if (covering === undefined) return undefined;
    throw precondition(`${hostPortsAre(covering)} published as one range: remove it by its first port ${covering.hostPort}`);
  }
  if (r.hostPortEnd !== 0 && r.hostPortEnd !== m.hostPortEnd) {
    const asked = `${r.hostPort}-${r.hostPortEnd}`;
    throw precondition(
      isRange(m)
        ? `${hostPortsAre(m)} published as one range, not as ${asked}: remove it with host_port_end ${m.hostPortEnd} or 0`
        : `${hostPortsAre(m)} published on its own, not as ${asked}: remove it with host_port_end 0`,
    );
  }
  return m;
}

/**
 * Rejects `m` when it overlaps an existing mapping other than an identical
 * one (which makes adding m a no-op). `candidates` are existing mappings,
 * such as those PortTable.overlapping finds; those that do not overlap m
 * are passed over.
 */
export function checkPortConflict(m: PortMapping, candidates: Iterable<PortMapping>): void {
  for (const o of candidates) {
    if (!portMappingsOverlap(o, m) || samePortMapping(o, m)) continue;
    const from = o.sources.length === 0 ? '' : ` from ${o.sources.join(', ')}`;
    throw alreadyExists(`${hostPortsAre(o)} already published to ${portTarget(o)}${from}: remove that mapping first`);
  }
}

/** Orders mappings by protocol, first host port and host address ("" first), as the state lists them. */
export function comparePortMappings(a: PortKey, b: PortKey): number {
  if (a.protocol !== b.protocol) return a.protocol < b.protocol ? -1 : 1;
  return a.hostPort - b.hostPort || compareAddresses(a.hostIp, b.hostIp);
}
