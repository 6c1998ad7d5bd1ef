/** `port add|remove|list`: host ports published to containers. */
import { quote } from '@router-service/core';
import { FlagError, parseUint32, type FlagSet } from '@router-service/flags';
import type {
  AddPortMappingRequest,
  GetStateResponse,
  PortMapping,
  RemovePortMappingRequest,
} from '@router-service/proto';
import { call, print } from './call.js';
import { callingCommand, commandFlags, noPositional, parseWithId, type CommandDefinition } from './command.js';
import { formatTable } from './table.js';

function hostOrAll(ip: string): string {
  return ip === '' ? '*' : ip;
}

/** "8080" for one port, "8000-8010" for a range; a last port of 0 (a server that predates ranges) is one port. */
function portSpan(first: number, last: number): string {
  return last === 0 || last === first ? String(first) : `${first}-${last}`;
}

/** The container ports a mapping of host ports first..last forwards to. */
function containerSpan(containerPort: number, first: number, last: number): string {
  return portSpan(containerPort, last === 0 ? 0 : containerPort + (last - first));
}

/** The port mappings table shared by `port list` and `status`. */
export function formatPorts(mappings: readonly PortMapping[]): string {
  const rows = mappings.map((mapping) => [
    mapping.protocol,
    `${hostOrAll(mapping.hostIp)}:${portSpan(mapping.hostPort, mapping.hostPortEnd)}`,
    `${mapping.containerIp}:${containerSpan(mapping.containerPort, mapping.hostPort, mapping.hostPortEnd)}`,
    String(mapping.vlanId),
    mapping.allowedSources.length === 0 ? 'any' : mapping.allowedSources.join(','),
  ]);
  return formatTable([['PROTO', 'HOST', 'CONTAINER', 'VLAN', 'SOURCES'], ...rows]);
}

/** Host ports as --host-port takes them: one port, or the first and last of a range. */
interface HostPorts {
  hostPort: number;
  /** 0 for one port, as the wire says it. */
  hostPortEnd: number;
}

/**
 * Defines --host-port, which takes "8080" or a range "8000-8010"; the
 * returned function reads it once the flags are parsed. A bad value is
 * refused as the flag parser refuses a bad number.
 */
function hostPortsFlag(flags: FlagSet): () => HostPorts {
  const flag = flags.string('host-port', '0');
  return () => {
    const text = flag.value;
    const one = parseUint32(text);
    if (one !== undefined) return { hostPort: one, hostPortEnd: 0 };
    const [first, last, ...rest] = text.split('-').map(parseUint32);
    if (first !== undefined && last !== undefined && rest.length === 0) return { hostPort: first, hostPortEnd: last };
    const reason = text.includes('-')
      ? `${quote(text)} is not a port range such as 8000-8010`
      : `${quote(text)} is not a number from 0 to 4294967295`;
    throw new FlagError({ kind: 'invalid-value', name: 'host-port', value: text, isBool: false, reason });
  };
}

const portAdd: CommandDefinition = {
  name: 'port add',
  parse(args, globalJson) {
    const { flags, json } = commandFlags(globalJson);
    const vlan = flags.uint32('vlan', 0);
    const containerIp = flags.string('container-ip', '');
    const containerPort = flags.uint32('container-port', 0);
    const hostPorts = hostPortsFlag(flags);
    const protocol = flags.string('protocol', 'tcp');
    const hostIp = flags.string('host-ip', '');
    const sources = flags.list('source');
    flags.parse(args);
    noPositional(flags);
    const request: AddPortMappingRequest = {
      containerIp: containerIp.value,
      containerPort: containerPort.value,
      ...hostPorts(),
      protocol: protocol.value,
      vlanId: vlan.value,
      hostIp: hostIp.value,
      allowedSources: sources.value,
    };
    const from = request.allowedSources.length === 0 ? '' : ` from ${request.allowedSources.join(', ')}`;
    return callingCommand(this.name, json.value, 'addPortMapping', request, () =>
      `published ${hostOrAll(request.hostIp)}:${portSpan(request.hostPort, request.hostPortEnd)}/${request.protocol} -> ` +
      `${request.containerIp}:${containerSpan(request.containerPort, request.hostPort, request.hostPortEnd)}${from}\n`);
  },
};

const portRemove: CommandDefinition = {
  name: 'port remove',
  parse(args, globalJson) {
    const { flags, json } = commandFlags(globalJson);
    const hostPorts = hostPortsFlag(flags);
    const protocol = flags.string('protocol', 'tcp');
    const hostIp = flags.string('host-ip', '');
    flags.parse(args);
    noPositional(flags);
    const request: RemovePortMappingRequest = {
      ...hostPorts(),
      protocol: protocol.value,
      hostIp: hostIp.value,
    };
    return callingCommand(this.name, json.value, 'removePortMapping', request, () =>
      `unpublished ${hostOrAll(request.hostIp)}:${portSpan(request.hostPort, request.hostPortEnd)}/${request.protocol}\n`);
  },
};

const portList: CommandDefinition = {
  name: 'port list',
  parse(args, globalJson) {
    const { flags, json } = commandFlags(globalJson);
    const request = { vlanId: parseWithId(flags, args, false) };
    return {
      name: this.name,
      request,
      json: json.value,
      execute: async (session) => {
        const state = await call(session, 'getState', request);
        // Only the mappings: the networks belong to `vlan list` and `status`.
        const ports: GetStateResponse = { networks: [], portMappings: state.portMappings };
        print(session, ports, (response) => formatPorts(response.portMappings));
      },
    };
  },
};

export const portCommands: readonly CommandDefinition[] = [portAdd, portRemove, portList];
