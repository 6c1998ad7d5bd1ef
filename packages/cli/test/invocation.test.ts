import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HelpRequest, UsageError } from '../src/errors.js';
import { parseInvocation } from '../src/invocation.js';

interface Accepted {
  readonly argv: string;
  readonly name: string;
  readonly request: object;
  readonly json?: boolean;
  readonly addr?: string;
  readonly timeoutMs?: number;
}

const createDefaults = { subnet: '', gateway: '', networkName: '', mtu: 0, internal: false };

const accepted: readonly Accepted[] = [
  { argv: 'status', name: 'status', request: { checkKernel: true } },
  { argv: 'status --json', name: 'status', request: { checkKernel: true }, json: true },
  { argv: 'health', name: 'health', request: { checkKernel: true } },
  { argv: '--json health', name: 'health', request: { checkKernel: true }, json: true },
  {
    argv: 'vlan create 100 --subnet 10.1.0.0/24 --internal --mtu 1400',
    name: 'vlan create',
    request: { ...createDefaults, vlanId: 100, subnet: '10.1.0.0/24', internal: true, mtu: 1400 },
  },
  {
    argv: 'vlan create --subnet 10.1.0.0/24 100 --internal --mtu 1400',
    name: 'vlan create',
    request: { ...createDefaults, vlanId: 100, subnet: '10.1.0.0/24', internal: true, mtu: 1400 },
  },
  {
    argv: 'vlan create --subnet 10.1.0.0/24 --internal --mtu 1400 100',
    name: 'vlan create',
    request: { ...createDefaults, vlanId: 100, subnet: '10.1.0.0/24', internal: true, mtu: 1400 },
  },
  {
    argv: 'vlan create 7 --subnet=10.7.0.0/16 --gateway 10.7.0.254 --name web -nat=false',
    name: 'vlan create',
    request: {
      ...createDefaults,
      vlanId: 7,
      subnet: '10.7.0.0/16',
      gateway: '10.7.0.254',
      networkName: 'web',
      enableNat: false,
    },
  },
  {
    argv: 'vlan create 7 --subnet 10.7.0.0/16 --nat',
    name: 'vlan create',
    request: { ...createDefaults, vlanId: 7, subnet: '10.7.0.0/16', enableNat: true },
  },
  { argv: 'vlan delete 100', name: 'vlan delete', request: { vlanId: 100 } },
  { argv: 'vlan delete --json 100', name: 'vlan delete', request: { vlanId: 100 }, json: true },
  { argv: 'vlan list', name: 'vlan list', request: { vlanId: 0 } },
  { argv: 'vlan list 42 --json', name: 'vlan list', request: { vlanId: 42 }, json: true },
  { argv: 'nat add 100', name: 'nat add', request: { vlanId: 100, sourceSubnet: '' } },
  {
    argv: 'nat add --source 10.9.0.0/16 100',
    name: 'nat add',
    request: { vlanId: 100, sourceSubnet: '10.9.0.0/16' },
  },
  { argv: 'nat remove 100', name: 'nat remove', request: { vlanId: 100, sourceSubnet: '' } },
  {
    argv: 'nat remove 100 --source 10.9.0.0/16',
    name: 'nat remove',
    request: { vlanId: 100, sourceSubnet: '10.9.0.0/16' },
  },
  {
    argv: 'dns set 100 --domain corp.example --replace web=172.18.0.2 db=172.18.0.3',
    name: 'dns set',
    request: {
      vlanId: 100,
      subnet: '',
      gateway: '',
      domain: 'corp.example',
      hosts: { web: '172.18.0.2', db: '172.18.0.3' },
      replaceHosts: true,
      hostAddresses: [],
    },
  },
  {
    argv: 'dns set 100',
    name: 'dns set',
    request: { vlanId: 100, subnet: '', gateway: '', domain: '', hosts: {}, replaceHosts: false, hostAddresses: [] },
  },
  {
    argv: 'dns set 100 web=172.18.0.2,172.18.0.3 db=172.18.0.4 web=172.18.0.9 cache=172.18.0.5,',
    name: 'dns set',
    request: {
      vlanId: 100,
      subnet: '',
      gateway: '',
      domain: '',
      hosts: { db: '172.18.0.4' },
      replaceHosts: false,
      hostAddresses: [
        { name: 'web', addresses: ['172.18.0.2', '172.18.0.3', '172.18.0.9'] },
        { name: 'cache', addresses: ['172.18.0.5', ''] },
      ],
    },
  },
  { argv: 'dns remove 100 web db', name: 'dns remove', request: { vlanId: 100, names: ['web', 'db'] } },
  {
    argv: 'port add --vlan 100 --container-ip 172.18.0.2 --container-port 80 --host-port 8080',
    name: 'port add',
    request: {
      containerIp: '172.18.0.2',
      containerPort: 80,
      hostPort: 8080,
      protocol: 'tcp',
      vlanId: 100,
      hostIp: '',
      hostPortEnd: 0,
      allowedSources: [],
    },
  },
  {
    argv: 'port add --container-ip 172.18.0.2 --container-port 80 --host-port 8000-8010 --protocol sctp --source 10.0.0.0/8 --source 192.0.2.7',
    name: 'port add',
    request: {
      containerIp: '172.18.0.2',
      containerPort: 80,
      hostPort: 8000,
      hostPortEnd: 8010,
      protocol: 'sctp',
      vlanId: 0,
      hostIp: '',
      allowedSources: ['10.0.0.0/8', '192.0.2.7'],
    },
  },
  {
    argv: 'port add --container-ip 172.18.0.2 --container-port 53 --host-port 53 --protocol udp --host-ip 10.0.0.1',
    name: 'port add',
    request: {
      containerIp: '172.18.0.2',
      containerPort: 53,
      hostPort: 53,
      protocol: 'udp',
      vlanId: 0,
      hostIp: '10.0.0.1',
      hostPortEnd: 0,
      allowedSources: [],
    },
  },
  {
    argv: 'port remove --host-port 8080',
    name: 'port remove',
    request: { hostPort: 8080, hostPortEnd: 0, protocol: 'tcp', hostIp: '' },
  },
  {
    argv: 'port remove --host-port 8000-8010',
    name: 'port remove',
    request: { hostPort: 8000, hostPortEnd: 8010, protocol: 'tcp', hostIp: '' },
  },
  {
    argv: 'port remove --host-port 53 --protocol udp --host-ip 10.0.0.1',
    name: 'port remove',
    request: { hostPort: 53, hostPortEnd: 0, protocol: 'udp', hostIp: '10.0.0.1' },
  },
  { argv: 'port list', name: 'port list', request: { vlanId: 0 } },
  { argv: 'port list 100', name: 'port list', request: { vlanId: 100 } },
  {
    argv: '--addr unix:///run/router.sock --timeout 1m30s vlan list',
    name: 'vlan list',
    request: { vlanId: 0 },
    addr: 'unix:///run/router.sock',
    timeoutMs: 90_000,
  },
  { argv: '-timeout=500ms health', name: 'health', request: { checkKernel: true }, timeoutMs: 500 },
];

describe('parseInvocation accepts', () => {
  for (const want of accepted) {
    test(want.argv, () => {
      const invocation = parseInvocation(want.argv.split(' '));
      assert.equal(invocation.command.name, want.name);
      assert.deepEqual(invocation.command.request, want.request);
      assert.equal(invocation.command.json, want.json ?? false);
      assert.equal(invocation.addr, want.addr ?? 'vsock://1:50052');
      assert.equal(invocation.timeoutMs, want.timeoutMs ?? 10_000);
    });
  }

  test('an absent --nat leaves enable_nat unset', () => {
    const { command } = parseInvocation(['vlan', 'create', '5', '--subnet', '10.5.0.0/24']);
    assert.equal('enableNat' in command.request, false);
  });
});

const rejected: readonly (readonly [argv: string, message: string])[] = [
  ['', 'no command given'],
  ['vlan', 'unknown command "vlan"'],
  ['vlan frobnicate 1', 'unknown command "vlan frobnicate 1"'],
  ['--bogus health', 'flag provided but not defined: -bogus'],
  ['--timeout soon health', 'invalid value "soon" for flag -timeout: parse error'],
  ['--addr', 'flag needs an argument: -addr'],
  ['health extra', 'health takes no arguments'],
  ['status extra', 'unexpected arguments: [extra]'],
  ['vlan create 100 200', 'unexpected arguments: [200]'],
  ['vlan create --subnet x 100 7', 'unexpected arguments: [7]'],
  ['vlan create', 'a VLAN id is required'],
  ['vlan create abc', 'VLAN id "abc" is not a number'],
  ['vlan create -1', 'flag provided but not defined: -1'],
  ['vlan create 4294967296', 'VLAN id "4294967296" is not a number'],
  ['vlan create --mtu 4294967376 1', 'invalid value "4294967376" for flag -mtu: "4294967376" is not a number from 0 to 4294967295'],
  ['vlan create 1 --mtu -5', 'invalid value "-5" for flag -mtu: "-5" is not a number from 0 to 4294967295'],
  ['vlan create 1 --nat=maybe', 'invalid boolean value "maybe" for -nat: parse error'],
  ['vlan create 1 --subnet', 'flag needs an argument: -subnet'],
  ['vlan create 1 ---subnet x', 'bad flag syntax: ---subnet'],
  ['vlan delete', 'a VLAN id is required'],
  ['vlan delete 1 --subnet 10.0.0.0/24', 'flag provided but not defined: -subnet'],
  ['vlan list 1 2', 'unexpected arguments: [2]'],
  ['vlan list x', 'VLAN id "x" is not a number'],
  ['nat add', 'a VLAN id is required'],
  ['nat remove 1 --source', 'flag needs an argument: -source'],
  ['dns set', 'a VLAN id is required'],
  ['dns set web=1.2.3.4', 'VLAN id "web=1.2.3.4" is not a number'],
  ['dns set 1 web', 'host "web": write NAME=IP or NAME=IP,IP...'],
  ['dns remove 1', 'name at least one host to remove'],
  ['port add --host-port 70000000000', 'invalid value "70000000000" for flag -host-port: "70000000000" is not a number from 0 to 4294967295'],
  ['port add --container-port 4294967376', 'is not a number from 0 to 4294967295'],
  ['port add --host-port 8000-', 'invalid value "8000-" for flag -host-port: "8000-" is not a port range such as 8000-8010'],
  ['port remove --host-port 1-2-3', 'is not a port range such as 8000-8010'],
  ['port add --host-port http', 'invalid value "http" for flag -host-port: "http" is not a number from 0 to 4294967295'],
  ['port add --vlan 1 stray', 'unexpected arguments: [stray]'],
  ['port remove --host-port 80 stray', 'unexpected arguments: [stray]'],
  ['port list 1 2', 'unexpected arguments: [2]'],
];

describe('parseInvocation rejects', () => {
  for (const [argv, message] of rejected) {
    test(argv === '' ? '(nothing)' : argv, () => {
      assert.throws(
        () => parseInvocation(argv === '' ? [] : argv.split(' ')),
        (error: unknown) => error instanceof UsageError && error.message.includes(message),
      );
    });
  }

  test('an unknown command comes with the command summary', () => {
    assert.throws(
      () => parseInvocation(['frobnicate']),
      (error: unknown) => error instanceof UsageError && error.showUsage,
    );
  });

  test('--help anywhere is a request for help, not a mistake', () => {
    for (const argv of [['--help'], ['-h'], ['vlan', 'create', '--help']]) {
      assert.throws(() => parseInvocation(argv), HelpRequest);
    }
  });
});
