// Recognising and ending a stale dnsmasq by its pid file and command line,
// with stand-in processes this test starts; and the choice of dnsmasq's user.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chooseUser, commandLine, endStaleDnsmasq, hasNobody, isOwnedDnsmasq, readPidFile, type OwnedDnsmasq } from '../src/index.js';

let dir: string;
let owned: OwnedDnsmasq;
const children: ChildProcess[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dnsmasq-processes-'));
  owned = { dnsmasqPath: '/usr/sbin/dnsmasq', pidFile: join(dir, 'dnsmasq.pid'), hostsDir: join(dir, 'hosts') };
});
after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

/**
 * A node process whose command line reads `dnsmasq ... --pid-file=... --hostsdir=...`
 * (argv0 and trailing script arguments), optionally ignoring SIGTERM.
 */
async function standIn(args: readonly string[], ignoreTerm: boolean, argv0 = 'dnsmasq'): Promise<ChildProcess> {
  const script = `${ignoreTerm ? 'process.on("SIGTERM", () => {});' : ''} setInterval(() => {}, 60000); process.stdout.write("up\\n");`;
  const child = spawn(process.execPath, ['-e', script, '--', ...args], { argv0, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`stand-in exited (${code})`)));
  });
  return child;
}

const ownArgs = () => [`--pid-file=${owned.pidFile}`, `--hostsdir=${owned.hostsDir}`];

test('a command line is ours only with dnsmasq and both our pid file and hosts directory', () => {
  const args = ownArgs();
  assert.equal(isOwnedDnsmasq(['/usr/sbin/dnsmasq', '--keep-in-foreground', ...args], owned), true);
  assert.equal(isOwnedDnsmasq(['dnsmasq', ...args], owned), true);
  assert.equal(isOwnedDnsmasq(['/opt/bin/dnsmasq', ...args], owned), true);
  assert.equal(isOwnedDnsmasq(['/usr/bin/sleep', ...args], owned), false);
  assert.equal(isOwnedDnsmasq(['/usr/sbin/dnsmasq', args[0]!], owned), false);
  assert.equal(isOwnedDnsmasq(['/usr/sbin/dnsmasq', args[1]!], owned), false);
  assert.equal(isOwnedDnsmasq(['/usr/sbin/dnsmasq', `--pid-file=${owned.pidFile}.other`, args[1]!], owned), false);
  assert.equal(isOwnedDnsmasq([], owned), false);
});

test('commandLine reads a live process and is undefined for one that is gone', async () => {
  assert.deepEqual((await commandLine(process.pid))?.[0], process.execPath);
  const child = spawn('/usr/bin/true');
  await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(await commandLine(child.pid!), undefined);
});

test('pid files: missing, garbage and a pid', async () => {
  const file = join(dir, 'some.pid');
  assert.equal(await readPidFile(file), undefined);
  for (const garbage of ['', 'abc', '12 13', '-1', '0', '1e3']) {
    await writeFile(file, garbage);
    assert.equal(await readPidFile(file), undefined, JSON.stringify(garbage));
  }
  await writeFile(file, '4242\n');
  assert.equal(await readPidFile(file), 4242);
});

test('a process of ours is ended with SIGTERM', async () => {
  const child = await standIn(ownArgs(), false);
  await writeFile(owned.pidFile, `${child.pid}\n`);
  const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  assert.deepEqual(await endStaleDnsmasq(owned, 2000), { outcome: 'terminated', pid: child.pid });
  assert.equal(await exited, 'SIGTERM');
});

test('a process of ours that ignores SIGTERM gets SIGKILL after the grace', async () => {
  const child = await standIn(ownArgs(), true);
  await writeFile(owned.pidFile, `${child.pid}\n`);
  const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  assert.deepEqual(await endStaleDnsmasq(owned, 200), { outcome: 'killed', pid: child.pid });
  assert.equal(await exited, 'SIGKILL');
});

test('processes that are not ours are never signalled', async () => {
  const cases: Array<{ what: string; args: string[]; argv0?: string }> = [
    { what: 'another pid file', args: [`--pid-file=${owned.pidFile}x`, `--hostsdir=${owned.hostsDir}`] },
    { what: 'another hosts directory', args: [`--pid-file=${owned.pidFile}`, `--hostsdir=${owned.hostsDir}/x`] },
    { what: 'another program with our arguments', args: ownArgs(), argv0: '/usr/bin/sleep' },
  ];
  for (const c of cases) {
    const child = await standIn(c.args, false, c.argv0);
    await writeFile(owned.pidFile, `${child.pid}\n`);
    assert.deepEqual(await endStaleDnsmasq(owned, 200), { outcome: 'foreign', pid: child.pid }, c.what);
    assert.notEqual(await commandLine(child.pid!), undefined, `${c.what}: still running`);
    child.kill('SIGKILL');
  }
});

test('a pid file naming no process, or nothing, is no stale process', async () => {
  const child = spawn('/usr/bin/true');
  await new Promise((resolve) => child.once('exit', resolve));
  await writeFile(owned.pidFile, `${child.pid}\n`);
  assert.equal((await endStaleDnsmasq(owned, 200)).outcome, 'none');
  await rm(owned.pidFile);
  assert.deepEqual(await endStaleDnsmasq(owned, 200), { outcome: 'none' });
});

test('dnsmasq runs as nobody only when nobody exists and can reach the hosts directories', async () => {
  assert.equal(hasNobody('root:x:0:0:root:/root:/bin/sh\n'), false);
  assert.equal(hasNobody('root:x:0:0::/:/bin/sh\nnobody:x:65534:65534::/:/usr/sbin/nologin\n'), true);
  assert.equal(hasNobody('nobodyelse:x:1:1::/:/bin/sh\n'), false);
  const withNobody = join(dir, 'passwd-nobody');
  const rootOnly = join(dir, 'passwd-root');
  await writeFile(withNobody, 'root:x:0:0::/:/bin/sh\nnobody:x:65534:65534::/:/usr/sbin/nologin\n');
  await writeFile(rootOnly, 'root:x:0:0::/:/bin/sh\n');
  const open = join(dir, 'open', 'dnsmasq');
  await mkdir(open, { recursive: true });
  // mkdtemp made `dir` 0700: nobody cannot get through it yet.
  const closed = await chooseUser(open, withNobody);
  assert.equal(closed.user, 'root');
  assert.match(closed.reason ?? '', new RegExp(`cannot search ${dir},`));
  await chmod(dir, 0o755);
  await chmod(join(dir, 'open'), 0o711);
  await chmod(open, 0o755);
  assert.deepEqual(await chooseUser(open, withNobody), { user: 'nobody' });
  assert.deepEqual(await chooseUser(open, rootOnly), { user: 'root', reason: `${rootOnly} has no user nobody` });
  assert.equal((await chooseUser(open, join(dir, 'no-such-passwd'))).user, 'root');
});
