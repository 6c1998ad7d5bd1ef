import {
  PROTOCOLS,
  RouterError,
  contains,
  mustParseIPv4Prefix,
  parseIPv4,
  type ConnectionRemovals,
  type ConnectionTracker,
  type Logger,
  type PortMapping,
  type Protocol,
  type StrayFlows,
} from '@router-service/core';
import {
  batchText,
  deleteFlowCommand,
  deleteMappingCommands,
  deletePortCommand,
  deleteSubnetCommands,
  deletesDirectly,
  listCommand,
  listNatCommand,
  portCount,
  type ConntrackCommand,
} from './commands.js';
import type { ConntrackResult, ConntrackRunner } from './conntrack-runner.js';
import { dnatedBy, parseEntries, shadows } from './entries.js';

export const TRACKER_NAME = 'conntrack';

/** What conntrack says when a delete matched nothing, which is success for us. */
const NOTHING_DELETED = '0 flow entries have been deleted';

/**
 * A ConnectionTracker on conntrack-tools. Every forget is one `conntrack -R
 * -` batch of deletes, preceded, for removals of more than a few host
 * ports, by one listing of the DNATed entries per protocol, and for
 * published ports by one listing of their protocol's entries (of the one
 * port, when that is all): the number of conntrack runs is bounded
 * whatever the size of the change.
 */
export class ConntrackTracker implements ConnectionTracker {
  readonly name = TRACKER_NAME;
  readonly #run: ConntrackRunner;
  readonly #log: Logger;

  constructor(run: ConntrackRunner, log: Logger) {
    this.#run = run;
    this.#log = log;
  }

  async forget(removals: ConnectionRemovals): Promise<void> {
    const commands = [
      ...removals.subnets.flatMap(deleteSubnetCommands),
      ...(await this.#mappingCommands(removals.portMappings)),
      ...(await this.#shadowingCommands(removals.published)),
      ...(await this.#strayCommands(removals.strays)),
    ];
    if (commands.length === 0) return;
    const result = await this.#run(['-R', '-'], batchText(commands));
    if (!succeeded(result)) throw failure('deleting flows', result);
    this.#log.debug(
      { portMappings: removals.portMappings.length, subnets: removals.subnets, published: removals.published.length, deletes: commands.length },
      'forgot stale flows',
    );
  }

  /** The deletes for the flows DNATed into the strays' subnets that none of their mappings made. */
  async #strayCommands(strays: StrayFlows | undefined): Promise<ConntrackCommand[]> {
    if (strays === undefined || strays.subnets.length === 0) return [];
    const result = await this.#run(listNatCommand(undefined));
    if (result.exitCode !== 0) throw failure('listing NATed flows', result);
    const subnets = strays.subnets.map(mustParseIPv4Prefix);
    const byTarget = new Map<string, PortMapping[]>();
    for (const m of strays.portMappings) byTarget.set(m.containerIp, [...(byTarget.get(m.containerIp) ?? []), m]);
    const commands: ConntrackCommand[] = [];
    for (const entry of parseEntries(result.stdout)) {
      const target = parseIPv4(entry.reply.src);
      if (target === undefined || !subnets.some((subnet) => contains(subnet, target))) continue;
      if (byTarget.get(entry.reply.src)?.some((m) => dnatedBy(m, entry))) continue;
      // Only a TCP, UDP or SCTP flow can be a mapping's: any other was DNATed by someone else's rule, and is theirs.
      const protocol = PROTOCOLS.find((p) => p === entry.protocol);
      if (protocol !== undefined) commands.push(deleteFlowCommand(protocol, entry.original));
    }
    return commands;
  }

  /** The deletes for the untranslated, unanswered flows that would keep the published mappings' ports from them. */
  async #shadowingCommands(mappings: readonly PortMapping[]): Promise<ConntrackCommand[]> {
    const commands: ConntrackCommand[] = [];
    for (const [protocol, ofProtocol] of groupByProtocol(mappings)) {
      const [first] = ofProtocol;
      const onePort = first !== undefined && ofProtocol.every((m) => portCount(m) === 1 && m.hostPort === first.hostPort);
      const result = await this.#run(listCommand(protocol, onePort ? first.hostPort : undefined));
      if (result.exitCode !== 0) throw failure(`listing ${protocol} flows`, result);
      const byPort = new Map<number, PortMapping[]>();
      for (const m of ofProtocol) {
        for (let port = m.hostPort; port <= m.hostPortEnd; port++) byPort.set(port, [...(byPort.get(port) ?? []), m]);
      }
      for (const entry of parseEntries(result.stdout)) {
        if (byPort.get(entry.original.dport)?.some((m) => shadows(entry, m))) commands.push(deleteFlowCommand(protocol, entry.original));
      }
    }
    return commands;
  }

  /** The deletes for the mappings: port by port when few, else only for the ports that have DNATed entries. */
  async #mappingCommands(mappings: readonly PortMapping[]): Promise<ConntrackCommand[]> {
    if (deletesDirectly(mappings)) return deleteMappingCommands(mappings);
    const commands = new Map<string, ConntrackCommand>();
    for (const [protocol, ofProtocol] of groupByProtocol(mappings)) {
      const byContainer = new Map<string, PortMapping[]>();
      for (const m of ofProtocol) byContainer.set(m.containerIp, [...(byContainer.get(m.containerIp) ?? []), m]);
      const result = await this.#run(listNatCommand(protocol));
      if (result.exitCode !== 0) throw failure(`listing ${protocol} flows`, result);
      for (const entry of parseEntries(result.stdout)) {
        const m = byContainer.get(entry.reply.src)?.find((candidate) => dnatedBy(candidate, entry));
        if (m === undefined) continue;
        const command = deletePortCommand(m, entry.original.dport);
        commands.set(command.join(' '), command);
      }
    }
    return [...commands.values()];
  }
}

function groupByProtocol(mappings: readonly PortMapping[]): Map<Protocol, PortMapping[]> {
  const byProtocol = new Map<Protocol, PortMapping[]>();
  for (const m of mappings) byProtocol.set(m.protocol, [...(byProtocol.get(m.protocol) ?? []), m]);
  return byProtocol;
}

function succeeded(result: ConntrackResult): boolean {
  return result.exitCode === 0 || (result.exitCode === 1 && `${result.stderr}${result.stdout}`.includes(NOTHING_DELETED));
}

function failure(doing: string, result: ConntrackResult): RouterError {
  const said = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-3).join('; ');
  return new RouterError('internal', `conntrack: ${doing}: exit status ${result.exitCode}: ${said}`);
}
