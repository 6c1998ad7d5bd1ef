/**
 * The validation benchmark's rulesets (router-service's own rendering, with
 * and without the jump from nat OUTPUT) and its appends, without root; and
 * the program end to end with tiny sizes (`--quick`), as root: it must
 * finish and print a number in every cell. Timings are not looked at.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { runProcess } from '@router-service/test-support';
import { appendInput, rulesetWith } from '../src/validation.js';

const MAIN = fileURLToPath(new URL('../src/validation-main.js', import.meta.url));
const NUMBER = /^[0-9][0-9,]*(\.[0-9]+)?$/;

const dnatRules = (rules: string) => rules.split('\n').filter((line) => line.includes(' -j DNAT '));

test('the ruleset is the backend rendering, with the jump from nat OUTPUT only when asked', () => {
  const both = rulesetWith(300, 'prerouting-and-output');
  const prerouting = rulesetWith(300, 'prerouting');
  assert.equal(dnatRules(both).length, 300);
  assert.match(both, /^-I OUTPUT 1 .*-j RS-OUTPUT$/m);
  assert.match(both, /^-I PREROUTING 1 .*-j RS-PREROUTING$/m);
  assert.doesNotMatch(prerouting, /-j RS-OUTPUT$/m);
  assert.deepEqual(prerouting.split('\n'), both.split('\n').filter((line) => !line.includes('-j RS-OUTPUT')));
});

test('each timed append adds one DNAT rule to a bucket every size has, on a port no mapping holds', () => {
  const ruleset = rulesetWith(10, 'prerouting-and-output');
  const ports = new Set(dnatRules(rulesetWith(10_000, 'prerouting-and-output')).map((line) => /--dport (\d+) /.exec(line)?.[1]));
  for (const n of [0, 99]) {
    const [table, rule, commit] = appendInput(n).trimEnd().split('\n');
    assert.equal(table, '*nat');
    assert.equal(commit, 'COMMIT');
    const [, chain, port] = /^-A (\S+) -p tcp -m tcp --dport (\d+) -j DNAT --to-destination 172\.18\.0\.2:80$/.exec(rule ?? '') ?? [];
    assert.ok(chain !== undefined && ruleset.includes(`:${chain} - [0:0]`), `${rule} appends to a chain the smallest ruleset declares`);
    assert.ok(!ports.has(port), `port ${port} is published already`);
  }
});

test('bench-firewall-validation --quick prints the table with a number in every cell', async () => {
  const { code, stdout, stderr } = await runProcess(process.execPath, [MAIN, '--quick'], { timeoutMs: 120_000 });
  assert.equal(code, 0, stderr);
  const rows = stdout.split('\n').filter((line) => line.startsWith('| nat '));
  assert.equal(rows.length, 2, stdout);
  for (const row of rows) {
    const cells = row.slice(1, -1).split('|').map((cell) => cell.trim());
    assert.equal(cells.length, 4, row);
    for (const cell of cells.slice(1)) assert.match(cell, NUMBER, row);
  }
});
