// Golden tests of the rendering: the exact dnsmasq arguments and hosts files
// for a few desired states. Regenerate with UPDATE_GOLDEN=1 after a
// deliberate change, and review the diff.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { dnsmasqNetworkOf, networkPaths, renderArgv, renderHostsFiles, reverseZones, type DnsmasqSettings, type HostsFile } from '../src/index.js';
import { dnsState, type DnsNetworkSpec } from './fixtures.js';

// Compiled tests run from dist/test; the golden files stay in the sources.
const GOLDEN_DIR = new URL('../../test/golden/', import.meta.url);
const ROOT = '/var/lib/router-service/dnsmasq';

interface GoldenCase {
  readonly network: DnsNetworkSpec;
  readonly settings: Omit<DnsmasqSettings, 'paths'>;
}

const UPSTREAMS = ['192.0.2.53', '192.0.2.54#5353', '2001:db8::53'];

const goldenCases: Record<string, GoldenCase> = {
  // A domain, upstreams from the configuration, aliases and round robin.
  'domain-upstreams': {
    network: {
      vlan: 100,
      subnet: '172.18.0.0/16',
      gateway: '172.18.0.1',
      domain: 'net100.test',
      hosts: { web: '172.18.0.10', www: '172.18.0.10', db: ['172.18.0.20'], rr: ['172.18.0.12', '172.18.0.11', '172.18.0.9'] },
    },
    settings: { upstreams: UPSTREAMS, resolvConf: '/etc/resolv.conf', user: 'nobody' },
  },
  // No domain; the router's resolv.conf; a /20, which is sixteen reverse zones; dnsmasq as root.
  'no-domain-resolv-conf': {
    network: { vlan: 200, subnet: '172.19.16.0/20', gateway: '172.19.16.1', domain: '', hosts: { 'api.example': '172.19.20.5', cache: '172.19.16.7' } },
    settings: { upstreams: null, resolvConf: '/etc/resolv.conf', user: 'root' },
  },
  // Internal: no upstream whatever the configuration says.
  internal: {
    network: { vlan: 300, subnet: '10.30.0.0/24', gateway: '10.30.0.1', domain: 'internal.test', internal: true, hosts: { app: '10.30.0.5', 'app-2': '10.30.0.5' } },
    settings: { upstreams: UPSTREAMS, resolvConf: '/etc/resolv.conf', user: 'nobody' },
  },
  // No names yet; a /30, whose reverse zones are single addresses; no upstream at all.
  'empty-small-subnet': {
    network: { vlan: 4094, subnet: '192.168.77.0/30', gateway: '192.168.77.1', domain: 'tiny.test', hosts: {} },
    settings: { upstreams: [], resolvConf: '/etc/resolv.conf', user: 'nobody' },
  },
};

/** The first line that differs, with its number, to keep a failure short. */
function firstDifference(actual: string, expected: string): string {
  const a = actual.split('\n');
  const e = expected.split('\n');
  const i = a.findIndex((line, n) => line !== e[n]);
  const n = i === -1 ? a.length : i;
  return `line ${n + 1}: got ${JSON.stringify(a[n] ?? '<end>')}, golden has ${JSON.stringify(e[n] ?? '<end>')}`;
}

function checkGolden(file: string, actual: string): void {
  const url = new URL(file, GOLDEN_DIR);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(url, actual);
  const expected = readFileSync(url, 'utf8');
  if (actual !== expected) assert.fail(`differs from test/golden/${file} (UPDATE_GOLDEN=1 rewrites it): ${firstDifference(actual, expected)}`);
}

function rendered(c: GoldenCase): { argv: string[]; hosts: HostsFile[] } {
  const network = dnsmasqNetworkOf(dnsState(c.network));
  assert.ok(network !== undefined);
  const settings: DnsmasqSettings = { ...c.settings, paths: networkPaths(ROOT, c.network.vlan) };
  return { argv: renderArgv(network, settings), hosts: renderHostsFiles(network) };
}

/** The hosts directory as text: each file's name, a colon, and its content. */
function hostsDirText(files: readonly HostsFile[]): string {
  return files.map((file) => `${file.name}: ${file.content}`).join('');
}

for (const [name, c] of Object.entries(goldenCases)) {
  test(`${name}: argv matches test/golden/${name}.argv, hosts files test/golden/${name}.hosts`, () => {
    const { argv, hosts } = rendered(c);
    checkGolden(`${name}.argv`, `${argv.join('\n')}\n`);
    checkGolden(`${name}.hosts`, hostsDirText(hosts));
  });
}

test('each hosts file is one line naming its own address, so no file holds another address', () => {
  for (const c of Object.values(goldenCases)) {
    for (const file of rendered(c).hosts) assert.match(file.content, new RegExp(`^${file.name.replaceAll('.', '\\.')}( [a-z0-9.-]+)+\n$`), file.name);
  }
});

test('every option is one argument of the form --name or --name=value', () => {
  for (const c of Object.values(goldenCases)) {
    for (const arg of rendered(c).argv) assert.match(arg, /^--[a-z-]+(=[^\s]+)?$/, arg);
  }
});

test('the rendering does not depend on the order of the hosts', () => {
  const c = goldenCases['domain-upstreams']!;
  const reversed = { ...c, network: { ...c.network, hosts: Object.fromEntries(Object.entries(c.network.hosts).reverse()) } };
  assert.deepEqual(rendered(reversed), rendered(c));
});

test('names are lowered, and names differing only in case are one name', () => {
  const network = dnsmasqNetworkOf(dnsState({ vlan: 5, subnet: '10.5.0.0/16', gateway: '10.5.0.1', domain: 'Example.TEST', hosts: { Web: '10.5.0.2', WEB: ['10.5.0.3', '10.5.0.2'] } }));
  assert.deepEqual(network?.domain, 'example.test');
  assert.deepEqual(network?.records, [{ name: 'web', addresses: ['10.5.0.2', '10.5.0.3'] }]);
});

test('a network with DNS off has no resolver', () => {
  const state = dnsState({ vlan: 5, subnet: '10.5.0.0/16', gateway: '10.5.0.1', domain: '', hosts: {} });
  assert.equal(dnsmasqNetworkOf({ ...state, network: { ...state.network, dns: null } }), undefined);
});

test('reverse zones cover exactly the subnet', () => {
  assert.deepEqual(reverseZones('172.18.0.0/16'), ['18.172.in-addr.arpa']);
  assert.deepEqual(reverseZones('10.0.0.0/8'), ['10.in-addr.arpa']);
  assert.deepEqual(reverseZones('192.168.1.0/24'), ['1.168.192.in-addr.arpa']);
  assert.deepEqual(reverseZones('192.168.1.7/32'), ['7.1.168.192.in-addr.arpa']);
  assert.deepEqual(reverseZones('172.20.0.0/15'), ['20.172.in-addr.arpa', '21.172.in-addr.arpa']);
  assert.deepEqual(reverseZones('192.168.1.64/30'), ['64.1.168.192.in-addr.arpa', '65.1.168.192.in-addr.arpa', '66.1.168.192.in-addr.arpa', '67.1.168.192.in-addr.arpa']);
  assert.equal(reverseZones('192.168.1.0/25').length, 128);
  assert.equal(reverseZones('172.16.0.0/12').length, 16);
  assert.equal(reverseZones('172.16.0.0/12').at(-1), '31.172.in-addr.arpa');
});
