import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkOverlap, parseNetwork, type NetworkRequest } from '../src/network.js';
import type { Uplink } from '../src/backends.js';
import type { NetworkSpec } from '../src/model.js';
import { assertRouterError, network, testUplink } from './helpers.js';

function spec(fields: Partial<NetworkSpec> & Pick<NetworkSpec, 'vlan' | 'subnet' | 'gateway'>): NetworkSpec {
  return { name: '', mtu: 0, nat: false, internal: false, ...fields };
}

function request(fields: Partial<NetworkRequest> & Pick<NetworkRequest, 'vlan' | 'subnet'>): NetworkRequest {
  return { gateway: '', name: '', mtu: 0, internal: false, ...fields };
}

describe('parseNetwork accepts', () => {
  const cases: Array<{ name: string; req: NetworkRequest; want: NetworkSpec }> = [
    {
      name: 'full request',
      req: request({ vlan: 100, subnet: '172.18.0.0/16', gateway: '172.18.0.1', name: 'frontend', mtu: 1400 }),
      want: spec({ vlan: 100, name: 'frontend', subnet: '172.18.0.0/16', gateway: '172.18.0.1', mtu: 1400, nat: true }),
    },
    {
      name: 'gateway defaults to the first host',
      req: request({ vlan: 4094, subnet: '10.1.2.0/24' }),
      want: spec({ vlan: 4094, subnet: '10.1.2.0/24', gateway: '10.1.2.1', nat: true }),
    },
    {
      name: 'explicit NAT off',
      req: request({ vlan: 1, subnet: '10.0.0.0/30', gateway: '10.0.0.2', enableNat: false }),
      want: spec({ vlan: 1, subnet: '10.0.0.0/30', gateway: '10.0.0.2' }),
    },
    {
      name: 'internal network defaults to no NAT',
      req: request({ vlan: 9, subnet: '10.9.0.0/16', internal: true }),
      want: spec({ vlan: 9, subnet: '10.9.0.0/16', gateway: '10.9.0.1', internal: true }),
    },
    {
      name: "MTU at the parent's maximum",
      req: request({ vlan: 7, subnet: '10.7.0.0/16', mtu: 1500 }),
      want: spec({ vlan: 7, subnet: '10.7.0.0/16', gateway: '10.7.0.1', mtu: 1500, nat: true }),
    },
    {
      name: 'IPv4-mapped gateway is unmapped',
      req: request({ vlan: 8, subnet: '10.8.0.0/16', gateway: '::ffff:10.8.0.254' }),
      want: spec({ vlan: 8, subnet: '10.8.0.0/16', gateway: '10.8.0.254', nat: true }),
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(parseNetwork(c.req, testUplink), c.want);
    });
  }
});

describe('parseNetwork rejects', () => {
  const valid = request({ vlan: 100, subnet: '172.18.0.0/16', gateway: '172.18.0.1' });
  const cases: Array<{ name: string; edit: Partial<NetworkRequest>; up?: Uplink; message: string }> = [
    { name: 'vlan 0', edit: { vlan: 0 }, message: 'vlan_id 0 is out of range: use 1 to 4094' },
    { name: 'vlan 4095', edit: { vlan: 4095 }, message: 'vlan_id 4095 is out of range' },
    { name: 'malformed CIDR', edit: { subnet: '172.18.0.0' }, message: 'subnet "172.18.0.0" is not a CIDR such as 172.18.0.0/16' },
    { name: 'IPv6 subnet', edit: { subnet: 'fd00::/64' }, message: 'subnet fd00::/64 is not IPv4: only IPv4 networks are supported' },
    { name: 'host bits set', edit: { subnet: '172.18.0.5/16' }, message: 'subnet 172.18.0.5/16 has host bits set: did you mean 172.18.0.0/16?' },
    { name: 'subnet too small', edit: { subnet: '172.18.0.0/31', gateway: '' }, message: 'too small' },
    { name: 'gateway not an IP', edit: { gateway: 'gw' }, message: 'gateway "gw" is not an IP address' },
    { name: 'gateway outside subnet', edit: { gateway: '172.19.0.1' }, message: 'gateway 172.19.0.1 is not inside subnet 172.18.0.0/16' },
    { name: 'IPv6 gateway', edit: { gateway: 'fd00:0:0::1' }, message: 'gateway fd00::1 is not inside subnet' },
    {
      name: 'gateway is network address',
      edit: { gateway: '172.18.0.0' },
      message: 'gateway 172.18.0.0 is the network address of 172.18.0.0/16: use a host address such as 172.18.0.1',
    },
    { name: 'gateway is broadcast', edit: { gateway: '172.18.255.255' }, message: 'broadcast address' },
    { name: 'MTU below IPv4 minimum', edit: { mtu: 67 }, message: 'mtu 67 is out of range for parent eth0: use 68 to 1500' },
    { name: 'MTU above parent', edit: { mtu: 1501 }, message: 'mtu 1501 is out of range' },
    {
      name: 'overlaps uplink',
      edit: { subnet: '192.168.0.0/16', gateway: '' },
      message: 'subnet 192.168.0.0/16 overlaps the uplink eth0 network 192.168.64.0/24: choose a subnet outside it',
    },
    { name: 'interface name too long', edit: {}, up: { name: 'enp0s1f2abcd', mtu: 1500, prefixes: [] }, message: "longer than the kernel's limit" },
    { name: 'name with control characters', edit: { name: 'a\nb' }, message: 'network_name "a\\nb" contains non-printable' },
    { name: 'internal with NAT', edit: { internal: true, enableNat: true }, message: 'cannot enable NAT' },
    { name: 'name too long', edit: { name: 'n'.repeat(129) }, message: 'the limit is 128' },
    { name: 'leading zero in an octet', edit: { subnet: '172.018.0.0/16' }, message: 'is not a CIDR' },
    { name: 'prefix length above 32', edit: { subnet: '10.0.0.0/33' }, message: 'is not a CIDR' },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      await assertRouterError(() => parseNetwork({ ...valid, ...c.edit }, c.up ?? testUplink), 'invalid', c.message);
    });
  }
});

describe('checkOverlap', () => {
  const existing = [network(100, '172.18.0.0/16', '172.18.0.1'), network(200, '10.0.0.0/8', '10.0.0.1')];
  const cases = [
    { name: 'disjoint', vlan: 300, subnet: '172.19.0.0/16', conflict: false },
    { name: 'same subnet other VLAN', vlan: 300, subnet: '172.18.0.0/16', conflict: true },
    { name: 'inside another', vlan: 300, subnet: '10.5.0.0/16', conflict: true },
    { name: 'containing another', vlan: 300, subnet: '172.16.0.0/12', conflict: true },
    { name: 'replacing itself', vlan: 100, subnet: '172.18.0.0/24', conflict: false },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const candidate = spec({ vlan: c.vlan, subnet: c.subnet, gateway: '' });
      if (c.conflict) {
        await assertRouterError(() => checkOverlap(candidate, existing), 'already-exists', 'choose a subnet that no other network uses');
      } else {
        assert.doesNotThrow(() => checkOverlap(candidate, existing));
      }
    });
  }
});
