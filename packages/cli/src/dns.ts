/** `dns set|remove`: the names a network's gateway answers. */
import { quote } from '@router-service/core';
import type { ConfigureDNSRequest, DNSConfig, DNSHost, RemoveDNSHostsRequest } from '@router-service/proto';
import { callingCommand, commandFlags, parseIdAndWords, type CommandDefinition } from './command.js';
import { UsageError } from './errors.js';
import { formatTable } from './table.js';

/**
 * A DNS host table, names sorted, indented under its heading: every address
 * of each name, from host_addresses, or from the one-address hosts map of
 * a service that predates it.
 */
export function formatHosts(dns: DNSConfig): string {
  const hosts = dns.hostAddresses.length > 0
    ? dns.hostAddresses.map((host): [string, string[]] => [host.name, host.addresses])
    : Object.entries(dns.hosts).map(([name, address]): [string, string[]] => [name, [address]]);
  hosts.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return formatTable(hosts.map(([name, addresses]) => [`  ${name}`, addresses.join(', ')]));
}

/**
 * The names of NAME=IP[,IP...] words, each with every address given for it
 * in any word, in the order given.
 */
function parseHostWords(words: readonly string[]): Map<string, string[]> {
  const hosts = new Map<string, string[]>();
  for (const word of words) {
    const equals = word.indexOf('=');
    if (equals < 0) throw new UsageError(`host ${quote(word)}: write NAME=IP or NAME=IP,IP...`);
    const name = word.slice(0, equals);
    hosts.set(name, [...(hosts.get(name) ?? []), ...word.slice(equals + 1).split(',')]);
  }
  return hosts;
}

const dnsSet: CommandDefinition = {
  name: 'dns set',
  parse(args, globalJson) {
    const { flags, json } = commandFlags(globalJson);
    const domain = flags.string('domain', '');
    const replace = flags.bool('replace', false);
    const { id, words } = parseIdAndWords(flags, args);
    // A name with one address goes in hosts, which every service reads;
    // only names with several need host_addresses.
    const hosts: Record<string, string> = {};
    const hostAddresses: DNSHost[] = [];
    let addressCount = 0;
    for (const [name, addresses] of parseHostWords(words)) {
      const [only] = addresses;
      if (only !== undefined && addresses.length === 1) hosts[name] = only;
      else hostAddresses.push({ name, addresses });
      addressCount += addresses.length;
    }
    const request: ConfigureDNSRequest = {
      vlanId: id,
      subnet: '',
      gateway: '',
      domain: domain.value,
      hosts,
      replaceHosts: replace.value,
      hostAddresses,
    };
    const nameCount = Object.keys(hosts).length + hostAddresses.length;
    const addressNote = addressCount === nameCount ? '' : ` (${addressCount} addresses)`;
    return callingCommand(this.name, json.value, 'configureDns', request, () =>
      `DNS of VLAN ${id} configured with ${nameCount} host entries${addressNote}\n`);
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
