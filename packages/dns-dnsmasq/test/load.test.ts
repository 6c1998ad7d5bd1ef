// Name changes under load: 1,000 changes at 100 per second through sync,
// in a network that has 1,000 other names all along, while a client in the
// network's container asks continuously, over UDP and TCP, for a name that
// exists all along and for each name as it is added and removed. Not one
// query may fail, and dnsmasq is never restarted.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DnsQueryLoop } from '@router-service/test-support';
import { createDnsmasqBackend, type DnsmasqBackend } from '../src/index.js';
import { dnsState, type DnsNetworkSpec } from './fixtures.js';
import { DnsTopology, NET100 } from './topology.js';

const CHANGES = 1000;
const CHANGES_PER_SECOND = 100;
/** How many changes a name lives: each change adds one name and, past this many, removes the oldest. */
const NAME_LIFETIME = 50;
const STABLE = { name: 'stable', address: '172.18.0.10' };
/** Names that are there all along besides the stable one, so that each change meets a full network. */
const STANDING_NAMES = 1000;
/** How long a name may take to appear before the test gives up on it (the client reports it late anyway). */
const APPEAR_TIMEOUT_MS = 15_000;

const dynamicName = (i: number) => `n${i}`;
/** 172.18.1.1 and up: one address per dynamic name. */
const dynamicAddress = (i: number) => `172.18.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
/** 172.18.100.1 and up: one address per standing name. */
const STANDING_HOSTS: Readonly<Record<string, string>> = Object.fromEntries(
  Array.from({ length: STANDING_NAMES }, (_, i) => [`standing${i}`, `172.18.${100 + Math.floor(i / 250)}.${1 + (i % 250)}`]),
);

function stateAt(change: number): DnsNetworkSpec {
  const hosts: Record<string, string> = { ...STANDING_HOSTS, [STABLE.name]: STABLE.address };
  for (let i = Math.max(0, change - NAME_LIFETIME + 1); i <= change; i++) hosts[dynamicName(i)] = dynamicAddress(i);
  return { ...NET100, hosts };
}

let topology: DnsTopology;
let stateDir: string;
let backend: DnsmasqBackend;

before(async () => {
  topology = await DnsTopology.create([NET100], false);
  stateDir = await mkdtemp(join(tmpdir(), 'dnsmasq-load-'));
  await chmod(stateDir, 0o755);
  backend = createDnsmasqBackend({ stateDir, netns: topology.router.name, upstreams: [] });
});
after(async () => {
  await backend?.teardown();
  await topology?.destroy();
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
});

test(`${CHANGES} name changes at ${CHANGES_PER_SECOND} per second under continuous queries: no query fails`, async (t) => {
  await backend.sync([dnsState({ ...NET100, hosts: { ...STANDING_HOSTS, [STABLE.name]: STABLE.address } })]);
  const pid = backend.pidOf(NET100.vlan);
  const loop = await DnsQueryLoop.start(topology.container(NET100.vlan).name, {
    server: NET100.gateway,
    transports: 'both',
    stableName: STABLE.name,
    stableAddress: STABLE.address,
  });
  try {
    const started = performance.now();
    for (let change = 0; change < CHANGES; change++) {
      const due = started + (change * 1000) / CHANGES_PER_SECOND;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      // A name goes only once the client saw it: a pause of this process
      // followed by catching up must not remove names before they were asked.
      if (change >= NAME_LIFETIME) await loop.appeared(dynamicName(change - NAME_LIFETIME), APPEAR_TIMEOUT_MS);
      await backend.sync([dnsState(stateAt(change))]);
      loop.expect(dynamicName(change), dynamicAddress(change));
      if (change >= NAME_LIFETIME) loop.expectGone(dynamicName(change - NAME_LIFETIME));
    }
    const elapsedMs = performance.now() - started;
    const summary = await loop.finish();
    t.diagnostic(`changes: ${CHANGES} in ${Math.round(elapsedMs)} ms; client: ${JSON.stringify(summary)}`);
    const failures = loop.events.filter((e) => e.event === 'failure' || e.event === 'late');
    assert.equal(failures.length, 0, `${failures.length} failed queries or late names, the first: ${JSON.stringify(failures.slice(0, 3))}`);
    assert.equal(summary.failures, 0);
    assert.equal(summary.late, 0);
    assert.equal(summary.appeared, CHANGES);
    assert.equal(summary.gone, CHANGES - NAME_LIFETIME);
    // The client kept asking while the names changed: on average at least
    // once every ten changes, however slow a busy machine makes it.
    assert.ok(summary.stableQueries > CHANGES / 10, `the stable name was asked throughout (${summary.stableQueries} times)`);
    assert.equal(backend.pidOf(NET100.vlan), pid, 'dnsmasq was never restarted');
  } finally {
    await loop.stop();
  }
});
