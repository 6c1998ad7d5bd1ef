/**
 * Reading `conntrack -L` output, in its default format:
 *   udp 17 29 src=A dst=B sport=1 dport=2 src=C dst=D sport=3 dport=4 mark=0 use=1
 * The first src/dst/sport/dport are the original direction, the second the
 * reply; a state word or flags ([UNREPLIED], [ASSURED]) may come between.
 */
import { contains, mustParseIPv4Prefix, parseIPv4, type IPv4Prefix, type PortMapping } from '@router-service/core';

/** One direction of a tracked flow. */
export interface FlowTuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

/** A conntrack entry, as far as forgetting needs it. */
export interface ConntrackEntry {
  /** The layer 4 protocol's name: "tcp", "udp", "sctp". */
  protocol: string;
  original: FlowTuple;
  reply: FlowTuple;
  /** Whether a packet came back the reply way (conntrack shows [UNREPLIED] until one does). */
  replied: boolean;
}

const TUPLE_KEYS = ['src', 'dst', 'sport', 'dport'] as const;

/** The entries with ports in `text`; other lines (ICMP, summaries) are skipped. */
export function parseEntries(text: string): ConntrackEntry[] {
  const entries: ConntrackEntry[] = [];
  for (const line of text.split('\n')) {
    const [protocol, ...fields] = line.trim().split(/\s+/);
    if (protocol === undefined || protocol === '') continue;
    const values: Record<string, string[]> = { src: [], dst: [], sport: [], dport: [] };
    let replied = true;
    for (const field of fields) {
      if (field === '[UNREPLIED]') replied = false;
      const eq = field.indexOf('=');
      if (eq > 0) values[field.slice(0, eq)]?.push(field.slice(eq + 1));
    }
    const original = tuple(values, 0);
    const reply = tuple(values, 1);
    if (original !== undefined && reply !== undefined) entries.push({ protocol, original, reply, replied });
  }
  return entries;
}

function tuple(values: Record<string, string[]>, index: number): FlowTuple | undefined {
  const [src, dst, sport, dport] = TUPLE_KEYS.map((key) => values[key]?.[index]);
  if (src === undefined || dst === undefined || sport === undefined || dport === undefined) return undefined;
  return { src, dst, sport: Number(sport), dport: Number(dport) };
}

/** Whether `m` DNATed the entry: one of its host ports (on its host address) to the container's matching port. */
export function dnatedBy(m: PortMapping, entry: ConntrackEntry): boolean {
  const port = entry.original.dport;
  return (
    entry.protocol === m.protocol &&
    entry.reply.src === m.containerIp &&
    port >= m.hostPort &&
    port <= m.hostPortEnd &&
    entry.reply.sport === m.containerPort + (port - m.hostPort) &&
    (m.hostIp === '' || entry.original.dst === m.hostIp)
  );
}

/** Whether `address` lies in one of `prefixes`. */
export function within(prefixes: readonly IPv4Prefix[], address: string): boolean {
  const parsed = parseIPv4(address);
  return parsed !== undefined && prefixes.some((prefix) => contains(prefix, parsed));
}

/** Whether `m` lets `address` in: every source when it lists none. */
export function allows(m: PortMapping, address: string): boolean {
  return m.sources.length === 0 || within(m.sources.map(mustParseIPv4Prefix), address);
}

/** Whether `m` made the entry: it DNATed it, and lets its source in. */
export function explains(m: PortMapping, entry: ConntrackEntry): boolean {
  return dnatedBy(m, entry) && allows(m, entry.original.src);
}

/** Whether no NAT changed the entry: its reply comes back from where the original went, to where it came from. */
export function untranslated(entry: ConntrackEntry): boolean {
  const { original, reply } = entry;
  return reply.src === original.dst && reply.sport === original.dport && reply.dst === original.src && reply.dport === original.sport;
}

/**
 * Whether the entry is a flow that `m`'s rule would DNAT but that no NAT
 * changed and nothing answered: one a sender began before `m` was
 * published, which the kernel would keep delivering to the router past
 * `m`'s rule. `isLocal` says whether an address is the router's own: a
 * mapping without a host address publishes on those only, and a flow to
 * any other address is being forwarded, not shadowing anything.
 */
export function shadows(entry: ConntrackEntry, m: PortMapping, isLocal: (address: string) => boolean): boolean {
  const { original } = entry;
  return (
    !entry.replied &&
    untranslated(entry) &&
    entry.protocol === m.protocol &&
    original.dport >= m.hostPort &&
    original.dport <= m.hostPortEnd &&
    (m.hostIp === '' ? isLocal(original.dst) : original.dst === m.hostIp) &&
    allows(m, original.src)
  );
}
