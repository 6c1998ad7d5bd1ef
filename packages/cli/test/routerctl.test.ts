/** routerctl as a real process against a fake service on a unix socket. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, beforeEach, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import type { GetStateResponse, HealthResponse, VLANInterface } from '@router-service/proto';
import { FakeRouter } from './fake-router.js';
import { USAGE } from '../src/usage.js';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function routerctl(args: readonly string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

const vlan: VLANInterface = {
  vlanId: 100,
  interfaceName: 'eth0.100',
  gateway: '172.18.0.1',
  subnet: '172.18.0.0/16',
  macAddress: '02:00:00:00:00:64',
  mtu: 1500,
  isUp: true,
  natEnabled: true,
  networkName: 'web',
  internal: false,
};

/** As a service that predates host_addresses answers: each name in hosts only. */
const state: GetStateResponse = {
  networks: [{ vlan, natSources: [], dns: { enabled: true, domain: 'corp', hosts: { web: '172.18.0.2' }, hostAddresses: [] } }],
  portMappings: [
    { protocol: 'tcp', hostIp: '', hostPort: 8080, containerIp: '172.18.0.2', containerPort: 80, vlanId: 100, hostPortEnd: 8080, allowedSources: [] },
  ],
};

const health: HealthResponse = {
  healthy: true,
  status: 'ok',
  activeVlans: 1,
  uptimeSeconds: 65,
  firewallBackend: 'nft',
  dnsBackend: 'none',
  kernelInSync: true,
  kernelDrift: '',
  kernelChecked: true,
};

describe('routerctl against a service', () => {
  let fake: FakeRouter;
  const at = (...args: string[]): Promise<Result> => routerctl(['--addr', fake.address, ...args]);

  before(async () => {
    fake = await FakeRouter.start();
  });
  after(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.received.length = 0;
    fake.answer('getHealth', health);
    fake.answer('getState', state);
    fake.answer('listVlaNs', { vlans: [vlan], error: '' });
  });

  test('health prints a table and exits 0', async () => {
    const result = await at('health');
    assert.deepEqual(result, {
      code: 0,
      stdout: 'healthy   true\nstatus    ok\nnetworks  1\nuptime    1m5s\nfirewall  nft\ndns       none\nkernel    in sync\n',
      stderr: '',
    });
    assert.deepEqual(fake.received, [{ rpc: 'getHealth', request: { checkKernel: true } }], 'routerctl asks for the kernel comparison');
  });

  test('an unhealthy service exits 1 after printing its health', async () => {
    fake.answer('getHealth', { ...health, healthy: false, status: 'reconcile failed: boom', activeVlans: 0, uptimeSeconds: 1 });
    const result = await at('health');
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^healthy {3}false\nstatus {4}reconcile failed: boom\n/);
    assert.equal(result.stderr, 'routerctl: service is unhealthy\n');
  });

  test('vlan list --json prints the response as protojson', async () => {
    const result = await at('vlan', 'list', '--json');
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { vlans: [vlan], error: '' });
    assert.match(result.stdout, /^{\n {2}"vlans": \[\n {4}{\n {6}"vlanId": 100,/);
    assert.deepEqual(fake.received, [{ rpc: 'listVlaNs', request: { vlanId: 0 } }]);
  });

  test('status prints health, networks, DNS and port mappings', async () => {
    const result = await at('status');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      [
        'health: ok, 1 networks, 1 port mappings, up 1m5s',
        'backends: firewall nft, dns none',
        'kernel: in sync',
        '',
        'VLAN  NAME  INTERFACE  SUBNET         GATEWAY     MTU   STATE  NAT  MAC',
        '100   web   eth0.100   172.18.0.0/16  172.18.0.1  1500  up     on   02:00:00:00:00:64',
        '',
        'VLAN 100 DNS (domain corp):',
        '  web  172.18.0.2',
        '',
        'PROTO  HOST    CONTAINER      VLAN  SOURCES',
        'tcp    *:8080  172.18.0.2:80  100   any',
        '',
      ].join('\n'),
    );
  });

  test('status --json prints the health and the state', async () => {
    const result = await at('--json', 'status');
    assert.equal(result.code, 0, result.stderr);
    const [healthJson, rest] = result.stdout.split(/(?<=^\}\n)/m);
    assert.deepEqual(JSON.parse(healthJson ?? ''), {
      healthy: true,
      status: 'ok',
      activeVlans: 1,
      uptimeSeconds: '65',
      firewallBackend: 'nft',
      dnsBackend: 'none',
      kernelInSync: true,
      kernelDrift: '',
      kernelChecked: true,
    });
    assert.deepEqual(JSON.parse(rest ?? ''), state);
    assert.deepEqual(fake.received[0], { rpc: 'getHealth', request: { checkKernel: true } }, 'routerctl asks for the kernel comparison');
  });

  test('vlan create sends enable_nat only when --nat is given', async () => {
    fake.answer('createVlan', { success: true, interfaceName: 'eth0.7', macAddress: '02:00:00:00:00:07', error: '' });
    const plain = await at('vlan', 'create', '7', '--subnet', '10.7.0.0/24');
    assert.deepEqual(plain, {
      code: 0,
      stdout: 'created VLAN 7: interface eth0.7, MAC 02:00:00:00:00:07\n',
      stderr: '',
    });
    const off = await at('vlan', 'create', '--subnet', '10.7.0.0/24', '7', '--nat=false', '--mtu', '1400');
    assert.equal(off.code, 0, off.stderr);
    const common = { vlanId: 7, subnet: '10.7.0.0/24', gateway: '', networkName: '', internal: false };
    assert.deepEqual(fake.received, [
      { rpc: 'createVlan', request: { ...common, mtu: 0, enableNat: undefined } },
      { rpc: 'createVlan', request: { ...common, mtu: 1400, enableNat: false } },
    ]);
  });

  test('the service refusing a request: `routerctl: <Code>: <message>` and exit 1', async () => {
    const refusals = [
      [status.INVALID_ARGUMENT, 'InvalidArgument', 'vlan_id 5000 is out of range: use 1 to 4094'],
      [status.NOT_FOUND, 'NotFound', 'VLAN 9 does not exist: create it with CreateVLAN first'],
      [status.ALREADY_EXISTS, 'AlreadyExists', 'subnet 10.0.0.0/24 overlaps VLAN 100'],
      [status.FAILED_PRECONDITION, 'FailedPrecondition', 'eth0.9 is not managed by router-service'],
      [status.INTERNAL, 'Internal', 'injected netlink failure'],
    ] as const;
    for (const [code, name, details] of refusals) {
      fake.answer('createVlan', { code, details });
      const result = await at('vlan', 'create', '5000', '--subnet', '10.0.0.0/24');
      assert.deepEqual(result, { code: 1, stdout: '', stderr: `routerctl: ${name}: ${details}\n` });
    }
  });

  test('every command calls its method and prints its outcome', async () => {
    const ok = { success: true, error: '' };
    fake.answer('deleteVlan', ok);
    fake.answer('configureNat', ok);
    fake.answer('removeNat', ok);
    fake.answer('configureDns', ok);
    fake.answer('removeDnsHosts', ok);
    fake.answer('addPortMapping', ok);
    fake.answer('removePortMapping', ok);
    const cases: readonly (readonly [readonly string[], string])[] = [
      [['vlan', 'delete', '100'], 'deleted VLAN 100\n'],
      [['nat', 'add', '100'], 'VLAN 100 masquerades its subnet\n'],
      [['nat', 'add', '100', '--source', '10.9.0.0/16'], 'VLAN 100 masquerades 10.9.0.0/16\n'],
      [['nat', 'remove', '100'], 'VLAN 100 masquerades nothing\n'],
      [['nat', 'remove', '100', '--source', '10.9.0.0/16'], 'VLAN 100 no longer masquerades 10.9.0.0/16\n'],
      [['dns', 'set', '100', '--domain', 'corp', 'web=172.18.0.2', 'db=172.18.0.3'], 'DNS of VLAN 100 configured with 2 host entries\n'],
      [['dns', 'set', '100', 'web=172.18.0.2,172.18.0.3', 'db=172.18.0.4'], 'DNS of VLAN 100 configured with 2 host entries (3 addresses)\n'],
      [['dns', 'remove', '100', 'web', 'db'], 'removed web, db from VLAN 100\n'],
      [
        ['port', 'add', '--vlan', '100', '--container-ip', '172.18.0.2', '--container-port', '80', '--host-port', '8080'],
        'published *:8080/tcp -> 172.18.0.2:80\n',
      ],
      [
        ['port', 'add', '--container-ip', '172.18.0.2', '--container-port', '80', '--host-port', '8000-8010', '--protocol', 'sctp', '--source', '10.0.0.0/8', '--source', '192.0.2.7'],
        'published *:8000-8010/sctp -> 172.18.0.2:80-90 from 10.0.0.0/8, 192.0.2.7\n',
      ],
      [['port', 'remove', '--host-port', '53', '--protocol', 'udp', '--host-ip', '10.0.0.1'], 'unpublished 10.0.0.1:53/udp\n'],
      [['port', 'remove', '--host-port', '8000-8010', '--protocol', 'sctp'], 'unpublished *:8000-8010/sctp\n'],
      [['port', 'list', '100'], 'PROTO  HOST    CONTAINER      VLAN  SOURCES\ntcp    *:8080  172.18.0.2:80  100   any\n'],
    ];
    for (const [args, stdout] of cases) {
      assert.deepEqual(await at(...args), { code: 0, stdout, stderr: '' }, args.join(' '));
    }
    assert.deepEqual(
      fake.received.map((call) => call.rpc),
      ['deleteVlan', 'configureNat', 'configureNat', 'removeNat', 'removeNat', 'configureDns', 'configureDns', 'removeDnsHosts',
        'addPortMapping', 'addPortMapping', 'removePortMapping', 'removePortMapping', 'getState'],
    );
    assert.deepEqual(fake.received[5]?.request, {
      vlanId: 100,
      subnet: '',
      gateway: '',
      domain: 'corp',
      hosts: { web: '172.18.0.2', db: '172.18.0.3' },
      replaceHosts: false,
      hostAddresses: [],
    });
    assert.deepEqual(fake.received[6]?.request, {
      vlanId: 100,
      subnet: '',
      gateway: '',
      domain: '',
      hosts: { db: '172.18.0.4' },
      replaceHosts: false,
      hostAddresses: [{ name: 'web', addresses: ['172.18.0.2', '172.18.0.3'] }],
    });
  });

  test('port list --json prints only the port mappings', async () => {
    const result = await at('port', 'list', '--json');
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { networks: [], portMappings: state.portMappings });
  });

  test('--timeout bounds a call the service never answers', async () => {
    fake.answer('getHealth', 'never');
    const started = Date.now();
    const result = await at('--timeout', '300ms', 'health');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^routerctl: DeadlineExceeded: /);
    assert.ok(Date.now() - started < 10_000, 'routerctl waited past its timeout');
  });
});

describe('routerctl without a service', () => {
  test('an absent socket is Unavailable, exit 1', async () => {
    const result = await routerctl(['--addr', 'unix:///nonexistent/router.sock', 'health']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^routerctl: Unavailable: /);
  });

  test('a malformed --addr is reported, exit 1', async () => {
    const result = await routerctl(['--addr', 'ftp://x', 'health']);
    assert.deepEqual(result, {
      code: 1,
      stdout: '',
      stderr: 'routerctl: address "ftp://x": scheme must be vsock, unix or tcp\n',
    });
  });

  test('a command-line mistake prints the summary and the mistake, exit 1', async () => {
    const result = await routerctl(['frobnicate']);
    assert.deepEqual(result, { code: 1, stdout: '', stderr: `${USAGE}routerctl: unknown command "frobnicate"\n` });
  });

  test('a bad subcommand flag names the flag, exit 1', async () => {
    const result = await routerctl(['vlan', 'create', '1', '--mtu', '4294967376']);
    assert.deepEqual(result, {
      code: 1,
      stdout: '',
      stderr: 'routerctl: invalid value "4294967376" for flag -mtu: "4294967376" is not a number from 0 to 4294967295\n',
    });
  });

  test('--help prints the summary on stdout, exit 0', async () => {
    assert.deepEqual(await routerctl(['--help']), { code: 0, stdout: USAGE, stderr: '' });
  });
});
