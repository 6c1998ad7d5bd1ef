/** `dns set|remove`: the names a network's gateway answers. */
import { quote } from '@router-service/core';
import type { ConfigureDNSRequest, RemoveDNSHostsRequest } from '@router-service/proto';
import { callingCommand, commandFlags, parseIdAndWords, type CommandDefinition } from './command.js';
import { UsageError } from './errors.js';
import { formatTable } from './table.js';

/** A DNS host table, names sorted, indented under its heading. */
export function formatHosts(hosts: Readonly<Record<string, string>>): string {
  const names = Object.keys(hosts).sort();
  return formatTable(names.map((name) => [`  ${name}`, hosts[name] ?? '']));
}

const dnsSet: CommandDefinition = {
  name: 'dns set',
  parse(args, globalJson) {
    const { flags, json } = commandFlags(globalJson);
    const domain = flags.string('domain', '');
    const replace = flags.bool('replace', false);
    const { id, words } = parseIdAndWords(flags, args);
    const hosts: Record<string, string> = {};
    for (const word of words) {
      const equals = word.indexOf('=');
      if (equals < 0) throw new UsageError(`host ${quote(word)}: write NAME=IP`);
      hosts[word.slice(0, equals)] = word.slice(equals + 1);
    }
    const request: ConfigureDNSRequest = {
      vlanId: id,
      subnet: '',
      gateway: '',
      domain: domain.value,
      hosts,
      replaceHosts: replace.value,
    };
    return callingCommand(this.name, json.value, 'configureDns', request, () =>
      `DNS of VLAN ${id} configured with ${Object.keys(hosts).length} host entries\n`);
  },
};

const dnsRemove: CommandDefinition = {
  name: 'dns remove',
  parse(args, globalJson) {
    const { flags, json } = commandFlags(globalJson);
    const { id, words } = parseIdAndWords(flags, args);
    if (words.length === 0) throw new UsageError('name at least one host to remove');
    const request: RemoveDNSHostsRequest = { vlanId: id, names: words };
    return callingCommand(this.name, json.value, 'removeDnsHosts', request, () =>
      `removed ${words.join(', ')} from VLAN ${id}\n`);
  },
};

export const dnsCommands: readonly CommandDefinition[] = [dnsSet, dnsRemove];
