// Golden tests of the restore text a fresh kernel gets for a few desired
// states, and of what planChanges, parseSave and describeDrift make of
// renderings. Regenerate with UPDATE_GOLDEN=1 after a deliberate change,
// and review the diff.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import type { FirewallState, PortMapping } from '@router-service/core';
import {
  DNAT_CHAIN,
  HOOKS,
  NOTHING,
  TABLES,
  bucketChain,
  describeDrift,
  formatRestore,
  isOwnedChain,
  parseSave,
  planChanges,
  render,
  renderChange,
  renderRestore,
  type OwnedRuleset,
} from '../src/index.js';
import { STATES, randomChanges } from './states.js';

// Compiled tests run from dist/test; the golden files stay in the sources.
const GOLDEN_DIR = new URL('../../test/golden/', import.meta.url);

/** The first line that differs, with its number, to keep a failure short. */
function firstDifference(actual: string, expected: string): string {
  const a = actual.split('\n');
  const e = expected.split('\n');
  const i = a.findIndex((line, n) => line !== e[n]);
  const n = i === -1 ? a.length : i;
  return `line ${n + 1}: got ${JSON.stringify(a[n] ?? '<end>')}, golden has ${JSON.stringify(e[n] ?? '<end>')}`;
}

for (const [name, state] of Object.entries(STATES)) {
  test(`the ${name} rendering matches test/golden/${name}.rules`, () => {
    const actual = renderRestore(state);
    const file = new URL(`${name}.rules`, GOLDEN_DIR);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, actual);
    const expected = readFileSync(file, 'utf8');
    if (actual !== expected) assert.fail(`differs from test/golden/${name}.rules (UPDATE_GOLDEN=1 rewrites it): ${firstDifference(actual, expected)}`);
  });
}

/** What iptables-save prints of a rendering, as far as our objects go: the built-in chains with only our jumps. */
function saveOutput(owned: OwnedRuleset, table: (typeof TABLES)[number]): string {
  const { chains, jumps } = owned[table];
  const builtins = [...new Set(jumps.map((j) => j.chain))];
  return [
    `*${table}`,
    ...builtins.map((b) => `:${b} ACCEPT [3:180]`),
    ':FOREIGN - [0:0]',
    ...[...chains.keys()].sort().map((c) => `:${c} - [0:0]`),
    '-A FOREIGN -j ACCEPT',
    ...jumps.map((j) => `-A ${j.chain} ${j.rule}`),
    ...[...chains].flatMap(([c, rules]) => rules.map((r) => `-A ${c} ${r}`)),
    'COMMIT',
  ].join('\n');
}

function parsed(owned: OwnedRuleset): OwnedRuleset {
  return { raw: parseSave(saveOutput(owned, 'raw')), nat: parseSave(saveOutput(owned, 'nat')), filter: parseSave(saveOutput(owned, 'filter')) };
}

test('the rendering does not depend on the order of networks and mappings', () => {
  const state = STATES.buckets!;
  const reversed = { ...state, networks: [...state.networks].reverse(), portMappings: [...state.portMappings].reverse() };
  assert.equal(renderRestore(reversed), renderRestore(state));
});

test('every hook jumps into a chain of ours in the same table', () => {
  const owned = render(STATES.empty!);
  for (const hook of HOOKS) assert.ok(owned[hook.table].chains.has(hook.chain), `${hook.table} ${hook.chain}`);
  const jumps = TABLES.flatMap((t) => owned[t].jumps.map((j) => `${t} ${j.chain} ${j.rule}`));
  assert.deepEqual(
    jumps,
    HOOKS.map((h) => `${h.table} ${h.builtin} -m comment --comment router-service -j ${h.chain}`),
  );
});

test('every chain a rendering has is ours by name; another chain that merely starts with the prefix is not', () => {
  const rendered = render(STATES.full!);
  const chains = TABLES.flatMap((t) => [...rendered[t].chains.keys()]);
  assert.ok(chains.some((c) => c.startsWith(`${DNAT_CHAIN}-`)), 'the full state has bucket chains');
  for (const chain of [...chains, bucketChain('sctp', 65280), bucketChain('udp', 0)]) assert.ok(isOwnedChain(chain), chain);
  for (const chain of ['RS-LOG', 'RS-DNAT-tcp', 'RS-DNAT-icmp-0-255', 'RS-INPUT2', 'XRS-INPUT', 'rs-input', 'INPUT']) assert.ok(!isOwnedChain(chain), chain);
});

test('published ports are a tree: RS-DNAT dispatches by protocol and bucket, a range is split at bucket edges', () => {
  const nat = render(STATES.buckets!).nat.chains;
  assert.deepEqual(nat.get(DNAT_CHAIN), [
    '-p sctp -m sctp --dport 2816:3071 -j RS-DNAT-sctp-2816-3071',
    '-p sctp -m sctp --dport 3840:4095 -j RS-DNAT-sctp-3840-4095',
    '-p tcp -m tcp --dport 7936:8191 -j RS-DNAT-tcp-7936-8191',
    '-p tcp -m tcp --dport 8192:8447 -j RS-DNAT-tcp-8192-8447',
    '-p tcp -m tcp --dport 8448:8703 -j RS-DNAT-tcp-8448-8703',
    '-p tcp -m tcp --dport 8704:8959 -j RS-DNAT-tcp-8704-8959',
    '-p udp -m udp --dport 0:255 -j RS-DNAT-udp-0-255',
    '-p udp -m udp --dport 65280:65535 -j RS-DNAT-udp-65280-65535',
  ]);
  // 8200-8800 -> 8200-8800: each part keeps the one-to-one shift from its own first port.
  assert.deepEqual(nat.get('RS-DNAT-tcp-8192-8447'), ['-p tcp -m tcp --dport 8200:8447 -j DNAT --to-destination 172.19.0.2:8200-8447/8200']);
  assert.deepEqual(nat.get('RS-DNAT-tcp-8448-8703'), ['-p tcp -m tcp --dport 8448:8703 -j DNAT --to-destination 172.19.0.2:8448-8703/8448']);
  assert.deepEqual(nat.get('RS-DNAT-tcp-8704-8959'), ['-p tcp -m tcp --dport 8704:8800 -j DNAT --to-destination 172.19.0.2:8704-8800/8704']);
  // Sources: one rule each; the host address as a /32 destination.
  assert.deepEqual(nat.get('RS-DNAT-tcp-7936-8191'), [
    '-p tcp -m tcp --dport 8000:8009 -j DNAT --to-destination 172.18.0.2:9000-9009/8000',
    '-s 10.0.0.0/8 -d 192.168.64.3/32 -p tcp -m tcp --dport 8100 -j DNAT --to-destination 172.19.0.3:443',
    '-s 192.168.64.7/32 -d 192.168.64.3/32 -p tcp -m tcp --dport 8100 -j DNAT --to-destination 172.19.0.3:443',
  ]);
});

test('a mapping shifted across a bucket edge keeps its offset in each part', () => {
  const m: PortMapping = { protocol: 'udp', hostIp: '', hostPort: 250, hostPortEnd: 260, containerIp: '10.1.0.2', containerPort: 1000, vlan: 1, sources: [] };
  const nat = render({ uplink: 'eth0', networks: [], portMappings: [m] }).nat.chains;
  assert.deepEqual(nat.get(bucketChain('udp', 0)), ['-p udp -m udp --dport 250:255 -j DNAT --to-destination 10.1.0.2:1000-1005/250']);
  assert.deepEqual(nat.get(bucketChain('udp', 256)), ['-p udp -m udp --dport 256:260 -j DNAT --to-destination 10.1.0.2:1006-1010/256']);
});

test('no change plans nothing; from nothing it plans everything; to nothing it removes every chain and jump', () => {
  for (const state of Object.values(STATES)) {
    assert.deepEqual(planChanges(render(state), render(state)), []);
    assert.equal(formatRestore(planChanges(NOTHING, render(state))), renderRestore(state));
  }
  const teardown = formatRestore(planChanges(render(STATES.empty!), NOTHING));
  assert.equal(
    teardown,
    [
      '*raw',
      ':RS-PREROUTING - [0:0]',
      '-D PREROUTING -m comment --comment router-service -j RS-PREROUTING',
      '-X RS-PREROUTING',
      'COMMIT',
      '*nat',
      ':RS-PREROUTING - [0:0]',
      ':RS-OUTPUT - [0:0]',
      ':RS-POSTROUTING - [0:0]',
      ':RS-DNAT - [0:0]',
      '-D PREROUTING -m comment --comment router-service -j RS-PREROUTING',
      '-D OUTPUT -m comment --comment router-service -j RS-OUTPUT',
      '-D POSTROUTING -m comment --comment router-service -j RS-POSTROUTING',
      '-X RS-PREROUTING',
      '-X RS-OUTPUT',
      '-X RS-POSTROUTING',
      '-X RS-DNAT',
      'COMMIT',
      '*filter',
      ':RS-INPUT - [0:0]',
      ':RS-FORWARD - [0:0]',
      '-D INPUT -m comment --comment router-service -j RS-INPUT',
      '-D FORWARD -m comment --comment router-service -j RS-FORWARD',
      '-X RS-INPUT',
      '-X RS-FORWARD',
      'COMMIT',
      '',
    ].join('\n'),
  );
});

function withMappings(state: FirewallState, portMappings: PortMapping[]): FirewallState {
  return { ...state, portMappings };
}

test('adding a mapping to a bucket in use inserts its rule at its place, or appends it after the last, in the nat table only', () => {
  const state = STATES.buckets!;
  const plan = (hostPort: number) => {
    const added: PortMapping = { protocol: 'tcp', hostIp: '', hostPort, hostPortEnd: hostPort, containerIp: '172.19.0.9', containerPort: 80, vlan: 200, sources: [] };
    return formatRestore(planChanges(render(state), render(withMappings(state, [...state.portMappings, added])), 'edit'));
  };
  // The bucket holds one rule, the part 8200-8447 of a range.
  assert.equal(plan(8195), ['*nat', '-I RS-DNAT-tcp-8192-8447 1 -p tcp -m tcp --dport 8195 -j DNAT --to-destination 172.19.0.9:80', 'COMMIT', ''].join('\n'));
  // 8200-8800 covers 8300 too: mappings never overlap in a real state, but the plan does not care.
  assert.equal(plan(8300), ['*nat', '-A RS-DNAT-tcp-8192-8447 -p tcp -m tcp --dport 8300 -j DNAT --to-destination 172.19.0.9:80', 'COMMIT', ''].join('\n'));
});

test('a bucket that empties is removed, after its dispatch rule is deleted', () => {
  const state = STATES.buckets!;
  const without = state.portMappings.filter((m) => m.protocol !== 'udp' || m.hostPort !== 1);
  const changes = planChanges(render(state), render(withMappings(state, without)), 'edit');
  assert.deepEqual(changes.map((c) => c.table), ['nat']);
  assert.deepEqual(changes[0]!.lines, [
    ':RS-DNAT-udp-0-255 - [0:0]',
    '-D RS-DNAT -p udp -m udp --dport 0:255 -j RS-DNAT-udp-0-255',
    '-X RS-DNAT-udp-0-255',
  ]);
});

test('a network change edits the chains of every table, and no bucket chain', () => {
  const state = STATES.full!;
  const next = { ...state, networks: state.networks.slice(1) };
  const changes = planChanges(render(state), render(next), 'edit');
  assert.deepEqual(changes.map((c) => c.table), ['raw', 'nat', 'filter']);
  const chains = changes.flatMap((c) => c.lines.map((l) => l.split(' ')[1]));
  assert.deepEqual([...new Set(chains)], ['RS-PREROUTING', 'RS-POSTROUTING', 'RS-INPUT', 'RS-FORWARD']);
  assert.ok(
    changes.every((c) => c.lines.every((l) => l.startsWith('-D '))),
    'a network that goes only deletes its rules',
  );
});

/** A chain of ours in the filter table, alone. */
function filterChain(rules: readonly string[]): OwnedRuleset {
  return { ...NOTHING, filter: { chains: new Map([['RS-INPUT', rules]]), jumps: [], buried: [] } };
}

test('a chain is edited when its kept rules keep their order, rules going by text and new ones inserted in place order', () => {
  const from = filterChain(['-s 10.0.0.1/32 -j DROP', '-s 10.0.0.2/32 -j DROP', '-s 10.0.0.3/32 -j DROP']);
  const to = filterChain(['-s 10.0.0.0/32 -j DROP', '-s 10.0.0.1/32 -j DROP', '-s 10.0.0.5/32 -j DROP', '-s 10.0.0.3/32 -j DROP', '-s 10.0.0.4/32 -j DROP']);
  assert.deepEqual(planChanges(from, to, 'edit')[0]!.lines, [
    '-D RS-INPUT -s 10.0.0.2/32 -j DROP',
    '-I RS-INPUT 1 -s 10.0.0.0/32 -j DROP',
    '-I RS-INPUT 3 -s 10.0.0.5/32 -j DROP',
    // After the last kept rule: appended, which iptables-nft does without reading the chain.
    '-A RS-INPUT -s 10.0.0.4/32 -j DROP',
  ]);
});

test('new rules that no kept rule follows are appended in order, also when no rule is kept', () => {
  const from = filterChain(['-s 10.0.0.1/32 -j DROP']);
  const to = filterChain(['-s 10.0.0.1/32 -j DROP', '-s 10.0.0.2/32 -j DROP', '-s 10.0.0.3/32 -j DROP']);
  assert.deepEqual(planChanges(from, to, 'edit')[0]!.lines, ['-A RS-INPUT -s 10.0.0.2/32 -j DROP', '-A RS-INPUT -s 10.0.0.3/32 -j DROP']);
  const replaced = filterChain(['-s 10.0.0.8/32 -j DROP', '-s 10.0.0.9/32 -j DROP']);
  assert.deepEqual(planChanges(from, replaced, 'edit')[0]!.lines, [
    '-D RS-INPUT -s 10.0.0.1/32 -j DROP',
    '-A RS-INPUT -s 10.0.0.8/32 -j DROP',
    '-A RS-INPUT -s 10.0.0.9/32 -j DROP',
  ]);
});

test('a plan from what the kernel holds rewrites a changed chain, even one it could edit', () => {
  const from = filterChain(['-s 10.0.0.1/32 -j DROP']);
  const to = filterChain(['-s 10.0.0.1/32 -j DROP', '-s 10.0.0.2/32 -j DROP']);
  assert.deepEqual(planChanges(from, to)[0]!.lines, [':RS-INPUT - [0:0]', '-A RS-INPUT -s 10.0.0.1/32 -j DROP', '-A RS-INPUT -s 10.0.0.2/32 -j DROP']);
  assert.deepEqual(planChanges(from, to, 'edit')[0]!.lines, ['-A RS-INPUT -s 10.0.0.2/32 -j DROP']);
});

test('a chain is rewritten when its kept rules change order or a rule comes twice', () => {
  const rewrite = (rules: readonly string[]) => [':RS-INPUT - [0:0]', ...rules.map((r) => `-A RS-INPUT ${r}`)];
  const swapped = ['-s 10.0.0.2/32 -j DROP', '-s 10.0.0.1/32 -j DROP'];
  assert.deepEqual(planChanges(filterChain(['-s 10.0.0.1/32 -j DROP', '-s 10.0.0.2/32 -j DROP']), filterChain(swapped), 'edit')[0]!.lines, rewrite(swapped));
  const once = ['-s 10.0.0.1/32 -j DROP'];
  assert.deepEqual(planChanges(filterChain([...once, ...once]), filterChain(once), 'edit')[0]!.lines, rewrite(once));
  const twice = ['-s 10.0.0.1/32 -j DROP', '-j RETURN', '-s 10.0.0.1/32 -j DROP'];
  assert.deepEqual(planChanges(filterChain(once), filterChain(twice), 'edit')[0]!.lines, rewrite(twice));
});

test('what iptables-save prints of a rendering reads back as the rendering, and foreign chains are skipped', () => {
  for (const state of Object.values(STATES)) {
    const owned = render(state);
    assert.equal(describeDrift(parsed(owned), owned), '');
    assert.deepEqual(planChanges(parsed(owned), owned), []);
  }
});

test('a kernel with extra jumps, missing chains and stray chains is converged and described', () => {
  const owned = render(STATES.full!);
  const saved = `${saveOutput(owned, 'filter')}\n`
    .replace(':RS-INPUT - [0:0]\n', ':RS-INPUT - [0:0]\n:RS-DNAT - [0:0]\n')
    .replace('-A INPUT -m comment', '-A INPUT -m comment --comment router-service -j RS-DNAT\n-A INPUT -m comment --comment router-service -j RS-INPUT\n-A INPUT -m comment')
    .replace(/^-A RS-FORWARD .*\n/gm, '')
    .replace(/^:RS-FORWARD .*\n/m, '')
    .replace(/^-A FORWARD .*\n/m, '');
  const held = { ...parsed(owned), filter: parseSave(saved) };
  assert.equal(
    describeDrift(held, owned),
    'filter chain RS-FORWARD: missing; filter chain RS-DNAT: not rendered; filter jump INPUT -> RS-INPUT: 2 copies; filter jump FORWARD -> RS-FORWARD: missing; filter jump INPUT -> RS-DNAT: not rendered',
  );
  const lines = planChanges(held, owned).flatMap((c) => c.lines);
  assert.deepEqual(lines.filter((l) => !l.startsWith('-A RS-FORWARD ')), [
    ':RS-FORWARD - [0:0]',
    ':RS-DNAT - [0:0]',
    '-D INPUT -m comment --comment router-service -j RS-DNAT',
    '-D INPUT -m comment --comment router-service -j RS-INPUT',
    '-X RS-DNAT',
    '-I FORWARD 1 -m comment --comment router-service -j RS-FORWARD',
  ]);
});

test('a jump that a rule not ours comes before is described and put first again, every copy of it', () => {
  const owned = render(STATES.full!);
  const jump = '-A FORWARD -m comment --comment router-service -j RS-FORWARD';
  const overtaken = `${saveOutput(owned, 'filter')}\n`.replace(`${jump}\n`, `-A FORWARD -s 203.0.113.0/24 -j ACCEPT\n${jump}\n-A FORWARD -j FOREIGN\n${jump}\n`);
  const held = { ...parsed(owned), filter: parseSave(overtaken) };
  assert.deepEqual(held.filter.buried, [{ chain: 'FORWARD', rule: '-m comment --comment router-service -j RS-FORWARD' }, { chain: 'FORWARD', rule: '-m comment --comment router-service -j RS-FORWARD' }]);
  assert.equal(describeDrift(held, owned), 'filter jump FORWARD -> RS-FORWARD: 2 copies');
  assert.deepEqual(
    planChanges(held, owned).flatMap((c) => c.lines),
    ['-D FORWARD -m comment --comment router-service -j RS-FORWARD', '-D FORWARD -m comment --comment router-service -j RS-FORWARD', '-I FORWARD 1 -m comment --comment router-service -j RS-FORWARD'],
  );

  const once = { ...parsed(owned), filter: parseSave(`${saveOutput(owned, 'filter')}\n`.replace(`${jump}\n`, `-A FORWARD -j FOREIGN\n${jump}\n`)) };
  assert.equal(describeDrift(once, owned), 'filter jump FORWARD -> RS-FORWARD: behind a rule that is not ours');
  assert.deepEqual(
    planChanges(once, owned).flatMap((c) => c.lines),
    ['-D FORWARD -m comment --comment router-service -j RS-FORWARD', '-I FORWARD 1 -m comment --comment router-service -j RS-FORWARD'],
  );
  // Behind another copy of ours is not behind a rule that is not ours.
  const copied = { ...parsed(owned), filter: parseSave(`${saveOutput(owned, 'filter')}\n`.replace(`${jump}\n`, `${jump}\n${jump}\n-A FORWARD -j FOREIGN\n`)) };
  assert.deepEqual(copied.filter.buried, []);
  assert.deepEqual(planChanges(copied, owned).flatMap((c) => c.lines), ['-D FORWARD -m comment --comment router-service -j RS-FORWARD']);
});

test('a long drift account names five differences and counts the rest', () => {
  const account = describeDrift(NOTHING, render(STATES.full!));
  assert.match(account, /^raw chain RS-PREROUTING: missing; .*; and \d+ more$/);
  assert.equal(account.split('; ').length, 6);
});

test('renderChange plans exactly what the whole renderings plan, for every pair of states', () => {
  const pairs: Array<[FirewallState, FirewallState]> = [];
  for (const a of Object.values(STATES)) for (const b of Object.values(STATES)) pairs.push([a, b]);
  let state = STATES.full!;
  for (const changed of randomChanges(state, 7, 300)) {
    pairs.push([state, changed]);
    state = changed;
  }
  for (const [previous, following] of pairs) {
    const { before, after } = renderChange(previous, following);
    assert.equal(formatRestore(planChanges(before, after, 'edit')), formatRestore(planChanges(render(previous), render(following), 'edit')));
  }
});
