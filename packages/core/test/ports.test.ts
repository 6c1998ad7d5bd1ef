import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PortMapping } from '../src/model.js';
import { PortTable } from '../src/port-table.js';
import {
  MAX_PORT_SOURCES,
  checkPortConflict,
  findPortRemoval,
  parsePortKey,
  parsePortRemoval,
  parsePortRequest,
  parsePortSources,
  placePortMapping,
  type PortRequest,
} from '../src/ports.js';
import { assertRouterError, network, portMapping } from './helpers.js';

const net100 = network(100, '172.18.0.0/16', '172.18.0.1');

function request(fields: Partial<PortRequest> = {}): PortRequest {
  return { containerIp: '172.18.0.2', containerPort: 80, hostPort: 8080, protocol: 'tcp', vlan: 100, hostIp: '', ...fields };
}

/** The mapping a request asks for on VLAN 100. */
function mappingOf(fields: Partial<PortRequest>): PortMapping {
  return placePortMapping(parsePortRequest(request(fields)), net100);
}

describe('port requests', () => {
  test('keys: protocol is lower-cased, sctp included, 0.0.0.0 means every address, IPv6 is refused', async () => {
    assert.deepEqual(parsePortKey('TCP', 80, '0.0.0.0'), { protocol: 'tcp', hostIp: '', hostPort: 80 });
    assert.deepEqual(parsePortKey('SCTP', 9899, ''), { protocol: 'sctp', hostIp: '', hostPort: 9899 });
    assert.deepEqual(parsePortKey('udp', 53, '::ffff:127.0.0.1'), { protocol: 'udp', hostIp: '127.0.0.1', hostPort: 53 });
    await assertRouterError(() => parsePortKey('tcp', 80, '::1'), 'invalid', 'host_ip "::1" is not an IPv4 address');
    await assertRouterError(() => parsePortKey('icmp', 80, ''), 'invalid', 'protocol "icmp" is not supported: use tcp, udp or sctp');
    await assertRouterError(() => parsePortKey('tcp', 0, ''), 'invalid', 'host_port 0 is out of range: use 1 to 65535');
  });

  test('one port: host_port_end 0, absent or equal to host_port', () => {
    const one = portMapping('tcp', '', 8080, 100, '172.18.0.2');
    assert.deepEqual(mappingOf({}), one);
    assert.deepEqual(mappingOf({ hostPortEnd: 0 }), one);
    assert.deepEqual(mappingOf({ hostPortEnd: 8080, sources: [] }), one);
  });

  test('a range maps one-to-one and must fit on both sides', async () => {
    assert.deepEqual(
      mappingOf({ hostPort: 8000, hostPortEnd: 8010, containerPort: 65525, protocol: 'Sctp' }),
      portMapping('sctp', '', 8000, 100, '172.18.0.2', { hostPortEnd: 8010, containerPort: 65525 }),
    );
    const refusals: Array<[Partial<PortRequest>, string]> = [
      [{ hostPort: 8000, hostPortEnd: 7999 }, 'host_port_end 7999 of *:8000/tcp is below host_port: give the last port of the range (at least 8000), or 0 for one port'],
      [{ hostPort: 8000, hostPortEnd: 65536 }, 'host_port_end 65536 of *:8000/tcp is out of range: use 8000 to 65535, or 0 for one port'],
      [
        { hostPort: 8000, hostPortEnd: 8010, containerPort: 65530 },
        'host ports *:8000-8010/tcp would map onto container ports 65530-65540, past 65535: lower container_port to at most 65525 or shorten the range',
      ],
      [{ hostPort: 1, hostPortEnd: 65535, containerPort: 2 }, 'lower container_port to at most 1'],
    ];
    for (const [fields, message] of refusals) {
      await assertRouterError(() => parsePortRequest(request(fields)), 'invalid', message);
    }
  });

  test('sources: bare addresses are /32, canonical, sorted, nested ones collapsed, every source is none', async () => {
    assert.deepEqual(
      parsePortSources(['192.0.2.7', '10.1.0.0/16', '10.0.0.0/8', '192.0.2.0/24', '::ffff:198.51.100.1', '10.0.0.0/8', '9.9.9.9/32']),
      ['9.9.9.9/32', '10.0.0.0/8', '192.0.2.0/24', '198.51.100.1/32'],
    );
    assert.deepEqual(parsePortSources(['10.0.0.0/8', '0.0.0.0/0']), []);
    assert.deepEqual(parsePortSources([]), []);
    const refusals: Array<[string[], string]> = [
      [['10.0.0.1/8'], 'allowed_sources entry 10.0.0.1/8 has host bits set: did you mean 10.0.0.0/8?'],
      [['web'], 'allowed_sources entry "web" is not an IPv4 address or a CIDR such as 192.0.2.0/24'],
      [['10.0.0.0/33'], 'allowed_sources entry "10.0.0.0/33" is not a CIDR'],
      [['fd00::1'], 'allowed_sources entry fd00::1 is not IPv4'],
      [['fd00::/64'], 'is not IPv4'],
      [Array.from({ length: MAX_PORT_SOURCES + 1 }, (_, i) => `10.0.${i}.0/24`), `allowed_sources has 65 entries: at most ${MAX_PORT_SOURCES}`],
    ];
    for (const [sources, message] of refusals) {
      await assertRouterError(() => parsePortSources(sources), 'invalid', message);
    }
    assert.deepEqual(mappingOf({ sources: ['192.0.2.9', '192.0.2.0/24'] }).sources, ['192.0.2.0/24']);
  });

  test('the container address must be a host of the subnet other than the gateway', async () => {
    await assertRouterError(() => mappingOf({ containerIp: '172.18.0.1' }), 'invalid', 'container_ip 172.18.0.1 is the gateway of VLAN 100, not a container');
    await assertRouterError(() => mappingOf({ containerIp: '172.18.255.255' }), 'invalid', 'broadcast');
    await assertRouterError(() => parsePortRequest(request({ containerIp: 'web' })), 'invalid', 'container_ip "web" is not an IP address');
    assert.deepEqual(mappingOf({ containerIp: '::ffff:172.18.0.2' }), portMapping('tcp', '', 8080, 100, '172.18.0.2'));
  });
});

describe('port conflicts', () => {
  const every = portMapping('tcp', '', 8080, 100, '172.18.0.2');
  const local = portMapping('tcp', '127.0.0.1', 8080, 100, '172.18.0.3');
  const other = portMapping('tcp', '127.0.0.2', 8080, 100, '172.18.0.4');
  const range = portMapping('tcp', '', 8000, 100, '172.18.0.2', { hostPortEnd: 8010 });

  test('on the same address or where either side listens on every address', async () => {
    checkPortConflict(every, [every]);
    checkPortConflict(other, [local]);
    checkPortConflict({ ...every, protocol: 'udp' }, [every]);
    await assertRouterError(() => checkPortConflict(local, [every]), 'already-exists', 'host port *:8080/tcp is already published to 172.18.0.2:80 (VLAN 100): remove that mapping first');
    await assertRouterError(() => checkPortConflict(every, [local]), 'already-exists', '127.0.0.1:8080/tcp');
    await assertRouterError(() => checkPortConflict({ ...every, containerPort: 81 }, [every]), 'already-exists', 'remove that mapping first');
  });

  test('ranges conflict where they intersect; an identical range is a repeat', async () => {
    checkPortConflict(range, [range]);
    checkPortConflict(portMapping('tcp', '', 8011, 100, '172.18.0.2'), [range]);
    checkPortConflict(portMapping('tcp', '', 7999, 100, '172.18.0.2', { hostPortEnd: 7999 }), [range]);
    const message = 'host ports *:8000-8010/tcp are already published to 172.18.0.2:80-90 (VLAN 100): remove that mapping first';
    await assertRouterError(() => checkPortConflict(portMapping('tcp', '', 8010, 100, '172.18.0.2'), [range]), 'already-exists', message);
    await assertRouterError(() => checkPortConflict(portMapping('tcp', '', 7990, 100, '172.18.0.2', { hostPortEnd: 8000 }), [range]), 'already-exists', message);
    await assertRouterError(() => checkPortConflict({ ...range, hostPortEnd: 8009 }, [range]), 'already-exists', message);
  });

  test('the same ports for other sources are a conflict that names the sources', async () => {
    const guarded = { ...every, sources: ['10.0.0.0/8'] };
    checkPortConflict(guarded, [guarded]);
    await assertRouterError(
      () => checkPortConflict(every, [guarded]),
      'already-exists',
      'host port *:8080/tcp is already published to 172.18.0.2:80 (VLAN 100) from 10.0.0.0/8: remove that mapping first',
    );
  });
});

describe('port removals', () => {
  const table = new PortTable([
    portMapping('tcp', '', 8000, 100, '172.18.0.2', { hostPortEnd: 8010 }),
    portMapping('tcp', '', 9000, 100, '172.18.0.3'),
  ]);

  test('by the first port, with any end or the right one', () => {
    assert.equal(findPortRemoval(table, parsePortRemoval({ protocol: 'tcp', hostIp: '', hostPort: 8000 }))?.hostPortEnd, 8010);
    assert.equal(findPortRemoval(table, parsePortRemoval({ protocol: 'TCP', hostIp: '0.0.0.0', hostPort: 8000, hostPortEnd: 8010 }))?.hostPortEnd, 8010);
    assert.equal(findPortRemoval(table, parsePortRemoval({ protocol: 'tcp', hostIp: '', hostPort: 9000, hostPortEnd: 9000 }))?.hostPort, 9000);
  });

  test('absent ones are found as nothing: on another address, protocol or port', () => {
    for (const r of [
      { protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 8000 },
      { protocol: 'udp', hostIp: '', hostPort: 8005 },
      { protocol: 'tcp', hostIp: '', hostPort: 8011 },
    ]) {
      assert.equal(findPortRemoval(table, parsePortRemoval(r)), undefined);
    }
  });

  test('a port inside a range, or another end, is refused with the range to remove', async () => {
    await assertRouterError(
      () => findPortRemoval(table, parsePortRemoval({ protocol: 'tcp', hostIp: '', hostPort: 8005 })),
      'precondition',
      'host ports *:8000-8010/tcp are published as one range: remove it by its first port 8000',
    );
    await assertRouterError(
      () => findPortRemoval(table, parsePortRemoval({ protocol: 'tcp', hostIp: '', hostPort: 8000, hostPortEnd: 8005 })),
      'precondition',
      'host ports *:8000-8010/tcp are published as one range, not as 8000-8005: remove it with host_port_end 8010 or 0',
    );
    await assertRouterError(
      () => findPortRemoval(table, parsePortRemoval({ protocol: 'tcp', hostIp: '', hostPort: 9000, hostPortEnd: 9001 })),
      'precondition',
      'host port *:9000/tcp is published on its own, not as 9000-9001: remove it with host_port_end 0',
    );
  });

  test('a malformed end is invalid', async () => {
    await assertRouterError(() => parsePortRemoval({ protocol: 'tcp', hostIp: '', hostPort: 8000, hostPortEnd: 7000 }), 'invalid', 'below host_port');
    await assertRouterError(() => parsePortRemoval({ protocol: 'tcp', hostIp: '', hostPort: 8000, hostPortEnd: 70000 }), 'invalid', 'out of range');
  });
});

/**
 * Wraps m so that every read of one of its fields is counted: the table's
 * work on a mapping shows as reads, whatever its internals.
 */
function counted(m: PortMapping, reads: { count: number }): PortMapping {
  return new Proxy(m, {
    get(target, field, receiver) {
      reads.count++;
      return Reflect.get(target, field, receiver) as unknown;
    },
  });
}

describe('PortTable', () => {
  test('indexes by key and lists in order', () => {
    const table = new PortTable();
    const mappings = [
      portMapping('udp', '', 53, 1, '10.0.0.2'),
      portMapping('tcp', '10.1.0.1', 80, 1, '10.0.0.2'),
      portMapping('tcp', '', 80, 1, '10.0.0.3'),
      portMapping('tcp', '9.1.0.1', 80, 1, '10.0.0.4'),
      portMapping('tcp', '', 443, 1, '10.0.0.5', { hostPortEnd: 450 }),
      portMapping('sctp', '', 443, 1, '10.0.0.5'),
    ];
    for (const m of mappings) table.put(m);
    table.put(mappings[0] ?? assert.fail());
    assert.equal(table.size, 6);
    assert.deepEqual(
      table.select().map((m) => `${m.protocol}/${m.hostPort}/${m.hostIp}`),
      ['sctp/443/', 'tcp/80/', 'tcp/80/9.1.0.1', 'tcp/80/10.1.0.1', 'tcp/443/', 'udp/53/'],
    );
    table.delete({ protocol: 'tcp', hostPort: 80, hostIp: '9.1.0.1' });
    table.delete({ protocol: 'tcp', hostPort: 80, hostIp: '9.1.0.1' });
    assert.equal(table.size, 5);
    assert.equal(table.get({ protocol: 'tcp', hostPort: 80, hostIp: '' })?.containerIp, '10.0.0.3');
    assert.equal(table.get({ protocol: 'tcp', hostPort: 444, hostIp: '' }), undefined);
    assert.equal(table.covering({ protocol: 'tcp', hostPort: 444, hostIp: '' })?.hostPort, 443);
    assert.equal(table.covering({ protocol: 'tcp', hostPort: 444, hostIp: '10.1.0.1' }), undefined);
  });

  test('stays in order through puts, replacements and deletes after it was first listed', () => {
    const table = new PortTable();
    const describe = (m: PortMapping) => `${m.protocol}/${m.hostPort}/${m.hostIp}/${m.containerIp}`;
    const listed = () => table.select().map(describe);
    // A table that never listed before sorts its mappings afresh.
    const sortedAnew = () => new PortTable(table.select().toReversed()).select().map(describe);
    // A fixed sequence of pseudo-random changes, so that a failure repeats.
    let seed = 7;
    const next = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n;
    const protocols = ['tcp', 'udp', 'sctp'] as const;
    const hostIps = ['', '127.0.0.1', '10.1.0.1'];
    for (let step = 0; step < 400; step++) {
      const key = { protocol: protocols[next(3)] ?? 'tcp', hostIp: hostIps[next(3)] ?? '', hostPort: 1 + next(40) };
      if (next(3) === 0) table.delete(key);
      else table.put(portMapping(key.protocol, key.hostIp, key.hostPort, 1, `10.0.0.${next(200)}`));
      assert.deepEqual(listed(), sortedAnew(), `after step ${step}`);
    }
    assert.ok(table.size > 20, 'the sequence left a table worth comparing');
  });

  test('finds overlapping mappings once each, by address rule', () => {
    const every = portMapping('tcp', '', 8000, 1, '10.0.0.2', { hostPortEnd: 8010 });
    const local = portMapping('tcp', '127.0.0.1', 9000, 1, '10.0.0.3', { hostPortEnd: 9005 });
    const other = portMapping('tcp', '127.0.0.2', 9003, 1, '10.0.0.4');
    const table = new PortTable([every, local, other, portMapping('udp', '', 8000, 1, '10.0.0.5')]);
    const overlapping = (span: Partial<PortMapping>) =>
      [...table.overlapping({ protocol: 'tcp', hostIp: '', hostPort: 1, hostPortEnd: 1, ...span })].map((m) => m.containerIp);
    assert.deepEqual(overlapping({ hostPort: 7000, hostPortEnd: 8500 }), ['10.0.0.2']);
    assert.deepEqual(overlapping({ hostIp: '127.0.0.1', hostPort: 8010, hostPortEnd: 9003 }), ['10.0.0.2', '10.0.0.3']);
    assert.deepEqual(overlapping({ hostPort: 9000, hostPortEnd: 9010 }), ['10.0.0.3', '10.0.0.4']);
    assert.deepEqual(overlapping({ hostIp: '127.0.0.3', hostPort: 9000, hostPortEnd: 9010 }), []);
    assert.deepEqual(overlapping({ protocol: 'sctp', hostPort: 8000, hostPortEnd: 8000 }), []);
    table.delete(every);
    assert.deepEqual(overlapping({ hostPort: 7000, hostPortEnd: 8500 }), []);
    assert.equal(table.covering({ protocol: 'tcp', hostIp: '', hostPort: 8005 }), undefined);
  });

  test('a lookup reads only the mappings on its own ports, whatever else is published', () => {
    const reads = { count: 0 };
    const table = new PortTable();
    table.put(counted(portMapping('tcp', '', 20000, 1, '10.0.0.2', { hostPortEnd: 29999 }), reads));
    for (let port = 1; port <= 10000; port++) {
      table.put(counted(portMapping('tcp', port % 2 === 0 ? '' : '127.0.0.1', port, 1, '10.0.0.3'), reads));
    }
    table.select();
    reads.count = 0;

    const single = portMapping('tcp', '', 40000, 1, '10.0.0.4');
    assert.deepEqual([...table.overlapping(single)], []);
    checkPortConflict(single, table.overlapping(single));
    table.put(single);
    table.delete(single);
    assert.equal(table.get({ protocol: 'tcp', hostIp: '', hostPort: 20000 })?.hostPortEnd, 29999);
    // Keeping the listing ordered costs a binary search over the 10,001:
    // fewer than 3 fields of 2 * 14 mappings, plus the one the test read.
    assert.ok(reads.count <= 3 * 2 * 14 + 1, `the put and delete read ${reads.count} fields`);

    reads.count = 0;
    const inside = portMapping('tcp', '', 25000, 1, '10.0.0.4');
    assert.equal([...table.overlapping(inside)].length, 1);
    assert.ok(reads.count === 0, `finding the range read its fields ${reads.count} times`);
  });
});
