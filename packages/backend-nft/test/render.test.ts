// Golden tests of render(): the exact nft JSON for a few desired states.
// Regenerate with UPDATE_GOLDEN=1 after a deliberate change, and review the diff.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { formatPrefix } from '@router-service/core';
import { goldenStates } from '@router-service/firewall-suite';
import { CHAINS, collapsePrefixes, render } from '../src/index.js';

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

for (const [name, state] of Object.entries(goldenStates)) {
  test(`render ${name} matches test/golden/${name}.json`, () => {
    const actual = `${JSON.stringify(render(state), null, 2)}\n`;
    const file = new URL(`${name}.json`, GOLDEN_DIR);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, actual);
    const expected = readFileSync(file, 'utf8');
    if (actual !== expected) assert.fail(`differs from test/golden/${name}.json (UPDATE_GOLDEN=1 rewrites it): ${firstDifference(actual, expected)}`);
  });
}

test('render does not depend on the order of networks and mappings', () => {
  const state = goldenStates.full!;
  const reversed = { ...state, networks: [...state.networks].reverse(), portMappings: [...state.portMappings].reverse() };
  assert.deepEqual(render(reversed), render(state));
});

test('render starts by replacing the table and declares every chain', () => {
  const commands = render(goldenStates.empty!).nftables.slice(1, 4);
  const table = { table: { family: 'inet', name: 'router_service' } };
  assert.deepEqual(commands, [{ add: table }, { delete: table }, { add: table }]);
  const chains = render(goldenStates.empty!).nftables.flatMap((c) => ('add' in c && c.add.chain !== undefined ? [c.add.chain] : []));
  assert.deepEqual(
    chains.map((c) => (c as { name: string }).name),
    CHAINS.map((c) => c.name),
  );
});

test('collapsePrefixes drops nested prefixes and sorts', () => {
  const collapsed = collapsePrefixes(['10.8.1.0/24', '192.168.0.0/16', '10.8.0.0/16', '10.8.0.0/16', '9.0.0.0/8']);
  assert.deepEqual(collapsed.map(formatPrefix), ['9.0.0.0/8', '10.8.0.0/16', '192.168.0.0/16']);
});
