import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkDeviceName, vlanLinkName } from '../src/device-name.js';
import { batchFailures, classifyIpFailure } from '../src/ip-errors.js';
import { parseLinks, parseRoutes } from '../src/ip-json.js';
import { ipv4Network, parseIpv4Interface } from '../src/ipv4.js';

test('a VLAN link as iproute2 prints it', () => {
  const [link] = parseLinks(
    JSON.stringify([
      {
        ifindex: 9,
        link: 'eth0',
        ifname: 'eth0.100',
        flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
        mtu: 1500,
        operstate: 'UP',
        address: '52:54:00:AA:BB:CC',
        linkinfo: { info_kind: 'vlan', info_data: { protocol: '802.1Q', id: 100, flags: ['REORDER_HDR'] } },
        ifalias: 'router-service',
        addr_info: [
          { family: 'inet', local: '172.18.0.1', prefixlen: 16, broadcast: '172.18.255.255', scope: 'global', label: 'eth0.100' },
          { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' },
        ],
      },
    ]),
  );
  assert.deepEqual(link, {
    index: 9,
    name: 'eth0.100',
    flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
    mtu: 1500,
    operstate: 'UP',
    mac: '52:54:00:aa:bb:cc',
    alias: 'router-service',
    lowerLink: 'eth0',
    kind: 'vlan',
    vlan: { id: 100, protocol: '802.1Q' },
    addresses: [
      { family: 'inet', local: '172.18.0.1', prefixLength: 16, scope: 'global' },
      { family: 'inet6', local: 'fe80::1', prefixLength: 64, scope: 'link' },
    ],
  });
});

test('a lower link in another namespace is no parent', () => {
  const [link] = parseLinks(
    '[{"ifindex":3,"link_index":2,"link_netnsid":0,"ifname":"eth0.5","flags":[],"mtu":1500,"linkinfo":{"info_kind":"vlan","info_data":{"id":5}}}]',
  );
  assert.equal(link?.lowerLink, undefined);
  assert.deepEqual(link?.vlan, { id: 5, protocol: undefined });
});

test('malformed ip output is an error, not an empty state', () => {
  assert.throws(() => parseLinks('{"ifindex":1}'), /not a JSON array/);
  assert.throws(() => parseLinks('[{"ifindex":"1","ifname":"x","flags":[],"mtu":1}]'), /field "ifindex"/);
  assert.deepEqual(parseLinks(''), []);
});

test('routes: metric defaults to 0, multipath routes have no device', () => {
  assert.deepEqual(
    parseRoutes(
      '[{"dst":"default","gateway":"10.0.2.2","dev":"eth0","flags":[]},' +
        '{"dst":"default","metric":5,"flags":[],"nexthops":[{"gateway":"10.0.3.1","dev":"eth1","weight":1,"flags":[]}]}]',
    ),
    [
      { dev: 'eth0', metric: 0 },
      { dev: undefined, metric: 5 },
    ],
  );
});

test('ip failures are classified in both the extended ack and the strerror spelling', () => {
  assert.equal(classifyIpFailure('Cannot find device "eth9"\n'), 'no-device');
  assert.equal(classifyIpFailure('Device "eth9" does not exist.\n'), 'no-device');
  assert.equal(classifyIpFailure('RTNETLINK answers: File exists\n'), 'exists');
  assert.equal(classifyIpFailure('Error: 8021q: VLAN device already exists.\n'), 'exists');
  assert.equal(classifyIpFailure('RTNETLINK answers: Operation not supported\n'), 'unsupported');
  assert.equal(classifyIpFailure('Error: Unknown device type.\n'), 'unsupported');
  assert.equal(classifyIpFailure('Error: ipv4: Address not found.\n'), 'address-not-found');
  assert.equal(classifyIpFailure('RTNETLINK answers: Cannot assign requested address\n'), 'address-not-found');
  assert.equal(classifyIpFailure('Dump was interrupted and may be inconsistent.\nDump terminated\n'), 'dump-interrupted');
  assert.equal(classifyIpFailure('RTNETLINK answers: Operation not permitted\n'), 'other');
});

test('batch stderr is split by failed command', () => {
  assert.deepEqual(
    batchFailures('Error: ipv4: Address not found.\nCommand failed -:1\nRTNETLINK answers: Network is down\nCommand failed -:3\n'),
    [
      { index: 0, stderr: 'Error: ipv4: Address not found.' },
      { index: 2, stderr: 'RTNETLINK answers: Network is down' },
    ],
  );
});

test('device names', () => {
  for (const ok of ['eth0', 'eth0.100', 'enp0s31f6.4094', 'br-abc_1', '123456789012345']) {
    assert.equal(checkDeviceName(ok), ok);
  }
  for (const bad of ['', '.', '..', '.eth0', '-eth0', 'a/b', 'a b', 'a#b', 'a"b', 'a:b', '1234567890123456']) {
    assert.throws(() => checkDeviceName(bad), /invalid interface name/, bad);
  }
  assert.equal(vlanLinkName('eth0', 100), 'eth0.100');
  assert.throws(() => vlanLinkName('enp0s31f6abcde', 4094), /invalid interface name "enp0s31f6abcde\.4094"/);
});

test('IPv4 addresses and networks', () => {
  assert.deepEqual(parseIpv4Interface('172.18.0.1/16'), { address: '172.18.0.1', prefixLength: 16 });
  for (const bad of ['172.18.0.1', '172.18.0.256/16', '172.18.0.1/33', '172.18.00.1/16', ' 1.2.3.4/8', 'fd00::1/64']) {
    assert.throws(() => parseIpv4Interface(bad), /invalid IPv4/, bad);
  }
  assert.equal(ipv4Network('10.1.2.3', 16), '10.1.0.0/16');
  assert.equal(ipv4Network('192.168.77.200', 25), '192.168.77.128/25');
  assert.equal(ipv4Network('255.255.255.255', 0), '0.0.0.0/0');
  assert.equal(ipv4Network('10.1.2.3', 32), '10.1.2.3/32');
});
