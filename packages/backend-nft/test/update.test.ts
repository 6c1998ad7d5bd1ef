// update(), with a fake runner: one transaction of element changes whose
// size follows the change, or the whole table when the rules change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger, type FirewallState, type PortMapping } from '@router-service/core';
import { goldenStates } from '@router-service/firewall-suite';
import { NftFirewallBackend, planUpdate, render, type NftJson } from '../src/index.js';
import { fakeRunner } from './fake-runner.js';

const full = goldenStates.full!;

function tcp(hostPort: number, containerIp: string, extra: Partial<PortMapping> = {}): PortMapping {
  return { protocol: 'tcp', hostIp: '', hostPort, hostPortEnd: hostPort, containerIp, containerPort: 80, vlan: 100, sources: [], ...extra };
}

function withMappings(state: FirewallState, portMappings: PortMapping[]): FirewallState {
  return { ...state, portMappings };
}

/** The batch's commands as `verb set: element count`. */
function summary(batch: NftJson): string[] {
  return batch.nftables.flatMap((command) => {
    if ('metainfo' in command) return [];
    return Object.entries(command).map(([verb, body]) => {
      const element = (body as { element?: { name: string; elem: unknown[] } }).element;
      return element === undefined ? `${verb} ${Object.keys(body).join(',')}` : `${verb} ${element.name}: ${element.elem.length}`;
    });
  });
}

async function sent(previous: FirewallState, next: FirewallState): Promise<NftJson[]> {
  const fake = fakeRunner();
  await new NftFirewallBackend(fake.run, silentLogger).update(previous, next);
  for (const call of fake.calls) assert.deepEqual(call.args, ['-j', '-f', '-']);
  return fake.calls.map((c) => JSON.parse(c.input ?? '') as NftJson);
}

test('one mapping added to 10,000 sends the two element additions and nothing else', async () => {
  const many = Array.from({ length: 10_000 }, (_, i) => tcp(10_000 + i, '172.18.0.2'));
  const previous = withMappings(full, many);
  const next = withMappings(full, [...many, tcp(30_000, '172.18.0.3')]);
  const batches = await sent(previous, next);
  assert.equal(batches.length, 1, 'one transaction');
  assert.deepEqual(summary(batches[0]!), ['add published_any_tcp_addr: 1', 'add published_any_tcp_port: 1']);
  assert.deepEqual((batches[0]!.nftables[1] as { add: { element: { elem: unknown } } }).add.element.elem, [[30_000, '172.18.0.3']]);
});

test('a removed mapping is deleted by its keys, a retargeted one deleted and added anew', async () => {
  const previous = withMappings(full, [tcp(8080, '172.18.0.2'), tcp(8081, '172.18.0.2')]);
  const next = withMappings(full, [tcp(8081, '172.18.0.9')]);
  const [batch] = await sent(previous, next);
  assert.deepEqual(summary(batch!), [
    'delete published_any_tcp_addr: 2',
    'delete published_any_tcp_port: 1',
    'add published_any_tcp_addr: 1',
  ]);
  const deleted = (batch!.nftables[1] as { delete: { element: { elem: unknown } } }).delete.element.elem;
  assert.deepEqual(deleted, [8080, 8081]);
});

test('a range is one element per port in the DNAT maps and one in the source sets', () => {
  const range = tcp(20_000, '172.18.0.2', { hostPortEnd: 29_999, sources: ['10.0.0.0/8', '192.168.1.1/32'] });
  const plan = planUpdate(withMappings(full, []), withMappings(full, [range]));
  assert.equal(plan.kind, 'elements');
  assert.deepEqual(summary(plan.batch), [
    'add published_any_tcp_addr: 10000',
    'add published_any_tcp_port: 10000',
    'add restricted_any: 1',
    'add allowed_any: 2',
  ]);
});

test('network and NAT source changes are element changes too', async () => {
  const [first, second] = full.networks;
  const next: FirewallState = {
    ...full,
    networks: [{ ...first!, network: { ...first!.network, natSources: ['10.9.0.0/16'] } }, second!],
  };
  const [batch] = await sent(full, next);
  assert.deepEqual(summary(batch!), ['delete networks: 1', 'delete subnets: 1', 'delete gateways: 1', 'add nat_sources: 1']);
});

test('nothing to change runs no nft at all', async () => {
  assert.deepEqual(await sent(full, { ...full, portMappings: [...full.portMappings].reverse() }), []);
});

test('another uplink changes rules: the whole table is replaced in one transaction', async () => {
  const next = { ...full, uplink: 'eth1' };
  assert.deepEqual(await sent(full, next), [render(next)]);
});

/** Each set's and map's elements in a rendering, as JSON text; a map element is `[key, value]`. */
function elementsOf(batch: NftJson): Map<string, { map: boolean; elements: Set<string> }> {
  const found = new Map<string, { map: boolean; elements: Set<string> }>();
  for (const command of batch.nftables) {
    const add = (command as { add?: Record<string, { name: string; elem?: unknown[] }> }).add;
    for (const kind of ['set', 'map'] as const) {
      const body = add?.[kind];
      if (body !== undefined) found.set(body.name, { map: kind === 'map', elements: new Set((body.elem ?? []).map((e) => JSON.stringify(e))) });
    }
  }
  return found;
}

/** The sets of `rendering` after the element deletions and additions of `batch`, as nft applies them. */
function applied(rendering: NftJson, batch: NftJson): Map<string, { map: boolean; elements: Set<string> }> {
  const sets = elementsOf(rendering);
  for (const command of batch.nftables) {
    for (const [verb, body] of Object.entries(command)) {
      const element = (body as { element?: { name: string; elem: unknown[] } }).element;
      if (element === undefined) continue;
      const set = sets.get(element.name) ?? assert.fail(`no set ${element.name}`);
      for (const e of element.elem) {
        const text = JSON.stringify(e);
        if (verb === 'add') set.elements.add(text);
        else if (!set.map) assert.ok(set.elements.delete(text), `${element.name}: deleting absent ${text}`);
        else {
          const entry = [...set.elements].find((m) => JSON.stringify((JSON.parse(m) as unknown[])[0]) === text);
          assert.ok(entry !== undefined && set.elements.delete(entry), `${element.name}: deleting absent key ${text}`);
        }
      }
    }
  }
  return sets;
}

test('updates between random states, in any order, with copies of unchanged mappings, leave exactly the next rendering', () => {
  // A fixed sequence of pseudo-random states, so that a failure repeats.
  let seed = 11;
  const random = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n;
  const pool = Array.from({ length: 80 }, (_, i) =>
    tcp(9_000 + i, `172.18.0.${2 + (i % 5)}`, i % 7 === 0 ? { hostPortEnd: 9_000 + i, sources: ['10.0.0.0/8'] } : {}),
  );
  let current = pool.filter(() => random(2) === 0);
  for (let round = 0; round < 150; round++) {
    let next = current.filter(() => random(8) !== 0);
    for (const m of pool) if (!next.some((n) => n.hostPort === m.hostPort) && random(10) === 0) next.push(m);
    // Retargeted mappings, copies equal in value, and sometimes another order.
    next = next.map((m) => (random(15) === 0 ? { ...m, containerIp: '172.18.0.99' } : random(6) === 0 ? { ...m } : m));
    next.sort((a, b) => a.hostPort - b.hostPort);
    if (random(5) === 0) next.reverse();
    const previous = withMappings(full, current);
    const wanted = withMappings(full, next);
    const plan = planUpdate(previous, wanted);
    assert.equal(plan.kind, 'elements');
    assert.deepEqual(applied(render(previous), plan.batch), elementsOf(render(wanted)), `round ${round}`);
    current = next;
  }
});
