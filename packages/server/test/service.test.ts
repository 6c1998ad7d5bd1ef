import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { unavailable } from '@router-service/core';
import type {
  AddPortMappingRequest,
  AddPortMappingResponse,
  ConfigureDNSRequest,
  ConfigureDNSResponse,
  ConfigureNATResponse,
  CreateVLANRequest,
  CreateVLANResponse,
  DeleteVLANResponse,
  GetStateResponse,
  HealthResponse,
  ListVLANsResponse,
  RemoveDNSHostsResponse,
  RemoveNATResponse,
  RemovePortMappingResponse,
} from '@router-service/proto';
import { rpc, startHarness, type Harness } from './harness.js';

function vlanRequest(overrides: Partial<CreateVLANRequest>): CreateVLANRequest {
  return { vlanId: 100, subnet: '172.18.0.0/16', gateway: '172.18.0.1', networkName: 'web', mtu: 0, internal: false, ...overrides };
}

function portRequest(overrides: Partial<AddPortMappingRequest>): AddPortMappingRequest {
  return { containerIp: '172.18.0.5', containerPort: 80, hostPort: 8080, protocol: 'tcp', vlanId: 100, hostIp: '', hostPortEnd: 0, allowedSources: [], ...overrides };
}

async function rejection(promise: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await promise;
  } catch (err) {
    const { code, details } = err as ServiceError;
    return { code, details };
  }
  assert.fail('the call succeeded');
}

describe('RouterService over gRPC', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  const createVlan = (req: CreateVLANRequest) => rpc<CreateVLANResponse>((done) => h.client.createVlan(req, done));

  test('CreateVLAN creates the link and answers success, name and MAC; an identical repeat answers the same', async () => {
    const want: CreateVLANResponse = { success: true, interfaceName: 'eth0.100', macAddress: '02:00:00:00:00:64', error: '' };
    assert.deepEqual(await createVlan(vlanRequest({})), want);
    assert.deepEqual(await createVlan(vlanRequest({})), want);
    assert.deepEqual(h.vlan.names(), ['eth0.100']);
  });

  test('invalid requests are INVALID_ARGUMENT with the message', async () => {
    assert.deepEqual(await rejection(createVlan(vlanRequest({ vlanId: 5000, subnet: '10.0.0.0/24', gateway: '' }))), {
      code: status.INVALID_ARGUMENT,
      details: 'vlan_id 5000 is out of range: use 1 to 4094',
    });
    assert.deepEqual(
      await rejection(
        rpc((done) => h.client.addPortMapping(portRequest({ protocol: 'icmp' }), done)),
      ),
      { code: status.INVALID_ARGUMENT, details: 'protocol "icmp" is not supported: use tcp, udp or sctp' },
    );
  });

  test('an overlapping subnet is ALREADY_EXISTS', async () => {
    const err = await rejection(createVlan(vlanRequest({ vlanId: 101, subnet: '172.18.5.0/24', gateway: '172.18.5.1' })));
    assert.equal(err.code, status.ALREADY_EXISTS);
    assert.equal(err.details, 'subnet 172.18.5.0/24 overlaps subnet 172.18.0.0/16 of VLAN 100: choose a subnet that no other network uses');
  });

  test('configuring an absent network is NOT_FOUND; removing from it succeeds', async () => {
    assert.deepEqual(await rejection(rpc((done) => h.client.configureNat({ vlanId: 7, sourceSubnet: '' }, done))), {
      code: status.NOT_FOUND,
      details: 'VLAN 7 does not exist: create it with CreateVLAN first',
    });
    assert.deepEqual(await rpc<RemoveNATResponse>((done) => h.client.removeNat({ vlanId: 7, sourceSubnet: '' }, done)), { success: true, error: '' });
    assert.deepEqual(await rpc<RemoveDNSHostsResponse>((done) => h.client.removeDnsHosts({ vlanId: 7, names: ['web'] }, done)), {
      success: true,
      error: '',
    });
    assert.deepEqual(
      await rpc<RemovePortMappingResponse>((done) => h.client.removePortMapping({ hostPort: 9999, protocol: 'tcp', hostIp: '', hostPortEnd: 0 }, done)),
      { success: true, error: '' },
    );
    assert.deepEqual(await rpc<DeleteVLANResponse>((done) => h.client.deleteVlan({ vlanId: 7 }, done)), { success: true, error: '' });
  });

  test('NAT on an internal network is FAILED_PRECONDITION', async () => {
    await createVlan(vlanRequest({ vlanId: 200, subnet: '172.20.0.0/24', gateway: '172.20.0.1', internal: true }));
    assert.deepEqual(await rejection(rpc((done) => h.client.configureNat({ vlanId: 200, sourceSubnet: '' }, done))), {
      code: status.FAILED_PRECONDITION,
      details: 'VLAN 200 is internal: it has no route to the outside to masquerade onto',
    });
    await rpc((done) => h.client.deleteVlan({ vlanId: 200 }, done));
  });

  test('kernel failures keep their kind: unavailable is UNAVAILABLE, anything unclassified INTERNAL', async () => {
    h.vlan.failEnsure.set(300, unavailable('netlink is busy'));
    h.vlan.failEnsure.set(301, new Error('boom'));
    try {
      const busy = await rejection(createVlan(vlanRequest({ vlanId: 300, subnet: '172.30.0.0/24', gateway: '172.30.0.1' })));
      assert.equal(busy.code, status.UNAVAILABLE);
      assert.match(busy.details, /netlink is busy$/);
      const boom = await rejection(createVlan(vlanRequest({ vlanId: 301, subnet: '172.31.0.0/24', gateway: '172.31.0.1' })));
      assert.equal(boom.code, status.INTERNAL);
      assert.match(boom.details, /boom$/);
      const health = await rpc<HealthResponse>((done) => h.client.getHealth({ checkKernel: false }, done));
      assert.equal(health.healthy, false);
      assert.match(health.status, /^reconcile failed: /);
    } finally {
      h.vlan.failEnsure.clear();
    }
    await h.router.resync();
    // Rolled back: neither network is listed.
    const list = await rpc<ListVLANsResponse>((done) => h.client.listVlaNs({ vlanId: 0 }, done));
    assert.deepEqual(list.vlans.map((v) => v.vlanId), [100]);
  });

  test('NAT, DNS and port mappings succeed, repeat idempotently and show in GetState', async () => {
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(await rpc<ConfigureNATResponse>((done) => h.client.configureNat({ vlanId: 100, sourceSubnet: '192.0.2.0/24' }, done)), {
        success: true,
        error: '',
      });
      assert.deepEqual(
        await rpc<ConfigureDNSResponse>((done) =>
          h.client.configureDns(
            { vlanId: 100, subnet: '', gateway: '', domain: 'example.test', hosts: { web: '172.18.0.5', db: '172.18.0.6' }, replaceHosts: false, hostAddresses: [] },
            done,
          ),
        ),
        { success: true, error: '' },
      );
      assert.deepEqual(
        await rpc<AddPortMappingResponse>((done) =>
          h.client.addPortMapping(portRequest({ vlanId: 0 }), done),
        ),
        { success: true, error: '' },
      );
    }
    const conflict = await rejection(
      rpc((done) => h.client.addPortMapping(portRequest({ containerIp: '172.18.0.6' }), done)),
    );
    assert.equal(conflict.code, status.ALREADY_EXISTS);

    const state = await rpc<GetStateResponse>((done) => h.client.getState({ vlanId: 0 }, done));
    assert.deepEqual(state, {
      networks: [
        {
          vlan: {
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
          },
          natSources: ['192.0.2.0/24'],
          dns: {
            enabled: true,
            domain: 'example.test',
            hosts: { db: '172.18.0.6', web: '172.18.0.5' },
            hostAddresses: [{ name: 'db', addresses: ['172.18.0.6'] }, { name: 'web', addresses: ['172.18.0.5'] }],
          },
        },
      ],
      portMappings: [
        { protocol: 'tcp', hostIp: '', hostPort: 8080, containerIp: '172.18.0.5', containerPort: 80, vlanId: 100, hostPortEnd: 8080, allowedSources: [] },
      ],
    });
    assert.deepEqual(Object.keys(state.networks[0]?.dns?.hosts ?? {}), ['db', 'web']);
  });

  test('a name with several addresses: host_addresses in both directions, the first address in hosts', async () => {
    const configure = (request: Partial<ConfigureDNSRequest>) =>
      rpc<ConfigureDNSResponse>((done) =>
        h.client.configureDns({ vlanId: 100, subnet: '', gateway: '', domain: 'example.test', hosts: {}, replaceHosts: false, hostAddresses: [], ...request }, done),
      );
    const dns = async () => (await rpc<GetStateResponse>((done) => h.client.getState({ vlanId: 100 }, done))).networks[0]?.dns;
    assert.deepEqual(
      await configure({ hosts: { api: '172.18.0.20' }, hostAddresses: [{ name: 'api', addresses: ['172.18.0.10', '172.18.0.9'] }, { name: 'Cache', addresses: ['172.18.0.11'] }] }),
      { success: true, error: '' },
    );
    assert.deepEqual(await dns(), {
      enabled: true,
      domain: 'example.test',
      hosts: { api: '172.18.0.9', cache: '172.18.0.11', db: '172.18.0.6', web: '172.18.0.5' },
      hostAddresses: [
        { name: 'api', addresses: ['172.18.0.9', '172.18.0.10', '172.18.0.20'] },
        { name: 'cache', addresses: ['172.18.0.11'] },
        { name: 'db', addresses: ['172.18.0.6'] },
        { name: 'web', addresses: ['172.18.0.5'] },
      ],
    });
    assert.deepEqual(await rejection(configure({ hostAddresses: [{ name: 'api', addresses: [] }] })), {
      code: status.INVALID_ARGUMENT,
      details: 'host api has no address: RemoveDNSHosts removes a name',
    });
    assert.deepEqual(await rejection(configure({ hostAddresses: [{ name: 'api', addresses: ['172.18.0.9\n'] }] })), {
      code: status.INVALID_ARGUMENT,
      details: 'host api: "172.18.0.9\\n" is not an IP address',
    });
    assert.deepEqual(await rpc<RemoveDNSHostsResponse>((done) => h.client.removeDnsHosts({ vlanId: 100, names: ['api', 'cache'] }, done)), {
      success: true,
      error: '',
    });
    assert.deepEqual((await dns())?.hostAddresses.map((host) => host.name), ['db', 'web']);
  });

  test('port ranges, sources and sctp reach the router and come back in GetState', async () => {
    const ok = { success: true, error: '' };
    const range = portRequest({ hostPort: 9000, hostPortEnd: 9010, containerPort: 7000, protocol: 'SCTP', allowedSources: ['192.0.2.9', '192.0.2.0/24', '10.0.0.1'] });
    assert.deepEqual(await rpc<AddPortMappingResponse>((done) => h.client.addPortMapping(range, done)), ok);
    const listed = async () => (await rpc<GetStateResponse>((done) => h.client.getState({ vlanId: 100 }, done))).portMappings;
    const want = {
      protocol: 'sctp', hostIp: '', hostPort: 9000, containerIp: '172.18.0.5', containerPort: 7000, vlanId: 100, hostPortEnd: 9010, allowedSources: ['10.0.0.1/32', '192.0.2.0/24'],
    };
    assert.deepEqual((await listed()).filter((m) => m.hostPort === 9000), [want]);
    assert.deepEqual(await rejection(rpc((done) => h.client.addPortMapping({ ...range, hostPort: 9005, hostPortEnd: 0 }, done))), {
      code: status.ALREADY_EXISTS,
      details: 'host ports *:9000-9010/sctp are already published to 172.18.0.5:7000-7010 (VLAN 100) from 10.0.0.1/32, 192.0.2.0/24: remove that mapping first',
    });
    assert.deepEqual(await rejection(rpc((done) => h.client.addPortMapping({ ...range, allowedSources: ['192.0.2.1/24'] }, done))), {
      code: status.INVALID_ARGUMENT,
      details: 'allowed_sources entry 192.0.2.1/24 has host bits set: did you mean 192.0.2.0/24?',
    });
    const remove = (hostPort: number, hostPortEnd: number) =>
      rpc<RemovePortMappingResponse>((done) => h.client.removePortMapping({ hostPort, protocol: 'sctp', hostIp: '', hostPortEnd }, done));
    assert.deepEqual(await rejection(remove(9005, 0)), {
      code: status.FAILED_PRECONDITION,
      details: 'host ports *:9000-9010/sctp are published as one range: remove it by its first port 9000',
    });
    assert.equal((await rejection(remove(9000, 9009))).code, status.FAILED_PRECONDITION);
    assert.deepEqual(await remove(9000, 9010), ok);
    assert.deepEqual((await listed()).filter((m) => m.hostPort === 9000), []);
  });

  test('ListVLANs filters by VLAN and rejects an out-of-range filter', async () => {
    const one = await rpc<ListVLANsResponse>((done) => h.client.listVlaNs({ vlanId: 100 }, done));
    assert.deepEqual(one.vlans.map((v) => v.interfaceName), ['eth0.100']);
    const none = await rpc<ListVLANsResponse>((done) => h.client.listVlaNs({ vlanId: 4000 }, done));
    assert.deepEqual(none, { vlans: [], error: '' });
    assert.equal((await rejection(rpc((done) => h.client.listVlaNs({ vlanId: 4095 }, done)))).code, status.INVALID_ARGUMENT);
  });

  test('GetHealth reports healthy, ok and the number of networks', async () => {
    const health = await rpc<HealthResponse>((done) => h.client.getHealth({ checkKernel: false }, done));
    assert.equal(health.healthy, true);
    assert.equal(health.status, 'ok');
    assert.equal(health.activeVlans, 1);
    assert.ok(health.uptimeSeconds >= 0);
  });

  test('DeleteVLAN removes the network, its mappings and its link; a repeat succeeds', async () => {
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(await rpc<DeleteVLANResponse>((done) => h.client.deleteVlan({ vlanId: 100 }, done)), { success: true, error: '' });
    }
    assert.deepEqual(await rpc<GetStateResponse>((done) => h.client.getState({ vlanId: 0 }, done)), { networks: [], portMappings: [] });
    assert.deepEqual(h.vlan.names(), []);
  });
});
