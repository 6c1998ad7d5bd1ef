/** `port add|remove|list`: host ports published to containers. */
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

/** The port mappings table shared by `port list` and `status`. */
export function formatPorts(mappings: readonly PortMapping[]): string {
  const rows = mappings.map((mapping) => [
    mapping.protocol,
    `${hostOrAll(mapping.hostIp)}:${mapping.hostPort}`,
    `${mapping.containerIp}:${mapping.containerPort}`,
    String(mapping.vlanId),
  ]);
  return formatTable([['PROTO', 'HOST', 'CONTAINER', 'VLAN'], ...rows]);
}

const portAdd: CommandDefinition = {
  name: 'port add',
  parse(args, globalJson) {
    const { flags, json } = commandFlags(globalJson);
    const vlan = flags.uint32('vlan', 0);
    const containerIp = flags.string('container-ip', '');
    const containerPort = flags.uint32('container-port', 0);
    const hostPort = flags.uint32('host-port', 0);
    const protocol = flags.string('protocol', 'tcp');
    const hostIp = flags.string('host-ip', '');
    flags.parse(args);
    noPositional(flags);
    const request: AddPortMappingRequest = {
      containerIp: containerIp.value,
      containerPort: containerPort.value,
      hostPort: hostPort.value,
      protocol: protocol.value,
      vlanId: vlan.value,
      hostIp: hostIp.value,
    };
    return callingCommand(this.name, json.value, 'addPortMapping', request, () =>
      `published ${hostOrAll(request.hostIp)}:${request.hostPort}/${request.protocol} -> ` +
      `${request.containerIp}:${request.containerPort}\n`);
  },
};

const portRemove: CommandDefinition = {
  name: 'port remove',
  parse(args, globalJson) {
    const { flags, json } = commandFlags(globalJson);
    const hostPort = flags.uint32('host-port', 0);
    const protocol = flags.string('protocol', 'tcp');
    const hostIp = flags.string('host-ip', '');
    flags.parse(args);
    noPositional(flags);
    const request: RemovePortMappingRequest = {
      hostPort: hostPort.value,
      protocol: protocol.value,
      hostIp: hostIp.value,
    };
    return callingCommand(this.name, json.value, 'removePortMapping', request, () =>
      `unpublished ${hostOrAll(request.hostIp)}:${request.hostPort}/${request.protocol}\n`);
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
