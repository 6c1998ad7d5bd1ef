/**
 * The harness end to end with tiny sizes (`--quick`): it must finish, and
 * print every table with a number (or "pending") in every cell. Each step
 * of the run checks with real connections that its mappings answer, so a
 * run that finishes has applied every mapping it timed. Timings are not
 * looked at.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { runProcess } from '@router-service/test-support';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const NUMBER = /^[0-9][0-9,]*(\.[0-9]+)?$/;

/** The rows of the markdown table under `heading`, as cells. */
function tableAfter(report: string, heading: string): string[][] {
  const lines = report.split('\n');
  const start = lines.indexOf(heading);
  assert.notEqual(start, -1, `no ${JSON.stringify(heading)} in:\n${report}`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(1, -1).split('|').map((cell) => cell.trim()));
  }
  assert.ok(rows.length > 2, `no table under ${heading}`);
  return rows.slice(2);
}

/** Every table of the report is there, with the subjects' rows and a number (or "pending") in each cell. */
function checkReport(report: string, daemon: string): void {
  const goals = tableAfter(report, '## Goals');
  assert.deepEqual(
    goals.map((row) => row[0]?.slice(0, 2)),
    ['1.', '1.', '1.', '1.', '2.', '2.', '3.', '4.'],
  );
  // The second row of 2 is the reference of calls doing no work, with no goal.
  assert.match(goals[5]?.[0] ?? '', /doing no work/);
  for (const row of goals) {
    assert.equal(row.length, 5, row.join(' | '));
    const [, ours, original, , met] = row;
    assert.match(ours ?? '', /^([0-9.]+( \([0-9.]+x\))?|pending)$/, row.join(' | '));
    assert.match(original ?? '', /^([0-9.]+|n\/a)$/, row.join(' | '));
    assert.match(met ?? '', /^(yes|\*\*no\*\*|pending|n\/a)$/, row.join(' | '));
  }

  const latency = tableAfter(report, '## 1. Latency of one call, ms');
  assert.deepEqual(
    latency.map((row) => row.slice(0, 2)),
    [
      [daemon, 'add'],
      [daemon, 'remove'],
      ['original (/usr/sbin/iptables)', 'add'],
      ['original (/usr/sbin/iptables)', 'remove'],
    ],
  );
  for (const row of latency) {
    assert.equal(row.length, 2 + 2 * 2, 'p50 and p99 at each of the two quick sizes');
    for (const cell of row.slice(2)) assert.match(cell, NUMBER);
  }

  const rounds = tableAfter(report, '## 2. 8 calls from 4 clients');
  assert.deepEqual(rounds.map((row) => row[0]), [daemon, 'original (/usr/sbin/iptables)']);
  assert.match(rounds[0]?.[1] ?? '', NUMBER, 'one timed round of adds');
  assert.match(rounds[0]?.[2] ?? '', NUMBER, 'one timed round of calls doing no work');
  assert.deepEqual(rounds[1]?.slice(2), ['n/a'], 'the original makes no calls');

  const connections = tableAfter(report, '## 3. New TCP connections per second through the target mapping');
  assert.deepEqual(
    connections.map((row) => row.slice(0, 2)),
    [daemon, 'original (/usr/sbin/iptables)'].flatMap((subject) => [[subject, '1'], [subject, '2']]),
    'two pairs of rates per subject',
  );
  for (const row of connections) for (const cell of row.slice(1)) assert.match(cell, NUMBER);
}

for (const backend of ['nft', 'iptables']) {
  test(`--quick --backend ${backend} runs every measurement against the daemon and the original approach`, { timeout: 300_000 }, async () => {
    const run = await runProcess(process.execPath, [MAIN, '--quick', '--backend', backend], { timeoutMs: 280_000 });
    assert.equal(run.code, 0, run.output);
    checkReport(run.stdout, `router-service, ${backend}`);
  });
}

test('a bad command line exits 2 with the usage', async () => {
  const run = await runProcess(process.execPath, [MAIN, '--sizes', '0']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--sizes: "0" is not a size/);
  assert.match(run.stderr, /Usage: bench-firewall/);
});
