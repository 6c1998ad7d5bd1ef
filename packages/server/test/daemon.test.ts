import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createMemoryStore, silentLogger, type Store } from '@router-service/core';
import type { CreateVLANResponse, HealthResponse } from '@router-service/proto';
import { createRouterClient, parseEndpoint } from '@router-service/transport';
import { parseConfig, type DaemonConfig } from '../src/config.js';
import { startDaemon } from '../src/daemon.js';
import { FakeVlanBackend } from './fake-vlan-backend.js';
import { rpc } from './harness.js';

/** A memory store that records whether it was closed. */
function trackedStore(): Store & { closed: boolean } {
  const store = createMemoryStore();
  const tracked = Object.assign(Object.create(store) as Store, { closed: false });
  tracked.close = () => {
    tracked.closed = true;
    store.close();
  };
  return tracked;
}

describe('startDaemon', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'router-service-daemon-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function configFor(args: string[]): DaemonConfig {
    const result = parseConfig(['--state-dir', dir, '--parent', 'eth0', ...args]);
    assert.equal(result.kind, 'run');
    // These daemons run in the test's own namespace with a fake VLAN
    // backend: no real firewall or resolver may touch it.
    return { ...result.config, firewall: 'none', dns: { ...result.config.dns, backend: 'none' } };
  }

  test('turns on forwarding, serves, and on stop lets a call in flight finish before closing', async () => {
    const socket = join(dir, 'graceful.sock');
    const vlan = new FakeVlanBackend();
    const store = trackedStore();
    const daemon = await startDaemon(configFor(['--listen', `unix://${socket}`]), silentLogger, { vlan, openStore: () => store });
    assert.equal(vlan.forwarding, true);
    assert.deepEqual(daemon.addresses, [`unix://${socket}`]);

    const client = createRouterClient(`unix://${socket}`);
    try {
      assert.equal((await rpc<HealthResponse>((done) => client.getHealth({ checkKernel: false }, done))).healthy, true);
      let release = () => {};
      vlan.ensureGate = new Promise((resolve) => (release = resolve));
      const inFlight = rpc<CreateVLANResponse>((done) =>
        client.createVlan({ vlanId: 10, subnet: '172.18.0.0/24', gateway: '172.18.0.1', networkName: '', mtu: 0, internal: false }, done),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      const stopped = daemon.stop();
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(existsSync(socket), false, 'the socket is removed as soon as the daemon stops accepting');
      assert.equal(store.closed, false, 'the store stays open while a call is in flight');
      release();
      assert.equal((await inFlight).success, true);
      await stopped;
      assert.equal(store.closed, true);
    } finally {
      client.close();
    }
  });

  test('a call that outlives the grace period is cut off and the daemon still stops', async () => {
    const socket = join(dir, 'forced.sock');
    const vlan = new FakeVlanBackend();
    const store = trackedStore();
    const daemon = await startDaemon(configFor(['--listen', `unix://${socket}`]), silentLogger, { vlan, openStore: () => store });
    const client = createRouterClient(`unix://${socket}`);
    try {
      vlan.ensureGate = new Promise(() => {});
      const stuck = rpc((done) =>
        client.createVlan({ vlanId: 11, subnet: '172.19.0.0/24', gateway: '172.19.0.1', networkName: '', mtu: 0, internal: false }, done),
      ).then(
        () => 'answered',
        () => 'cut off',
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = Date.now();
      await daemon.stop(200);
      assert.equal(await stuck, 'cut off');
      assert.equal(store.closed, true);
      const took = Date.now() - started;
      assert.ok(took >= 400 && took < 2000, `stop took ${took} ms for a grace of 200 ms twice`);
    } finally {
      client.close();
    }
  });

  test('a failure to serve undoes the start: the store is closed', async () => {
    const store = trackedStore();
    await assert.rejects(
      startDaemon(configFor(['--listen', `unix://${join(dir, 'ok.sock')}`, '--listen', 'tcp://0.0.0.0:0']), silentLogger, {
        vlan: new FakeVlanBackend(),
        openStore: () => store,
      }),
      /refusing to listen on non-loopback tcp:\/\/0\.0\.0\.0:0/,
    );
    assert.equal(store.closed, true);
    assert.equal(existsSync(join(dir, 'ok.sock')), false, 'the endpoint served before the failure is closed');
  });

  test('an unknown plugin name fails the start with the known ones', async () => {
    const store = trackedStore();
    const config = { ...configFor([]), listen: [parseEndpoint(`unix://${join(dir, 'x.sock')}`)], firewall: 'pf' };
    await assert.rejects(startDaemon(config, silentLogger, { vlan: new FakeVlanBackend(), openStore: () => store }), {
      message: 'unknown firewall backend "pf": known ones are none, nft, iptables, or a module whose default export is a firewall plugin',
    });
    assert.equal(store.closed, true);
  });

  test('a missing parent fails the start', async () => {
    const store = trackedStore();
    const config = configFor(['--parent', 'missing0', '--listen', `unix://${join(dir, 'y.sock')}`]);
    await assert.rejects(startDaemon(config, silentLogger, { vlan: new FakeVlanBackend(), openStore: () => store }), {
      message: 'parent interface missing0 does not exist',
    });
    assert.equal(store.closed, true);
  });
});
