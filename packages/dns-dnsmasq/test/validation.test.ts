// Defence in depth: hostile values given to the backend directly, past
// core's validation, are refused with an invalid error before anything is
// written or started; hostile options are refused when the backend is made.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RouterError } from '@router-service/core';
import { checkName, checkUpstream, createDnsmasqBackend, type DnsmasqBackend } from '../src/index.js';
import { dnsState, type DnsNetworkSpec } from './fixtures.js';

const GOOD: DnsNetworkSpec = { vlan: 100, subnet: '172.18.0.0/16', gateway: '172.18.0.1', domain: 'net100.test', hosts: { web: '172.18.0.10' } };

/** A name of 254 characters: four labels of 63, 63, 63 and 62 plus three dots. */
const NAME_254 = ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(62)].join('.');

/** Names no hosts file or argument may hold. */
const HOSTILE_NAMES: readonly string[] = [
  '',
  'web\n172.18.0.66 evil',
  'web\r',
  'web\0',
  'we b',
  'web\t',
  '--',
  '--server=203.0.113.1',
  '-web',
  'web-',
  'a'.repeat(64),
  NAME_254,
  'wéb',
  'web\u212a', // the Kelvin sign, which toLowerCase turns into "k"
  'web#comment',
  'we/b',
  '/web/',
  'web.',
  '.web',
  'a..b',
  'web,x',
  'web=1',
  'web_1',
  '*',
];

/** Addresses no hosts file may hold. */
const HOSTILE_ADDRESSES: readonly string[] = [
  '',
  '172.18.0.10\n203.0.113.1 web',
  '172.18.0.10 evil',
  '172.18.0.10\0',
  ' 172.18.0.10',
  '172.18.0.010',
  '172.18.0.256',
  '172.18.0.10/32',
  '172.18.0.10#53',
  '::1',
  '--server=203.0.113.1',
  'web',
];

let stateDir: string;
let backend: DnsmasqBackend;
before(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'dnsmasq-validation-'));
  // No dnsmasq may start in these tests: the path would fail if one did.
  backend = createDnsmasqBackend({ stateDir, dnsmasqPath: '/nonexistent/dnsmasq', upstreams: [] });
});
after(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

const isInvalid = (err: unknown) => err instanceof RouterError && err.kind === 'invalid' && err.message.startsWith('[dnsmasq] ');

/** Syncs a good network with the hostile one and checks that nothing at all was written. */
async function refused(hostile: DnsNetworkSpec, what: string): Promise<void> {
  await assert.rejects(backend.sync([dnsState(GOOD), dnsState(hostile)]), isInvalid, what);
  await assert.rejects(backend.sync([dnsState(hostile)]), isInvalid, what);
  assert.deepEqual(await readdir(stateDir), [], `${what}: nothing written`);
  assert.equal(backend.pidOf(GOOD.vlan), undefined);
}

const other = (spec: Partial<DnsNetworkSpec>): DnsNetworkSpec => ({ ...GOOD, vlan: 200, subnet: '172.19.0.0/16', gateway: '172.19.0.1', ...spec });

test('hostile host names are refused, and nothing is written', async () => {
  for (const name of HOSTILE_NAMES) await refused(other({ hosts: { [name]: '172.19.0.10' } }), `name ${JSON.stringify(name)}`);
});

test('hostile domains are refused, and nothing is written', async () => {
  for (const domain of HOSTILE_NAMES.filter((d) => d !== '')) await refused(other({ domain }), `domain ${JSON.stringify(domain)}`);
});

test('hostile addresses, alone or among good ones, are refused, and nothing is written', async () => {
  for (const address of HOSTILE_ADDRESSES) {
    await refused(other({ hosts: { web: address } }), `address ${JSON.stringify(address)}`);
    await refused(other({ hosts: { web: ['172.19.0.10', address] } }), `address ${JSON.stringify(address)} in a list`);
  }
  await refused(other({ hosts: { web: [] } }), 'no address');
  await refused(other({ hosts: { web: 42 as unknown as string } }), 'a number');
});

test('hostile gateways, subnets and VLAN ids are refused, and nothing is written', async () => {
  for (const gateway of HOSTILE_ADDRESSES) await refused(other({ gateway }), `gateway ${JSON.stringify(gateway)}`);
  for (const subnet of ['172.19.0.0/16\n', '172.19.0.1/16', '172.19.0.0', '172.19.0.0/33', '--local=/x/', '::/0']) await refused(other({ subnet }), `subnet ${JSON.stringify(subnet)}`);
  for (const vlan of [0, 4095, -1, 1.5, Number.NaN]) await refused(other({ vlan }), `VLAN ${vlan}`);
  await assert.rejects(backend.sync([dnsState(GOOD), dnsState(GOOD)]), isInvalid, 'a VLAN twice');
});

test('hostile options are refused when the backend is made', () => {
  for (const upstream of ['', '203.0.113.1\n--conf-file=/etc/passwd', '203.0.113.1 ', '203.0.113.1#0', '203.0.113.1#65536', '203.0.113.1#053', '203.0.113.1#53#53', '--server=x', '203.0.113.01', 'fe80::1%eth0', '2001:DB8::1', 'resolver.example']) {
    assert.throws(() => createDnsmasqBackend({ stateDir, upstreams: [upstream] }), isInvalid, `upstream ${JSON.stringify(upstream)}`);
  }
  for (const resolvConf of ['resolv.conf', '/etc/resolv.conf\n--x', '']) assert.throws(() => createDnsmasqBackend({ stateDir, resolvConf }), isInvalid, `resolv.conf ${JSON.stringify(resolvConf)}`);
  for (const dnsmasqPath of ['dnsmasq', '/usr/sbin/dnsmasq\0']) assert.throws(() => createDnsmasqBackend({ stateDir, dnsmasqPath }), isInvalid, `dnsmasq ${JSON.stringify(dnsmasqPath)}`);
  for (const netns of ['../x', 'a b', '-n', '']) assert.throws(() => createDnsmasqBackend({ stateDir, netns }), isInvalid, `netns ${JSON.stringify(netns)}`);
});

test('good values pass the checks as they are, names lowered', () => {
  assert.equal(checkName('Web-1.Example', 'name'), 'web-1.example');
  assert.equal(checkName('a'.repeat(63), 'name'), 'a'.repeat(63));
  assert.equal(checkName(NAME_254.slice(1), 'name'), NAME_254.slice(1));
  for (const upstream of ['203.0.113.1', '203.0.113.1#5353', '2001:db8::1', '2001:db8::1#53']) assert.equal(checkUpstream(upstream), upstream);
});
