/** `nat add|remove`: masquerading a network's subnet or other source subnets. */
import { callingCommand, commandFlags, parseWithId, type CommandDefinition } from './command.js';

function parseNatArgs(args: readonly string[], globalJson: boolean) {
  const { flags, json } = commandFlags(globalJson);
  const source = flags.string('source', '');
  const vlanId = parseWithId(flags, args, true);
  return { request: { vlanId, sourceSubnet: source.value }, json: json.value };
}

const natAdd: CommandDefinition = {
  name: 'nat add',
  parse(args, globalJson) {
    const { request, json } = parseNatArgs(args, globalJson);
    return callingCommand(this.name, json, 'configureNat', request, () =>
      request.sourceSubnet === ''
        ? `VLAN ${request.vlanId} masquerades its subnet\n`
        : `VLAN ${request.vlanId} masquerades ${request.sourceSubnet}\n`);
  },
};

const natRemove: CommandDefinition = {
  name: 'nat remove',
  parse(args, globalJson) {
    const { request, json } = parseNatArgs(args, globalJson);
    return callingCommand(this.name, json, 'removeNat', request, () =>
      request.sourceSubnet === ''
        ? `VLAN ${request.vlanId} masquerades nothing\n`
        : `VLAN ${request.vlanId} no longer masquerades ${request.sourceSubnet}\n`);
  },
};

export const natCommands: readonly CommandDefinition[] = [natAdd, natRemove];
