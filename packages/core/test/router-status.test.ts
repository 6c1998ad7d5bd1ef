import assert from 'node:assert/strict';
import { after, afterEach, describe, test } from 'node:test';
import type { AddPortMappingRequest } from '../src/router.js';
import { FakeDnsBackend, FakeFirewallBackend } from './fake-attachment-backends.js';
import { create, newHarness, removeStateDirs, type Harness, type HarnessOptions } from './router-harness.js';

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop();
});
after(removeStateDirs);

async function synced(options: HarnessOptions = {}): Promise<Harness> {
  const h = await newHarness(options);
  harnesses.push(h);
  await h.router.createNetwork(create(100, '172.18.0.0/16'));
  await h.router.resync();
  return h;
}

const CHECK_KERNEL = { checkKernel: true };

const web: AddPortMappingRequest = { containerIp: '172.18.0.2', containerPort: 80, hostPort: 8080, protocol: 'tcp', vlan: 100, hostIp: '' };

describe('Router status', () => {
  test('without backends: none, and the kernel in sync', async () => {
    const h = await synced();
    assert.deepEqual(await h.router.status(CHECK_KERNEL), {
      ...h.router.health(),
      firewallBackend: 'none',
      dnsBackend: 'none',
      kernelChecked: true,
      kernelInSync: true,
      kernelDrift: '',
    });
  });

  test('names the backends and reports drift, which kicks a resync that repairs it', async () => {
    const firewall = new FakeFirewallBackend();
    const h = await synced({ firewall, dns: new FakeDnsBackend() });
    await h.router.addPortMapping(web);
    const status = await h.router.status(CHECK_KERNEL);
    assert.equal(status.firewallBackend, 'fake-firewall');
    assert.equal(status.dnsBackend, 'fake-dns');
    assert.equal(status.kernelInSync, true);
    assert.equal(status.healthy, true);

    // Someone flushes our port mappings behind the router's back.
    firewall.kernel = { ...structuredClone(firewall.kernel ?? assert.fail()), portMappings: [] };
    const syncs = firewall.syncs.length;
    h.router.startResyncLoop(3_600_000);
    const drifted = await h.router.status(CHECK_KERNEL);
    assert.equal(drifted.kernelInSync, false);
    assert.equal(drifted.kernelDrift, '0 port mappings, want 1');
    assert.equal(drifted.healthy, true, 'drift alone does not make the router unhealthy');
    assert.ok(h.log.lines.some((l) => l.level === 'warn' && l.fields['drift'] === '0 port mappings, want 1'));
    while (firewall.syncs.length === syncs) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal((await h.router.status(CHECK_KERNEL)).kernelInSync, true);
  });

  test('waits for a change in flight instead of comparing a half-applied state', async () => {
    const firewall = new FakeFirewallBackend();
    const h = await synced({ firewall });
    let release = () => {};
    firewall.gate = new Promise((resolve) => (release = resolve));
    const adding = h.router.addPortMapping(web);
    let answered = false;
    const status = h.router.status(CHECK_KERNEL).finally(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(answered, false, 'status answered while the change was being applied');
    release();
    await adding;
    assert.equal((await status).kernelInSync, true);
  });

  test('a comparison that fails is reported as not in sync, with the reason', async () => {
    const firewall = new FakeFirewallBackend();
    const h = await synced({ firewall });
    firewall.failDrift = new Error('nft: permission denied');
    const status = await h.router.status(CHECK_KERNEL);
    assert.equal(status.kernelInSync, false);
    assert.equal(status.kernelDrift, 'cannot compare: comparing the kernel with the fake-firewall firewall: nft: permission denied');
  });

  test('without checkKernel reads nothing from the kernel and answers while a change is in flight', async () => {
    const firewall = new FakeFirewallBackend();
    const h = await synced({ firewall });
    // Any comparison would fail loudly.
    firewall.failDrift = new Error('the kernel was read');
    let release = () => {};
    firewall.gate = new Promise((resolve) => (release = resolve));
    const adding = h.router.addPortMapping(web);
    const status = await h.router.status({ checkKernel: false });
    assert.deepEqual(status, {
      ...h.router.health(),
      firewallBackend: 'fake-firewall',
      dnsBackend: 'none',
      kernelChecked: false,
      kernelInSync: false,
      kernelDrift: '',
    });
    release();
    await adding;
  });
});
