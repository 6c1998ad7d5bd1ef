// Supervision with stand-in programs: restarts spaced by a doubling delay,
// reset after a run that lasted, exits logged with their status and last
// lines, and nothing restarted after stop.
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DnsmasqSupervisor, type BackoffPolicy, type Command } from '../src/index.js';
import { eventually, recordingLogger } from './helpers.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dnsmasq-supervisor-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const EXIT_MESSAGE = 'dnsmasq exited; restarting it';

function supervise(command: Command, backoff: BackoffPolicy) {
  const log = recordingLogger();
  const supervisor = new DnsmasqSupervisor({ vlan: 7, command, pidFile: join(dir, 'dnsmasq.pid'), log, backoff, stopGraceMs: 1000 });
  const exits = () => log.entries.filter((e) => e.message === EXIT_MESSAGE);
  return { supervisor, log, exits };
}

// Prints a line as dnsmasq would, then fails.
const FAILING: Command = { file: process.execPath, args: ['-e', 'console.error("dnsmasq: failed to create listening socket: Address in use"); process.exit(2)'] };

test('a dnsmasq that keeps failing is restarted after 10, 20, 40 ms, then every 40 ms', async () => {
  const { supervisor, log, exits } = supervise(FAILING, { initialMs: 10, maxMs: 40, stableAfterMs: 60_000 });
  await assert.rejects(supervisor.start(), /exited at start: dnsmasq: failed to create listening socket/);
  await eventually('six exits', async () => (exits().length >= 6 ? true : undefined));
  await supervisor.stop();
  assert.deepEqual(exits().slice(0, 6).map((e) => e.fields.restartInMs), [10, 20, 40, 40, 40, 40]);
  const first = exits()[0]!;
  assert.equal(first.level, 'warn');
  assert.equal(first.fields.exitCode, 2);
  assert.equal(first.fields.vlan, 7);
  assert.match(String(first.fields.output), /Address in use/);
  assert.ok(log.entries.some((e) => e.level === 'warn' && e.message === 'dnsmasq: failed to create listening socket: Address in use'));
  // Stopped: the pending restart never comes.
  const count = exits().length;
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(exits().length, count);
  assert.equal(supervisor.pid, undefined);
});

test('a run that lasted resets the delay', async () => {
  const { supervisor, exits } = supervise(FAILING, { initialMs: 10, maxMs: 1000, stableAfterMs: 0 });
  await assert.rejects(supervisor.start());
  await eventually('four exits', async () => (exits().length >= 4 ? true : undefined));
  await supervisor.stop();
  assert.deepEqual(exits().slice(0, 4).map((e) => e.fields.restartInMs), [10, 10, 10, 10]);
});

test('a program that cannot be started is retried too, and the reason logged', async () => {
  const { supervisor, exits } = supervise({ file: join(dir, 'no-such-dnsmasq'), args: [] }, { initialMs: 10, maxMs: 10, stableAfterMs: 60_000 });
  await assert.rejects(supervisor.start());
  await eventually('two exits', async () => (exits().length >= 2 ? true : undefined));
  await supervisor.stop();
  assert.match(String(exits()[0]?.fields.error), /ENOENT/);
});

test('stop ends a running program with SIGTERM and logs no exit', async () => {
  // Writes its own pid where dnsmasq would, then waits.
  const pidFile = join(dir, 'dnsmasq.pid');
  const program: Command = { file: process.execPath, args: ['-e', `require("node:fs").writeFileSync(${JSON.stringify(pidFile)}, process.pid + "\\n"); setInterval(() => {}, 60000)`] };
  const { supervisor, exits } = supervise(program, { initialMs: 10, maxMs: 10, stableAfterMs: 60_000 });
  await supervisor.start();
  const pid = supervisor.pid;
  assert.ok(pid !== undefined);
  await supervisor.stop();
  assert.equal(supervisor.pid, undefined);
  assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
  assert.deepEqual(exits(), []);
  await assert.rejects(stat(pidFile), { code: 'ENOENT' }, 'the pid file of the ended process is removed');
});
