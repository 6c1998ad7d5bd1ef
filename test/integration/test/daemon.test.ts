/**
 * router-service as a process in a throwaway namespace, driven through its
 * socket with a client built from router.proto and with routerctl. Nothing
 * here needs a VLAN link, so it runs on any Linux kernel (as root).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import type { Netns } from '@router-service/test-support';
import { Daemon, runDaemonToExit } from '../src/daemon.js';
import { expectStatus } from '../src/expect-status.js';
import { createRouterNs } from '../src/router-ns.js';
import type { RouterClient } from '../src/router-client.js';
import { runRouterctl } from '../src/routerctl.js';
import { healthCheck, reflect } from '../src/standard-services.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'router-service-state-'));
}

interface Refusal {
  readonly name: string;
  readonly call: (client: RouterClient) => Promise<unknown>;
  readonly code: status;
  readonly message: string;
}

const valid = { vlan_id: 100, subnet: '172.18.0.0/16', gateway: '172.18.0.1' };
const port = { container_ip: '172.18.0.2', container_port: 80, host_port: 8080, protocol: 'tcp' };

/** Requests the service must refuse before touching anything (internal/model and internal/server tests). */
const refusals: readonly Refusal[] = [
  { name: 'vlan 0', call: (c) => c.call('CreateVLAN', { ...valid, vlan_id: 0 }), code: status.INVALID_ARGUMENT, message: 'vlan_id 0 is out of range' },
  { name: 'vlan 4095', call: (c) => c.call('CreateVLAN', { ...valid, vlan_id: 4095 }), code: status.INVALID_ARGUMENT, message: 'vlan_id 4095 is out of range' },
  { name: 'malformed CIDR', call: (c) => c.call('CreateVLAN', { ...valid, subnet: '172.18.0.0' }), code: status.INVALID_ARGUMENT, message: 'is not a CIDR' },
  { name: 'prefix over 32', call: (c) => c.call('CreateVLAN', { vlan_id: 300, subnet: '10.0.0.0/33' }), code: status.INVALID_ARGUMENT, message: 'not a CIDR' },
  { name: 'IPv6 subnet', call: (c) => c.call('CreateVLAN', { vlan_id: 100, subnet: 'fd00::/64' }), code: status.INVALID_ARGUMENT, message: 'not IPv4' },
  { name: 'host bits set', call: (c) => c.call('CreateVLAN', { ...valid, subnet: '172.18.0.5/16' }), code: status.INVALID_ARGUMENT, message: 'did you mean 172.18.0.0/16' },
  { name: 'subnet too small', call: (c) => c.call('CreateVLAN', { vlan_id: 100, subnet: '172.18.0.0/31' }), code: status.INVALID_ARGUMENT, message: 'too small' },
  { name: 'gateway not an IP', call: (c) => c.call('CreateVLAN', { ...valid, gateway: 'gw' }), code: status.INVALID_ARGUMENT, message: 'is not an IP address' },
  { name: 'gateway outside subnet', call: (c) => c.call('CreateVLAN', { ...valid, gateway: '172.19.0.1' }), code: status.INVALID_ARGUMENT, message: 'not inside subnet' },
  { name: 'gateway is the network address', call: (c) => c.call('CreateVLAN', { ...valid, gateway: '172.18.0.0' }), code: status.INVALID_ARGUMENT, message: 'network address' },
  { name: 'gateway is the broadcast address', call: (c) => c.call('CreateVLAN', { ...valid, gateway: '172.18.255.255' }), code: status.INVALID_ARGUMENT, message: 'broadcast address' },
  { name: 'MTU below the IPv4 minimum', call: (c) => c.call('CreateVLAN', { ...valid, mtu: 67 }), code: status.INVALID_ARGUMENT, message: 'mtu 67 is out of range' },
  { name: 'MTU above the parent', call: (c) => c.call('CreateVLAN', { ...valid, mtu: 1501 }), code: status.INVALID_ARGUMENT, message: 'mtu 1501 is out of range' },
  { name: 'MTU 9000', call: (c) => c.call('CreateVLAN', { vlan_id: 300, subnet: '10.0.0.0/24', mtu: 9000 }), code: status.INVALID_ARGUMENT, message: 'mtu 9000' },
  { name: 'subnet overlaps the uplink', call: (c) => c.call('CreateVLAN', { vlan_id: 100, subnet: '192.168.0.0/16' }), code: status.INVALID_ARGUMENT, message: 'overlaps the uplink' },
  { name: 'subnet inside the uplink', call: (c) => c.call('CreateVLAN', { vlan_id: 300, subnet: '192.168.64.0/25' }), code: status.INVALID_ARGUMENT, message: 'overlaps the uplink' },
  { name: 'name with control characters', call: (c) => c.call('CreateVLAN', { ...valid, network_name: 'a\nb' }), code: status.INVALID_ARGUMENT, message: 'non-printable' },
  { name: 'internal with NAT', call: (c) => c.call('CreateVLAN', { ...valid, internal: true, enable_nat: true }), code: status.INVALID_ARGUMENT, message: 'cannot enable NAT' },
  { name: 'name too long', call: (c) => c.call('CreateVLAN', { ...valid, network_name: 'n'.repeat(129) }), code: status.INVALID_ARGUMENT, message: 'the limit is 128' },
  { name: 'DeleteVLAN of vlan 0', call: (c) => c.call('DeleteVLAN', { vlan_id: 0 }), code: status.INVALID_ARGUMENT, message: 'out of range' },
  { name: 'DeleteVLAN of vlan 4095', call: (c) => c.call('DeleteVLAN', { vlan_id: 4095 }), code: status.INVALID_ARGUMENT, message: 'vlan_id 4095 is out of range' },
  { name: 'ConfigureNAT of vlan 0', call: (c) => c.call('ConfigureNAT', { vlan_id: 0 }), code: status.INVALID_ARGUMENT, message: 'vlan_id 0 is out of range' },
  { name: 'ConfigureNAT of an absent network', call: (c) => c.call('ConfigureNAT', { vlan_id: 9 }), code: status.NOT_FOUND, message: 'VLAN 9 does not exist' },
  { name: 'ConfigureNAT of a malformed source', call: (c) => c.call('ConfigureNAT', { vlan_id: 9, source_subnet: 'x' }), code: status.INVALID_ARGUMENT, message: 'source_subnet "x" is not a CIDR' },
  { name: 'ConfigureNAT of every source', call: (c) => c.call('ConfigureNAT', { vlan_id: 9, source_subnet: '0.0.0.0/0' }), code: status.INVALID_ARGUMENT, message: 'would masquerade every source' },
  { name: 'RemoveNAT of a malformed source', call: (c) => c.call('RemoveNAT', { vlan_id: 9, source_subnet: '10.0.0.1/8' }), code: status.INVALID_ARGUMENT, message: 'has host bits set' },
  { name: 'RemoveNAT of vlan 0', call: (c) => c.call('RemoveNAT', { vlan_id: 0 }), code: status.INVALID_ARGUMENT, message: 'vlan_id 0 is out of range' },
  { name: 'ConfigureDNS of an absent network', call: (c) => c.call('ConfigureDNS', { vlan_id: 9, hosts: { web: '10.9.0.2' } }), code: status.NOT_FOUND, message: 'VLAN 9 does not exist' },
  { name: 'ConfigureDNS of vlan 5000', call: (c) => c.call('ConfigureDNS', { vlan_id: 5000 }), code: status.INVALID_ARGUMENT, message: 'vlan_id 5000 is out of range' },
  { name: 'RemoveDNSHosts of an invalid name', call: (c) => c.call('RemoveDNSHosts', { vlan_id: 9, names: ['bad_name'] }), code: status.INVALID_ARGUMENT, message: 'is not a valid hostname' },
  { name: 'RemoveDNSHosts of a name with an edge hyphen', call: (c) => c.call('RemoveDNSHosts', { vlan_id: 9, names: ['web-'] }), code: status.INVALID_ARGUMENT, message: 'starts or ends with a hyphen' },
  { name: 'AddPortMapping on vlan 5000', call: (c) => c.call('AddPortMapping', { ...port, vlan_id: 5000 }), code: status.INVALID_ARGUMENT, message: 'vlan_id 5000 is out of range' },
  { name: 'AddPortMapping on an absent network', call: (c) => c.call('AddPortMapping', { ...port, vlan_id: 9 }), code: status.NOT_FOUND, message: 'VLAN 9 does not exist' },
  { name: 'AddPortMapping to a malformed container address', call: (c) => c.call('AddPortMapping', { ...port, container_ip: 'x' }), code: status.INVALID_ARGUMENT, message: 'container_ip "x" is not an IP address' },
  { name: 'AddPortMapping to an address of no network', call: (c) => c.call('AddPortMapping', port), code: status.NOT_FOUND, message: "no network's subnet contains container_ip 172.18.0.2" },
  { name: 'RemovePortMapping of icmp', call: (c) => c.call('RemovePortMapping', { host_port: 80, protocol: 'icmp' }), code: status.INVALID_ARGUMENT, message: 'protocol "icmp" is not supported: use tcp, udp or sctp' },
  { name: 'RemovePortMapping of port 0', call: (c) => c.call('RemovePortMapping', { host_port: 0, protocol: 'tcp' }), code: status.INVALID_ARGUMENT, message: 'host_port 0 is out of range' },
  { name: 'RemovePortMapping of port 70000', call: (c) => c.call('RemovePortMapping', { host_port: 70000, protocol: 'udp' }), code: status.INVALID_ARGUMENT, message: 'host_port 70000 is out of range' },
  { name: 'RemovePortMapping on a malformed host address', call: (c) => c.call('RemovePortMapping', { host_port: 80, protocol: 'tcp', host_ip: 'x' }), code: status.INVALID_ARGUMENT, message: 'host_ip "x" is not an IPv4 address' },
  { name: 'RemovePortMapping on an IPv6 host address', call: (c) => c.call('RemovePortMapping', { host_port: 80, protocol: 'tcp', host_ip: '::1' }), code: status.INVALID_ARGUMENT, message: 'is not an IPv4 address' },
  { name: 'ListVLANs of vlan 5000', call: (c) => c.call('ListVLANs', { vlan_id: 5000 }), code: status.INVALID_ARGUMENT, message: 'vlan_id 5000 is out of range' },
  { name: 'GetState of vlan 4095', call: (c) => c.call('GetState', { vlan_id: 4095 }), code: status.INVALID_ARGUMENT, message: 'vlan_id 4095 is out of range' },
];

describe('a running daemon', () => {
  let ns: Netns;
  let stateDir: string;
  let daemon: Daemon;

  before(async () => {
    ns = await createRouterNs();
    stateDir = await tempDir();
    daemon = await Daemon.start(ns, stateDir);
  });

  after(async () => {
    await daemon?.dispose();
    await ns?.delete();
    await rm(stateDir, { recursive: true, force: true });
  });

  test('serves its unix socket with mode 0600', async () => {
    const info = await stat(daemon.socketPath);
    assert.ok(info.isSocket());
    assert.equal((info.mode & 0o777).toString(8), '600');
  });

  test('turns on IPv4 forwarding in its namespace', async () => {
    assert.equal(await ns.sysctl('net', 'ipv4', 'ip_forward'), '1');
  });

  test('reports itself healthy with no networks', async () => {
    const health = await daemon.client.call('GetHealth', {});
    assert.equal(health.healthy, true);
    assert.equal(health.status, 'ok');
    assert.equal(health.active_vlans, 0);
    assert.match(health.uptime_seconds, /^[0-9]+$/);
  });

  test('starts empty', async () => {
    assert.deepEqual(await daemon.client.call('ListVLANs', {}), { vlans: [], error: '' });
    assert.deepEqual(await daemon.client.call('GetState', {}), { networks: [], port_mappings: [] });
    assert.deepEqual(await daemon.client.call('ListVLANs', { vlan_id: 100 }), { vlans: [], error: '' });
    assert.deepEqual(await daemon.client.call('GetState', { vlan_id: 100 }), { networks: [], port_mappings: [] });
  });

  describe('refuses invalid requests with the right code and changes nothing', () => {
    for (const refusal of refusals) {
      test(refusal.name, async () => {
        const before = await daemon.client.call('GetState', {});
        await expectStatus(refusal.call(daemon.client), refusal.code, refusal.message);
        assert.deepEqual(await daemon.client.call('GetState', {}), before);
      });
    }
  });

  test('removing what is absent succeeds, and again', async () => {
    const before = await daemon.client.call('GetState', {});
    for (let round = 1; round <= 2; round++) {
      const ok = { success: true, error: '' };
      assert.deepEqual(await daemon.client.call('DeleteVLAN', { vlan_id: 9 }), ok, `DeleteVLAN round ${round}`);
      assert.deepEqual(await daemon.client.call('RemoveNAT', { vlan_id: 9 }), ok, `RemoveNAT round ${round}`);
      assert.deepEqual(
        await daemon.client.call('RemoveNAT', { vlan_id: 9, source_subnet: '10.9.0.0/16' }),
        ok,
        `RemoveNAT of a source round ${round}`,
      );
      assert.deepEqual(await daemon.client.call('RemoveDNSHosts', { vlan_id: 9, names: ['web'] }), ok, `RemoveDNSHosts round ${round}`);
      assert.deepEqual(
        await daemon.client.call('RemovePortMapping', { host_port: 8080, protocol: 'tcp' }),
        ok,
        `RemovePortMapping round ${round}`,
      );
      assert.deepEqual(
        await daemon.client.call('RemovePortMapping', { host_port: 53, protocol: 'UDP', host_ip: '192.168.64.2' }),
        ok,
        `RemovePortMapping on an address round ${round}`,
      );
    }
    assert.deepEqual(await daemon.client.call('GetState', {}), before);
  });

  describe('the standard services', () => {
    test('grpc.health.v1 reports the server and router.RouterService serving', async () => {
      assert.equal(await healthCheck(daemon.socketPath, ''), 'SERVING');
      assert.equal(await healthCheck(daemon.socketPath, 'router.RouterService'), 'SERVING');
      await expectStatus(healthCheck(daemon.socketPath, 'no.such.Service'), status.NOT_FOUND, '');
    });

    test('reflection lists the services', async () => {
      const response = await reflect(daemon.socketPath, { list_services: '' });
      const names = response.list_services_response?.service.map((service) => service.name) ?? [];
      for (const name of ['router.RouterService', 'grpc.health.v1.Health']) {
        assert.ok(names.includes(name), `reflection lists ${JSON.stringify(names)}, not ${name}`);
      }
    });

    test('reflection describes CreateVLANRequest with enable_nat as an optional bool, field 6', async () => {
      const response = await reflect(daemon.socketPath, { file_containing_symbol: 'router.CreateVLANRequest' });
      const files = response.file_descriptor_response?.file_descriptor_proto ?? [];
      const message = files
        .filter((file) => file.package === 'router')
        .flatMap((file) => file.message_type)
        .find((candidate) => candidate.name === 'CreateVLANRequest');
      assert.ok(message !== undefined, `no router.CreateVLANRequest in ${JSON.stringify(response)}`);
      const TYPE_BOOL = 8;
      const LABEL_OPTIONAL = 1;
      assert.deepEqual(
        message.field.find((field) => field.name === 'enable_nat'),
        { name: 'enable_nat', number: 6, label: LABEL_OPTIONAL, type: TYPE_BOOL, proto3_optional: true },
      );
    });
  });

  describe('through routerctl', () => {
    test('health', async () => {
      const result = await runRouterctl(daemon.socketPath, ['health']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^healthy {3}true\nstatus {4}ok\nnetworks {2}0\nuptime {4}[0-9hms]+\nfirewall {2}nft\ndns {7}dnsmasq\nkernel {4}in sync\n$/);
    });

    test('status', async () => {
      const result = await runRouterctl(daemon.socketPath, ['status']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stdout,
        /^health: ok, 0 networks, 0 port mappings, up [0-9hms]+\nbackends: firewall nft, dns dnsmasq\nkernel: in sync\n\nVLAN {2}NAME {2}INTERFACE {2}SUBNET {2}GATEWAY {2}MTU {2}STATE {2}NAT {2}MAC\n$/,
      );
    });

    test('vlan list --json', async () => {
      const result = await runRouterctl(daemon.socketPath, ['vlan', 'list', '--json']);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), { vlans: [], error: '' });
    });

    test('a refused request exits 1 with the code and message', async () => {
      const result = await runRouterctl(daemon.socketPath, ['vlan', 'create', '5000', '--subnet', '10.0.0.0/24']);
      assert.equal(result.code, 1);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /^routerctl: InvalidArgument: vlan_id 5000 is out of range.*\n$/);
    });

    test('a network that does not exist is NotFound', async () => {
      const result = await runRouterctl(daemon.socketPath, ['nat', 'add', '9']);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^routerctl: NotFound: VLAN 9 does not exist/);
    });
  });
});

describe('daemon lifecycle', () => {
  let ns: Netns;

  before(async () => {
    ns = await createRouterNs();
  });

  after(async () => {
    await ns?.delete();
  });

  test('SIGTERM stops it cleanly and removes the socket; a restart keeps the recorded parent', async () => {
    const stateDir = await tempDir();
    const daemons: Daemon[] = [];
    try {
      const first = await Daemon.start(ns, stateDir);
      daemons.push(first);
      assert.deepEqual(await first.stop(), { code: 0, signal: null }, first.output);
      await assert.rejects(stat(first.socketPath), { code: 'ENOENT' }, 'socket left behind after shutdown');
      // With no --parent and no default route in the namespace, the restart
      // can only succeed by keeping the recorded parent.
      const second = await Daemon.start(ns, stateDir, []);
      daemons.push(second);
      const health = await second.client.call('GetHealth', {});
      assert.equal(health.healthy, true, second.output);
      assert.deepEqual(await second.stop(), { code: 0, signal: null }, second.output);
    } finally {
      for (const daemon of daemons) await daemon.dispose();
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  test('a parent whose VLAN interface names would pass the kernel limit is refused per request', async () => {
    const stateDir = await tempDir();
    let daemon: Daemon | undefined;
    try {
      await ns.ip('link', 'add', 'enp0s1f2abcd', 'type', 'veth', 'peer', 'name', 'fabric1');
      await ns.ip('link', 'set', 'enp0s1f2abcd', 'up');
      daemon = await Daemon.start(ns, stateDir, ['--parent', 'enp0s1f2abcd']);
      await expectStatus(
        daemon.client.call('CreateVLAN', { vlan_id: 100, subnet: '172.18.0.0/16' }),
        status.INVALID_ARGUMENT,
        "longer than the kernel's limit",
      );
    } finally {
      await daemon?.dispose();
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});

// A flag the daemon cannot parse exits 2; a start that the machine refuses
// (no parent, a listener it will not open) exits 1, as it always has.
describe('configuration errors exit non-zero and say what is wrong', () => {
  let ns: Netns;
  let stateDir: string;

  before(async () => {
    ns = await createRouterNs();
    stateDir = await tempDir();
  });

  after(async () => {
    await ns?.delete();
    await rm(stateDir, { recursive: true, force: true });
  });

  const cases: readonly (readonly [name: string, args: readonly string[], exitCode: number, message: string])[] = [
    ['no --parent and no default route', ['--listen', 'unix:///nonexistent/router.sock'], 1, 'no interface holds an IPv4 default route'],
    ['a parent that does not exist', ['--parent', 'missing0', '--listen', 'unix:///nonexistent/router.sock'], 1, 'parent interface missing0'],
    ['tcp on a non-loopback address', ['--parent', 'eth0', '--listen', 'tcp://0.0.0.0:50999'], 1, '--allow-remote-tcp'],
    ['an unknown scheme', ['--parent', 'eth0', '--listen', 'ftp://x'], 2, 'scheme must be vsock, unix or tcp'],
    ['an unknown log format', ['--parent', 'eth0', '--log-format', 'xml'], 2, '--log-format must be text or json'],
  ];

  for (const [name, args, exitCode, message] of cases) {
    test(name, async () => {
      const result = await runDaemonToExit(ns, ['--state-dir', join(stateDir, name.replaceAll(' ', '-')), ...args]);
      assert.equal(result.code, exitCode, `exit ${result.code ?? result.signal}: ${result.stderr}`);
      assert.ok(
        result.stderr.includes(message),
        `router-service ${args.join(' ')} printed ${JSON.stringify(result.stderr)}, which does not say ${JSON.stringify(message)}`,
      );
    });
  }
});
