// sync, update and drift against the kernel, in a throwaway namespace: what
// the backend writes is what drift reads back, for every golden state and
// for the transitions between them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FirewallBackend, FirewallState } from '@router-service/core';
import { goldenStates } from '@router-service/firewall-suite';
import { IP, Netns, runChecked } from '@router-service/test-support';
import { createNftFirewallBackend } from '../src/index.js';

const NFT = '/usr/sbin/nft';

let ns: Netns;
let backend: FirewallBackend;
before(async () => {
  ns = await Netns.create();
  backend = createNftFirewallBackend({ netns: ns.name });
});
after(async () => {
  await ns?.delete();
});

const states = Object.entries(goldenStates);

test('after a sync drift is empty; after nft flush ruleset the table is missing; the next sync repairs it', async () => {
  for (const [name, state] of states) {
    await backend.sync(state);
    assert.equal(await backend.drift(state), '', name);
    await runChecked(IP, ['netns', 'exec', ns.name, NFT, 'flush', 'ruleset']);
    assert.equal(await backend.drift(state), 'table inet router_service missing', name);
    await backend.sync(state);
    assert.equal(await backend.drift(state), '', `${name} after the repair`);
  }
});

test('updates between every two golden states leave no drift', async () => {
  for (const [fromName, from] of states) {
    for (const [toName, to] of states) {
      await backend.sync(from);
      await backend.update(from, to);
      assert.equal(await backend.drift(to), '', `${fromName} -> ${toName}`);
    }
  }
});

test('a 10,000-port range with sources is synced, updated and read back', async () => {
  const full = goldenStates.full!;
  const range: FirewallState = {
    ...full,
    portMappings: [
      ...full.portMappings,
      { protocol: 'udp', hostIp: '', hostPort: 40_000, hostPortEnd: 49_999, containerIp: '172.18.0.9', containerPort: 10_000, vlan: 100, sources: ['10.0.0.0/8'] },
    ],
  };
  await backend.sync(full);
  await backend.update(full, range);
  assert.equal(await backend.drift(range), '');
  await backend.update(range, full);
  assert.equal(await backend.drift(full), '');
  await backend.sync(range);
  assert.equal(await backend.drift(range), '');
});

test('an update the kernel refuses changes nothing and says so', async () => {
  const full = goldenStates.full!;
  await backend.sync(goldenStates.empty!);
  // The kernel holds "empty", the caller believes "full": deleting one of
  // full's mappings fails, and the addition in the same transaction is not
  // made either.
  const next: FirewallState = {
    ...full,
    portMappings: [
      ...full.portMappings.slice(1),
      { protocol: 'tcp', hostIp: '', hostPort: 1234, hostPortEnd: 1234, containerIp: '172.18.0.9', containerPort: 80, vlan: 100, sources: [] },
    ],
  };
  await assert.rejects(backend.update(full, next), /\[nft\] update of table inet router_service failed/);
  assert.equal(await backend.drift(goldenStates.empty!), '');
});
