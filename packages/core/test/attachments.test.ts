import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { withDns, withoutDnsHosts, validateDnsNames } from '../src/dns.js';
import { parseNatSource, withNat, withoutNat } from '../src/nat.js';
import { checkAttachmentsFit } from '../src/network.js';
import { PortTable } from '../src/port-table.js';
import { checkPortConflict, parsePortKey, parsePortMapping } from '../src/ports.js';
import { assertRouterError, network, portMapping } from './helpers.js';

const net100 = network(100, '172.18.0.0/16', '172.18.0.1');

describe('NAT', () => {
  test('sources are canonical and sorted by address, repeats are no-ops', () => {
    let n = withNat(net100, parseNatSource('10.0.0.0/8'));
    n = withNat(n, parseNatSource('9.0.0.0/8'));
    n = withNat(n, parseNatSource('192.0.2.0/24'));
    n = withNat(n, parseNatSource('10.0.0.0/8'));
    assert.deepEqual(n.natSources, ['9.0.0.0/8', '10.0.0.0/8', '192.0.2.0/24']);
    assert.deepEqual(withoutNat(n, '10.0.0.0/8').natSources, ['9.0.0.0/8', '192.0.2.0/24']);
    assert.equal(withoutNat(n, '172.18.0.0/16').nat, false);
    assert.deepEqual(withoutNat(n, ''), { ...n, nat: false, natSources: [] });
  });

  test('rejects malformed and catch-all sources', async () => {
    await assertRouterError(() => parseNatSource('192.0.2.0'), 'invalid', 'source_subnet "192.0.2.0" is not a CIDR');
    await assertRouterError(() => parseNatSource('0.0.0.0/0'), 'invalid', 'would masquerade every source');
    await assertRouterError(() => parseNatSource('192.0.2.1/24'), 'invalid', 'did you mean 192.0.2.0/24?');
  });
});

describe('DNS', () => {
  test('merges, lower-cases, unmaps and sorts host names', () => {
    const n = withDns(net100, {
      subnet: '172.18.0.0/16',
      gateway: '172.18.0.1',
      domain: 'Example.Internal.',
      hosts: { Web: '172.18.0.9', db: '::ffff:172.18.0.3' },
      replaceHosts: false,
    });
    assert.deepEqual(n.dns, { domain: 'example.internal', hosts: { db: '172.18.0.3', web: '172.18.0.9' } });
    assert.deepEqual(Object.keys(n.dns?.hosts ?? {}), ['db', 'web']);
    const removed = withoutDnsHosts(n, ['WEB', 'absent']);
    assert.deepEqual(removed.dns, { domain: 'example.internal', hosts: { db: '172.18.0.3' } });
  });

  test('rejects bad names', async () => {
    const cases: Array<[string, string]> = [
      ['', 'must be 1 to 253 characters long'],
      ['a'.repeat(64), 'empty or over-long (>63) label'],
      ['a..b', 'empty or over-long'],
      ['web-', 'starts or ends with a hyphen'],
      ['web_1', 'is not a valid hostname'],
      [`${'a.'.repeat(127)}ab`, 'must be 1 to 253'],
    ];
    for (const [name, message] of cases) {
      await assertRouterError(() => validateDnsNames([name]), 'invalid', message);
    }
  });
});

describe('port mappings', () => {
  test('keys: protocol is lower-cased, 0.0.0.0 means every address, IPv6 is refused', async () => {
    assert.deepEqual(parsePortKey('TCP', 80, '0.0.0.0'), { protocol: 'tcp', hostIp: '', hostPort: 80 });
    assert.deepEqual(parsePortKey('udp', 53, '::ffff:127.0.0.1'), { protocol: 'udp', hostIp: '127.0.0.1', hostPort: 53 });
    await assertRouterError(() => parsePortKey('tcp', 80, '::1'), 'invalid', 'host_ip "::1" is not an IPv4 address');
    await assertRouterError(() => parsePortKey('sctp', 80, ''), 'invalid', 'protocol "sctp" is not supported: use tcp or udp');
    await assertRouterError(() => parsePortKey('tcp', 0, ''), 'invalid', 'host_port 0 is out of range: use 1 to 65535');
  });

  test('conflicts on the same address or where either side listens on every address', async () => {
    const every = portMapping('tcp', '', 8080, 100, '172.18.0.2');
    const local = portMapping('tcp', '127.0.0.1', 8080, 100, '172.18.0.3');
    const other = portMapping('tcp', '127.0.0.2', 8080, 100, '172.18.0.4');
    checkPortConflict(every, [every]);
    checkPortConflict(other, [local]);
    await assertRouterError(() => checkPortConflict(local, [every]), 'already-exists', 'host port *:8080/tcp is already published to 172.18.0.2:80 (VLAN 100)');
    await assertRouterError(() => checkPortConflict(every, [local]), 'already-exists', '127.0.0.1:8080/tcp');
    await assertRouterError(
      () => checkPortConflict({ ...every, containerPort: 81 }, [every]),
      'already-exists',
      'remove that mapping first',
    );
  });

  test('the container address must be a host of the subnet other than the gateway', async () => {
    const req = { containerIp: '172.18.0.1', containerPort: 80, hostPort: 80, protocol: 'tcp', vlan: 100, hostIp: '' };
    await assertRouterError(() => parsePortMapping(req, net100), 'invalid', 'container_ip 172.18.0.1 is the gateway of VLAN 100, not a container');
    await assertRouterError(() => parsePortMapping({ ...req, containerIp: '172.18.255.255' }, net100), 'invalid', 'broadcast');
    assert.deepEqual(parsePortMapping({ ...req, containerIp: '::ffff:172.18.0.2' }, net100), portMapping('tcp', '', 80, 100, '172.18.0.2'));
  });

  test('the table indexes by protocol and port and lists in order', () => {
    const table = new PortTable();
    const mappings = [
      portMapping('udp', '', 53, 1, '10.0.0.2'),
      portMapping('tcp', '10.1.0.1', 80, 1, '10.0.0.2'),
      portMapping('tcp', '', 80, 1, '10.0.0.3'),
      portMapping('tcp', '9.1.0.1', 80, 1, '10.0.0.4'),
      portMapping('tcp', '', 443, 1, '10.0.0.5'),
    ];
    for (const m of mappings) table.put(m);
    table.put(mappings[0] ?? assert.fail());
    assert.equal(table.size, 5);
    assert.deepEqual(
      table.select().map((m) => `${m.protocol}/${m.hostPort}/${m.hostIp}`),
      ['tcp/80/', 'tcp/80/9.1.0.1', 'tcp/80/10.1.0.1', 'tcp/443/', 'udp/53/'],
    );
    assert.equal(table.inSlot({ protocol: 'tcp', hostPort: 80 }).length, 3);
    table.delete({ protocol: 'tcp', hostPort: 80, hostIp: '9.1.0.1' });
    table.delete({ protocol: 'tcp', hostPort: 80, hostIp: '9.1.0.1' });
    assert.equal(table.size, 4);
    assert.equal(table.get({ protocol: 'tcp', hostPort: 80, hostIp: '' })?.containerIp, '10.0.0.3');
  });
});

describe('checkAttachmentsFit', () => {
  test('an internal network may not keep NAT sources', async () => {
    const n = withNat(net100, '192.0.2.0/24');
    await assertRouterError(
      () => checkAttachmentsFit(n, { ...n, internal: true }, []),
      'precondition',
      'VLAN 100 masquerades [192.0.2.0/24]: remove that NAT before making the network internal',
    );
  });

  test('a narrower subnet must keep port mappings and DNS names inside', async () => {
    const narrower = { ...net100, subnet: '172.18.0.0/24' };
    await assertRouterError(
      () => checkAttachmentsFit(net100, narrower, [portMapping('tcp', '', 8080, 100, '172.18.5.2')]),
      'precondition',
      'port mapping *:8080/tcp -> 172.18.5.2:80 (VLAN 100) would not fit the new spec (container_ip 172.18.5.2 is not inside subnet 172.18.0.0/24): remove it first',
    );
    const withName = { ...net100, dns: { domain: '', hosts: { edge: '172.18.0.255' } } };
    await assertRouterError(
      () => checkAttachmentsFit(withName, narrower, []),
      'precondition',
      'DNS name edge -> 172.18.0.255 would not fit the new spec (address 172.18.0.255 is the broadcast address of 172.18.0.0/24)',
    );
    checkAttachmentsFit(withName, { ...net100, mtu: 1400 }, [portMapping('tcp', '', 8080, 100, '172.18.5.2')]);
  });
});
