// Drives core by its package name, with no gRPC, the way another tool that
// imports @router-service/core would.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  RouterError,
  Router,
  createMemoryStore,
  errorKind,
  type Logger,
  type StateView,
} from '@router-service/core';
import { FakeVlanBackend } from './fake-vlan-backend.js';

test('a tool builds a Router on its own backends and a memory store', async () => {
  const lines: string[] = [];
  const log: Logger = {
    debug: () => {},
    info: (_fields, message) => void lines.push(message),
    warn: (_fields, message) => void lines.push(message),
    error: (_fields, message) => void lines.push(message),
  };
  const store = createMemoryStore();
  const vlan = new FakeVlanBackend({ name: 'ens3', mtu: 9000, prefixes: ['10.0.2.0/24'] });
  const router = await Router.open({ store, vlan, log });
  try {
    assert.equal(router.parent, 'ens3');
    await router.resync();
    const created = await router.createNetwork({
      vlan: 42,
      subnet: '172.30.0.0/24',
      gateway: '',
      name: 'builds',
      mtu: 0,
      internal: false,
    });
    assert.equal(created.interfaceName, 'ens3.42');
    await router.configureDns({
      vlan: 42,
      subnet: '',
      gateway: '',
      domain: 'ci',
      hosts: { runner: '172.30.0.10' },
      replaceHosts: false,
    });
    await router.addPortMapping({ containerIp: '172.30.0.10', containerPort: 22, hostPort: 2222, protocol: 'tcp', vlan: 0, hostIp: '' });
    const state: StateView = await router.getState(0);
    assert.deepEqual(state.networks[0]?.network, {
      vlan: 42,
      interfaceName: 'ens3.42',
      gateway: '172.30.0.1',
      subnet: '172.30.0.0/24',
      macAddress: vlan.link('ens3.42').mac,
      mtu: 9000,
      up: true,
      natEnabled: true,
      name: 'builds',
      internal: false,
    });
    assert.deepEqual(state.networks[0]?.dns, { domain: 'ci', hosts: { runner: ['172.30.0.10'] } });
    assert.deepEqual(state.portMappings, [
      { protocol: 'tcp', hostIp: '', hostPort: 2222, hostPortEnd: 2222, containerIp: '172.30.0.10', containerPort: 22, vlan: 42, sources: [] },
    ]);
    assert.deepEqual(store.load().networks.map((n) => n.vlan), [42]);
    assert.deepEqual(lines, ['network configured', 'DNS configured', 'port mapping added']);

    const refused = await router.createNetwork({ vlan: 43, subnet: '10.0.2.128/25', gateway: '', name: '', mtu: 0, internal: false }).then(
      () => assert.fail('an uplink-overlapping network was accepted'),
      (err: unknown) => err,
    );
    assert.ok(refused instanceof RouterError);
    assert.equal(errorKind(refused), 'invalid');
    assert.deepEqual(router.health(), { healthy: true, status: 'ok', activeNetworks: 1, uptimeSeconds: 0 });
  } finally {
    await router.close();
    store.close();
  }
});
