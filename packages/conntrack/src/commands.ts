/**
 * The conntrack commands that forget removed mappings and subnets, as argv
 * arrays. conntrack 1.4.7 (Debian 12) matches one destination port per
 * command and no CIDR for the reply source, and every delete walks the
 * whole table in the kernel; the commands are shaped by those limits.
 */
import { RouterError, type PortMapping, type Protocol } from '@router-service/core';
import type { ConntrackEntry, FlowTuple } from './entries.js';

/** The argv of one conntrack command, as one line of a `conntrack -R -` batch. */
export type ConntrackCommand = readonly string[];

/**
 * Up to this many host ports in all, mappings are forgotten with one delete
 * per port; beyond, the NATed entries are listed once per protocol and only
 * the ports that have entries are deleted, since each delete walks the
 * whole table.
 */
export const DIRECT_DELETE_LIMIT = 8;

/** How many host ports a mapping publishes. */
export function portCount(m: PortMapping): number {
  return m.hostPortEnd - m.hostPort + 1;
}

/** Whether deleting port by port stays within DIRECT_DELETE_LIMIT deletes. */
export function deletesDirectly(mappings: readonly PortMapping[]): boolean {
  let ports = 0;
  for (const m of mappings) {
    ports += portCount(m);
    if (ports > DIRECT_DELETE_LIMIT) return false;
  }
  return true;
}

/**
 * Deletes the entries one host port of `m` DNATed: original destination
 * port `hostPort` (and address, for a mapping on one host address), reply
 * from the container's matching port.
 */
export function deletePortCommand(m: PortMapping, hostPort: number): ConntrackCommand {
  return [
    '-D',
    '-f', 'ipv4',
    '-p', m.protocol,
    ...(m.hostIp === '' ? [] : ['--orig-dst', m.hostIp]),
    '--orig-port-dst', String(hostPort),
    '--reply-src', m.containerIp,
    '--reply-port-src', String(m.containerPort + (hostPort - m.hostPort)),
    '--dst-nat',
  ];
}

/** Deletes for every host port of every mapping. */
export function deleteMappingCommands(mappings: readonly PortMapping[]): ConntrackCommand[] {
  const commands: ConntrackCommand[] = [];
  for (const m of mappings) {
    for (let port = m.hostPort; port <= m.hostPortEnd; port++) commands.push(deletePortCommand(m, port));
  }
  return commands;
}

/**
 * Deletes the entries from or to a subnet. conntrack takes no CIDR for the
 * reply source: an entry replied to from the subnet was either addressed
 * to it (the second command) or DNATed into it by a port mapping, which is
 * removed with its network and forgotten as a mapping.
 */
export function deleteSubnetCommands(subnet: string): ConntrackCommand[] {
  return [
    ['-D', '-f', 'ipv4', '--orig-src', subnet],
    ['-D', '-f', 'ipv4', '--orig-dst', subnet],
  ];
}

/** Lists the DNATed entries of one protocol, or of every protocol. */
export function listNatCommand(protocol: Protocol | undefined): ConntrackCommand {
  return ['-L', '-f', 'ipv4', ...(protocol === undefined ? [] : ['-p', protocol]), '--dst-nat'];
}

/** Lists the entries of one protocol, only those to `port` when given. */
export function listCommand(protocol: Protocol, port: number | undefined): ConntrackCommand {
  return ['-L', '-f', 'ipv4', '-p', protocol, ...(port === undefined ? [] : ['--orig-port-dst', String(port)])];
}

/** Deletes the flows to `original`'s destination address and port whose reply comes from `replySrc`:`replySport`. */
function deleteToCommand(protocol: Protocol, original: FlowTuple, replySrc: string, replySport: number): ConntrackCommand {
  return [
    '-D',
    '-f', 'ipv4',
    '-p', protocol,
    '--orig-dst', original.dst,
    '--orig-port-dst', String(original.dport),
    '--reply-src', replySrc,
    '--reply-port-src', String(replySport),
  ];
}

/** `command` narrowed to the flows from `source`. */
export function fromSource(command: ConntrackCommand, source: string): ConntrackCommand {
  return [...command, '--orig-src', source];
}

/** Deletes the one flow `entry` is: its original tuple, replied to from where the listing said. */
export function deleteFlowCommand(protocol: Protocol, entry: ConntrackEntry): ConntrackCommand {
  const { original, reply } = entry;
  return [...fromSource(deleteToCommand(protocol, original, reply.src, reply.sport), original.src), '--orig-port-src', String(original.sport)];
}

/** Deletes every flow to `original`'s destination address and port that no NAT changed (its reply comes from there). */
export function deleteUntranslatedCommand(protocol: Protocol, original: FlowTuple): ConntrackCommand {
  return deleteToCommand(protocol, original, original.dst, original.dport);
}

/** Deletes every flow to `entry`'s destination address and port DNATed where it was. */
export function deleteDnatedCommand(protocol: Protocol, entry: ConntrackEntry): ConntrackCommand {
  return [...deleteToCommand(protocol, entry.original, entry.reply.src, entry.reply.sport), '--dst-nat'];
}

/**
 * The text of a `conntrack -R -` batch: one command per line. conntrack
 * splits each line on blanks, so a field holding one would change the
 * command: refused (our fields are canonical addresses, numbers and
 * protocol names, so this is a bug guard).
 */
export function batchText(commands: readonly ConntrackCommand[]): string {
  for (const command of commands) {
    for (const field of command) {
      if (field === '' || /\s/.test(field)) {
        throw new RouterError('internal', `conntrack batch field ${JSON.stringify(field)} is empty or holds a blank`);
      }
    }
  }
  return commands.map((command) => command.join(' ') + '\n').join('');
}
