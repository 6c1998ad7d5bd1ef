import {
  PROTOCOLS,
  RouterError,
  mustParseIPv4Prefix,
  type ConnectionRemovals,
  type ConnectionTracker,
  type Logger,
  type PortMapping,
  type Protocol,
  type StrayFlows,
} from '@router-service/core';
import {
  batchText,
  deleteDnatedCommand,
  deleteFlowCommand,
  deleteMappingCommands,
  deletePortCommand,
  deleteSubnetCommands,
  deleteUntranslatedCommand,
  deletesDirectly,
  fromSource,
  listCommand,
  listNatCommand,
  portCount,
  type ConntrackCommand,
} from './commands.js';
import type { ConntrackResult, ConntrackRunner } from './conntrack-runner.js';
import { dnatedBy, explains, parseEntries, shadows, within, type ConntrackEntry } from './entries.js';
import type { LocalAddresses } from './local-addresses.js';

export const TRACKER_NAME = 'conntrack';

/** What conntrack says when a delete matched nothing, which is success for us. */
const NOTHING_DELETED = '0 flow entries have been deleted';

/**
 * Listed entries that one delete can match together (a group): those to
 * delete by their original source, the sources of those that must stay,
 * and whether flows that must stay may join the group before the delete
 * runs (a current rule makes them).
 */
interface EntryGroup {
  readonly doomed: Map<string, ConntrackEntry[]>;
  readonly kept: Set<string>;
  exposed: boolean;
}

/**
 * A ConnectionTracker on conntrack-tools. Every forget is one `conntrack -R
 * -` batch of deletes, preceded, for removals of more than a few host
 * ports, by one listing of the DNATed entries per protocol; for published
 * ports by one listing of their protocol's entries (of the one port, when
 * that is all); for strays by one listing of every DNATed entry. Each
 * delete walks the whole table in the kernel, so deletes match groups of
 * flows (by destination and target) rather than single ones: a whole group
 * where no flow that must stay shares it, else each of its sources, and
 * single flows only from a source that also has a flow that must stay.
 * Their number follows the ports, targets and senders involved, not the
 * number of flows.
 */
export class ConntrackTracker implements ConnectionTracker {
  readonly name = TRACKER_NAME;
  readonly #run: ConntrackRunner;
  readonly #localAddresses: LocalAddresses;
  readonly #log: Logger;

  constructor(run: ConntrackRunner, localAddresses: LocalAddresses, log: Logger) {
    this.#run = run;
    this.#localAddresses = localAddresses;
    this.#log = log;
  }

  async forget(removals: ConnectionRemovals): Promise<void> {
    const local = removals.published.length > 0 || removals.strays !== undefined ? await this.#localAddresses() : [];
    const isLocal = (address: string): boolean => within(local, address);
    const commands = [
      ...removals.subnets.flatMap(deleteSubnetCommands),
      ...(await this.#mappingCommands(removals.portMappings)),
      ...(await this.#shadowingCommands(removals.published, isLocal)),
      ...(await this.#strayCommands(removals.strays, isLocal)),
    ];
    if (commands.length === 0) return;
    const result = await this.#run(['-R', '-'], batchText(commands));
    if (!succeeded(result)) throw failure('deleting flows', result);
    this.#log.debug(
      {
        portMappings: removals.portMappings.length,
        subnets: removals.subnets,
        published: removals.published.length,
        strays: removals.strays !== undefined,
        deletes: commands.length,
      },
      'forgot stale flows',
    );
  }

  /** The deletes for the mappings: port by port when few, else only for the ports that have DNATed entries. */
  async #mappingCommands(mappings: readonly PortMapping[]): Promise<ConntrackCommand[]> {
    if (deletesDirectly(mappings)) return deleteMappingCommands(mappings);
    const commands = new Map<string, ConntrackCommand>();
    for (const [protocol, ofProtocol] of groupBy(mappings, (m) => m.protocol)) {
      const byPort = byHostPort(ofProtocol);
      const result = await this.#run(listNatCommand(protocol));
      if (result.exitCode !== 0) throw failure(`listing ${protocol} flows`, result);
      for (const entry of parseEntries(result.stdout)) {
        const m = byPort.get(entry.original.dport)?.find((candidate) => dnatedBy(candidate, entry));
        if (m === undefined) continue;
        const command = deletePortCommand(m, entry.original.dport);
        commands.set(command.join(' '), command);
      }
    }
    return [...commands.values()];
  }

  /**
   * The deletes for the untranslated, unanswered flows that would keep the
   * published mappings' ports from them, by destination address and port.
   */
  async #shadowingCommands(mappings: readonly PortMapping[], isLocal: (address: string) => boolean): Promise<ConntrackCommand[]> {
    const commands: ConntrackCommand[] = [];
    for (const [protocol, ofProtocol] of groupBy(mappings, (m) => m.protocol)) {
      const [first] = ofProtocol;
      const onePort = first !== undefined && ofProtocol.every((m) => portCount(m) === 1 && m.hostPort === first.hostPort);
      const result = await this.#run(listCommand(protocol, onePort ? first.hostPort : undefined));
      if (result.exitCode !== 0) throw failure(`listing ${protocol} flows`, result);
      const byPort = byHostPort(ofProtocol);
      const groups = new Map<string, EntryGroup>();
      for (const entry of parseEntries(result.stdout)) {
        const { original, reply } = entry;
        // The delete of a whole group matches the flows replied to from their own destination; no other can be hit.
        if (reply.src !== original.dst || reply.sport !== original.dport) continue;
        const onPort = byPort.get(original.dport) ?? [];
        const doomed = onPort.some((m) => shadows(entry, m, isLocal));
        // A mapping that lets in some sources only leaves the others' new flows untranslated, where a whole delete would hit them;
        // the new flows of a source it lets in are DNATed.
        addToGroup(groups, `${original.dst} ${original.dport}`, entry, doomed, onPort.some((m) => m.sources.length > 0));
      }
      commands.push(...groupCommands(groups, (entry) => deleteUntranslatedCommand(protocol, entry.original), protocol));
    }
    return commands;
  }

  /** The deletes for the flows DNATed into the strays' subnets that none of their mappings made, by destination and target. */
  async #strayCommands(strays: StrayFlows | undefined, isLocal: (address: string) => boolean): Promise<ConntrackCommand[]> {
    if (strays === undefined || strays.subnets.length === 0) return [];
    const result = await this.#run(listNatCommand(undefined));
    if (result.exitCode !== 0) throw failure('listing NATed flows', result);
    const subnets = strays.subnets.map(mustParseIPv4Prefix);
    const byProtocol = new Map([...groupBy(strays.portMappings, (m) => m.protocol)].map(([p, ms]) => [p, byHostPort(ms)]));
    const groups = new Map<Protocol, Map<string, EntryGroup>>();
    for (const entry of parseEntries(result.stdout)) {
      const { original, reply } = entry;
      // Only a TCP, UDP or SCTP flow addressed to the router can be a mapping's: any other was DNATed by someone else's rule.
      const protocol = PROTOCOLS.find((p) => p === entry.protocol);
      if (protocol === undefined || !within(subnets, reply.src) || !isLocal(original.dst)) continue;
      const onPort = byProtocol.get(protocol)?.get(original.dport) ?? [];
      const explained = onPort.some((m) => explains(m, entry));
      // Where a current mapping DNATs the same way, new flows may join the group meanwhile: from sources it lets in, never
      // from a doomed entry's.
      const ruled = onPort.some((m) => dnatedBy(m, entry));
      const ofProtocol = groups.get(protocol) ?? new Map<string, EntryGroup>();
      groups.set(protocol, ofProtocol);
      addToGroup(ofProtocol, `${original.dst} ${original.dport} ${reply.src} ${reply.sport}`, entry, !explained, ruled);
    }
    return [...groups].flatMap(([protocol, ofProtocol]) => groupCommands(ofProtocol, (entry) => deleteDnatedCommand(protocol, entry), protocol));
  }
}

function addToGroup(groups: Map<string, EntryGroup>, key: string, entry: ConntrackEntry, doomed: boolean, exposed: boolean): void {
  const group = groups.get(key) ?? { doomed: new Map<string, ConntrackEntry[]>(), kept: new Set<string>(), exposed: false };
  groups.set(key, group);
  const source = entry.original.src;
  if (exposed) group.exposed = true;
  if (!doomed) {
    group.kept.add(source);
    return;
  }
  const ofSource = group.doomed.get(source);
  if (ofSource === undefined) group.doomed.set(source, [entry]);
  else ofSource.push(entry);
}

/**
 * The deletes of the groups' doomed flows: one for a whole group, made by
 * `wholeGroup` from any of its flows, where nothing that must stay can be
 * hit; else one for each source, or one per flow from a source that also
 * has a flow that must stay.
 */
function groupCommands(
  groups: ReadonlyMap<string, EntryGroup>,
  wholeGroup: (entry: ConntrackEntry) => ConntrackCommand,
  protocol: Protocol,
): ConntrackCommand[] {
  return [...groups.values()].flatMap(({ doomed, kept, exposed }) => {
    const first = doomed.values().next().value?.[0];
    if (first === undefined) return [];
    if (kept.size === 0 && !exposed) return [wholeGroup(first)];
    return [...doomed].flatMap(([source, entries]) =>
      kept.has(source) ? entries.map((entry) => deleteFlowCommand(protocol, entry)) : entries.slice(0, 1).map((entry) => fromSource(wholeGroup(entry), source)),
    );
  });
}

function groupBy<K, T>(items: readonly T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [item]);
    else group.push(item);
  }
  return groups;
}

/** The mappings by each of their host ports. */
function byHostPort(mappings: readonly PortMapping[]): Map<number, PortMapping[]> {
  const byPort = new Map<number, PortMapping[]>();
  for (const m of mappings) {
    for (let port = m.hostPort; port <= m.hostPortEnd; port++) {
      const onPort = byPort.get(port);
      if (onPort === undefined) byPort.set(port, [m]);
      else onPort.push(m);
    }
  }
  return byPort;
}

function succeeded(result: ConntrackResult): boolean {
  return result.exitCode === 0 || (result.exitCode === 1 && `${result.stderr}${result.stdout}`.includes(NOTHING_DELETED));
}

function failure(doing: string, result: ConntrackResult): RouterError {
  const said = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-3).join('; ');
  return new RouterError('internal', `conntrack: ${doing}: exit status ${result.exitCode}: ${said}`);
}
