/**
 * The harness end to end with tiny numbers (`--quick`): it must finish, and
 * print every table with a number in every cell. Each step of the run
 * checks with real queries that the names it added answer, so a run that
 * finishes has applied every change it timed. Timings are not looked at.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { runProcess } from '@router-service/test-support';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const NUMBER = /^[0-9][0-9,]*(\.[0-9]+)?$/;
const SUBJECTS = ['router-service', 'original (/usr/sbin/dnsmasq)'];

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

/** A table with `rowsEach` rows per subject, its first cell the subject and `numbers` cells after it numbers. */
function checkSubjectTable(report: string, heading: string, numbers: number, rowsEach = 1): string[][] {
  const rows = tableAfter(report, heading);
  assert.deepEqual(rows.map((row) => row[0]), SUBJECTS.flatMap((subject) => Array<string>(rowsEach).fill(subject)));
  for (const row of rows) for (const cell of row.slice(1, 1 + numbers)) assert.match(cell, NUMBER, row.join(' | '));
  return rows;
}

test('--quick runs every measurement against the daemon and the original approach', { timeout: 300_000 }, async () => {
  const run = await runProcess(process.execPath, [MAIN, '--quick'], { timeoutMs: 280_000 });
  assert.equal(run.code, 0, run.output);
  const report = run.stdout;

  // Quick sizes are two: p50 and p99 at each, the ratio at the larger, failed queries from each.
  const goals = tableAfter(report, '## Goals');
  assert.deepEqual(goals.map((row) => row[0]?.slice(0, 2)), ['1.', '1.', '1.', '1.', '1.', '2.', '2.', '4.']);
  for (const row of goals) {
    assert.equal(row.length, 5, row.join(' | '));
    const [, ours, original, , met] = row;
    assert.match(ours ?? '', /^[0-9.,]+( \([0-9.,]+x\)| of [0-9,]+)?$/, row.join(' | '));
    assert.match(original ?? '', /^[0-9.,]+( of [0-9,]+)?$/, row.join(' | '));
    assert.match(met ?? '', /^(yes|\*\*no\*\*|n\/a)$/, row.join(' | '));
  }

  const latency = checkSubjectTable(report, '## 1. From a change adding a name to the name answering, ms', 8, 2);
  assert.deepEqual(latency.map((row) => row[1]), ['3', '6', '3', '6']);
  const underUpdates = checkSubjectTable(report, '## 2. Queries for names that exist throughout, while names are added', 10, 2);
  assert.deepEqual(underUpdates.map((row) => row[1]), ['3', '6', '3', '6']);
  // Facts, not timings: on these tiny networks the daemon keeps its dnsmasq and loses no query; the original restarts it on every change.
  for (const row of underUpdates.slice(0, 2)) assert.deepEqual([row[7], row[8], row[11]], ['0', '0', 'yes'], row.join(' | '));
  for (const row of underUpdates.slice(2)) assert.equal(row[11], 'no', row.join(' | '));
  const throughput = checkSubjectTable(report, '## 4. Answers per second on the gateway', 4);
  for (const row of throughput) {
    for (const cell of row.slice(5, 7)) assert.match(cell, /^[0-9]+ %$/, row.join(' | '));
    assert.match(row[7] ?? '', /^([0-9][0-9,]*|n\/a)$/, row.join(' | '));
  }
  assert.match(report, /^- machine: [0-9]+ cores/m);
});

test('a bad command line exits 2 with the usage', async () => {
  const run = await runProcess(process.execPath, [MAIN, '--updates', '0']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--updates: "0" is not a count/);
  assert.match(run.stderr, /Usage: bench-dns/);
});
