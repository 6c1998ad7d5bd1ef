/**
 * What dnsmasq gets for one network: its arguments and its hosts files,
 * rendered from checked values only (see desired.ts). Pure functions; the
 * golden tests pin their output.
 */
import { formatIPv4, mustParseIPv4, mustParseIPv4Prefix } from '@router-service/core';
import type { DnsmasqNetwork } from './desired.js';
import type { NetworkPaths } from './paths.js';
import { checkPath, checkUpstream } from './validate.js';

/** The user dnsmasq runs as: see user.ts for how it is chosen. */
export type DnsmasqUser = 'nobody' | 'root';

/** What a network's arguments depend on besides the network. */
export interface DnsmasqSettings {
  readonly paths: Pick<NetworkPaths, 'hostsDir' | 'pidFile'>;
  /** Upstream resolvers (`ADDRESS[#PORT]`); null forwards to the servers of `resolvConf`. */
  readonly upstreams: readonly string[] | null;
  readonly resolvConf: string;
  readonly user: DnsmasqUser;
}

/** Most reverse zones one subnet may need: a /25 (or a /1) spans 128. */
const MAX_REVERSE_ZONES = 128;

/**
 * The in-addr.arpa zones that cover exactly `subnet`: reverse zones end on
 * octet boundaries, so a /20 is sixteen /24 zones and a /26 sixty-four
 * single-address ones.
 */
export function reverseZones(subnet: string): string[] {
  const { address, bits } = mustParseIPv4Prefix(subnet);
  const zoneBits = Math.max(8, Math.ceil(bits / 8) * 8);
  const count = Math.min(2 ** (zoneBits - bits), MAX_REVERSE_ZONES);
  const zones: string[] = [];
  for (let i = 0; i < count; i++) {
    const octets = formatIPv4(address + i * 2 ** (32 - zoneBits)).split('.').slice(0, zoneBits / 8);
    zones.push(`${octets.reverse().join('.')}.in-addr.arpa`);
  }
  return zones;
}

/** Where names the resolver does not know itself are sent. */
function upstreamArgs(network: DnsmasqNetwork, settings: DnsmasqSettings): string[] {
  // An internal network has no way out: nothing is forwarded.
  if (network.internal) return ['--no-resolv'];
  if (settings.upstreams === null) return [`--resolv-file=${checkPath(settings.resolvConf, 'resolv.conf')}`];
  return ['--no-resolv', ...settings.upstreams.map((u) => `--server=${checkUpstream(u)}`)];
}

/**
 * The arguments of the network's dnsmasq (without the program). Every
 * option is one element; no value comes from anywhere but `network` and
 * `settings`, all checked.
 */
export function renderArgv(network: DnsmasqNetwork, settings: DnsmasqSettings): string[] {
  const domain = network.domain === '' ? [] : [`--domain=${network.domain}`, `--local=/${network.domain}/`, '--expand-hosts'];
  return [
    '--keep-in-foreground',
    // No configuration file, no /etc/hosts: only what is below.
    '--conf-file=/dev/null',
    '--no-hosts',
    `--hostsdir=${checkPath(settings.paths.hostsDir, 'hosts directory')}`,
    `--pid-file=${checkPath(settings.paths.pidFile, 'pid file')}`,
    `--listen-address=${network.gateway}`,
    // Binds the gateway address when it appears, and again after its link
    // was recreated; --bind-interfaces would exit when it is not there yet.
    '--bind-dynamic',
    `--user=${settings.user}`,
    '--log-facility=-',
    // A bare name is a container's or nothing: never asked upstream.
    '--domain-needed',
    ...domain,
    // Addresses of the subnet without a name: NXDOMAIN here, not upstream.
    `--local=/${reverseZones(network.subnet).join('/')}/`,
    ...upstreamArgs(network, settings),
  ];
}

/** One file of a network's hosts directory. */
export interface HostsFile {
  /** The address the file is about, which is also its name. */
  readonly name: string;
  readonly content: string;
}

/**
 * The network's hosts directory: one file per address, named after it,
 * holding one `ADDRESS NAME...` line with its names sorted. dnsmasq
 * re-reads only the files that change, and a file re-read costs the same
 * however many names the network has (a single file for all names took a time
 * that grew with the square of their number, and queries waited behind it).
 * The first name of the line is the one the address's PTR record answers,
 * so it does not depend on input order. Ordered by address.
 */
export function renderHostsFiles(network: DnsmasqNetwork): HostsFile[] {
  // Records come sorted by name, so each address's names do too.
  const namesByAddress = new Map<string, string[]>();
  for (const record of network.records) {
    for (const address of record.addresses) {
      const names = namesByAddress.get(address);
      if (names === undefined) namesByAddress.set(address, [record.name]);
      else names.push(record.name);
    }
  }
  // Each address is parsed once, not in every comparison of the sort.
  return [...namesByAddress]
    .map(([address, names]) => ({ key: mustParseIPv4(address), file: { name: address, content: `${address} ${names.join(' ')}\n` } }))
    .sort((x, y) => x.key - y.key)
    .map(({ file }) => file);
}
