/** `vlan create|delete|list`: the networks themselves. */
import type { CreateVLANRequest, VLANInterface } from '@router-service/proto';
import { callingCommand, commandFlags, parseWithId, type CommandDefinition } from './command.js';
import { formatTable } from './table.js';

export function dash(text: string): string {
  return text === '' ? '-' : text;
}

/** The networks table shared by `vlan list` and `status`. */
export function formatVlans(vlans: readonly VLANInterface[]): string {
  const rows = vlans.map((vlan) => [
    String(vlan.vlanId),
    dash(vlan.networkName),
    vlan.interfaceName,
    vlan.subnet,
    vlan.gateway,
    String(vlan.mtu),
    vlan.isUp ? 'up' : 'down',
    vlan.internal ? 'internal' : vlan.natEnabled ? 'on' : 'off',
    vlan.macAddress,
  ]);
  return formatTable([['VLAN', 'NAME', 'INTERFACE', 'SUBNET', 'GATEWAY', 'MTU', 'STATE', 'NAT', 'MAC'], ...rows]);
}

const vlanCreate: CommandDefinition = {
  name: 'vlan create',
  parse(args, globalJson) {
    const { flags, json } = commandFlags(globalJson);
    const subnet = flags.string('subnet', '');
    const gateway = flags.string('gateway', '');
    const name = flags.string('name', '');
    const mtu = flags.uint32('mtu', 0);
    const nat = flags.bool('nat', true);
    const internal = flags.bool('internal', false);
    const vlanId = parseWithId(flags, args, true);
    const request: CreateVLANRequest = {
      vlanId,
      subnet: subnet.value,
      gateway: gateway.value,
      networkName: name.value,
      mtu: mtu.value,
      internal: internal.value,
    };
    // Only a --nat given on the command line is sent: absent means the
    // service's default (on), which differs from an explicit true for
    // internal networks.
    if (nat.set) request.enableNat = nat.value;
    return callingCommand(this.name, json.value, 'createVlan', request, (response) =>
      `created VLAN ${vlanId}: interface ${response.interfaceName}, MAC ${response.macAddress}\n`);
  },
};

const vlanDelete: CommandDefinition = {
  name: 'vlan delete',
  parse(args, globalJson) {
    const { flags, json } = commandFlags(globalJson);
    const vlanId = parseWithId(flags, args, true);
    const request = { vlanId };
    return callingCommand(this.name, json.value, 'deleteVlan', request, () => `deleted VLAN ${vlanId}\n`);
  },
};

const vlanList: CommandDefinition = {
  name: 'vlan list',
  parse(args, globalJson) {
    const { flags, json } = commandFlags(globalJson);
    const request = { vlanId: parseWithId(flags, args, false) };
    return callingCommand(this.name, json.value, 'listVlaNs', request, (response) => formatVlans(response.vlans));
  },
};

export const vlanCommands: readonly CommandDefinition[] = [vlanCreate, vlanDelete, vlanList];
