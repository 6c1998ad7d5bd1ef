// The backend with a real dnsmasq in a router namespace, asked by real
// packets from container namespaces over UDP and TCP, with a fake upstream
// resolver outside that records every query it gets. Needs root.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RouterError } from '@router-service/core';
import { reverseName, type FakeUpstream } from '@router-service/test-support';
import { commandLine, createDnsmasqBackend, dnsmasqRoot, isRunning as alive, networkPaths, type DnsmasqBackend } from '../src/index.js';
import { dnsOff, dnsState, type DnsNetworkSpec } from './fixtures.js';
import { both, eventually, outcome, question, recordingLogger } from './helpers.js';
import { DnsTopology, NET100, NET200, UPSTREAM_IP, type TopologyNetwork } from './topology.js';

const PREVIOUS_RUN_SCRIPT = fileURLToPath(new URL('./previous-run.js', import.meta.url));
const NOBODY_UID = '65534';

describe('dnsmasq backend in namespaces', () => {
  let topology: DnsTopology;
  let upstream: FakeUpstream;
  let stateDir: string;
  let backend: DnsmasqBackend;
  let log = recordingLogger();
  /** Every dnsmasq pid the tests saw, to check none is left at the end. */
  const seenPids = new Set<number>();
  /** Processes the tests started themselves (a previous run, a foreign sleep). */
  const started: ChildProcess[] = [];

  const newBackend = (options: { upstreams?: readonly string[] | null; resolvConf?: string } = {}) => {
    log = recordingLogger();
    return createDnsmasqBackend({ stateDir, netns: topology.router.name, upstreams: [UPSTREAM_IP], log, ...options });
  };
  const pidOf = (vlan: number): number => {
    const pid = backend.pidOf(vlan);
    assert.ok(pid !== undefined, `a dnsmasq runs for VLAN ${vlan}`);
    seenPids.add(pid);
    return pid;
  };
  const sync = async (...specs: DnsNetworkSpec[]) => {
    await backend.sync(specs.map(dnsState));
    for (const spec of specs) pidOf(spec.vlan);
  };
  const hostsDir = (vlan: number) => networkPaths(dnsmasqRoot(stateDir), vlan).hostsDir;
  /** Each file of the network's hosts directory: its content, inode and modification time. */
  const hostsFiles = async (vlan: number) => {
    const files = new Map<string, { content: string; ino: number; mtimeMs: number }>();
    for (const name of (await readdir(hostsDir(vlan))).sort()) {
      const path = join(hostsDir(vlan), name);
      const { ino, mtimeMs } = await stat(path);
      files.set(name, { content: await readFile(path, 'utf8'), ino, mtimeMs });
    }
    return files;
  };
  const pidFile = (vlan: number) => networkPaths(dnsmasqRoot(stateDir), vlan).pidFile;
  /** Waits until `name` answers `expected` (rcode and sorted answers) from the network's container. */
  const answersEventually = (net: TopologyNetwork, name: string, expected: string) =>
    eventually(`${name} answering ${expected} on VLAN ${net.vlan}`, async () => {
      const [result] = await topology.ask(net, question('udp', 'A', name));
      return result !== undefined && outcome(result) === expected ? true : undefined;
    });

  before(async () => {
    topology = await DnsTopology.create([NET100, NET200], true);
    assert.ok(topology.upstream !== undefined);
    upstream = topology.upstream;
    stateDir = await mkdtemp(join(tmpdir(), 'dnsmasq-backend-'));
    // Searchable by others, so that dnsmasq may run as nobody (see src/user.ts).
    await chmod(stateDir, 0o755);
    backend = newBackend();
    await sync(NET100, NET200);
  });

  after(async () => {
    await backend?.teardown().catch(() => undefined);
    for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await topology?.destroy();
    if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
  });

  test('own names answer short and qualified, in any case, over UDP and TCP', async () => {
    const results = await topology.ask(NET100, ...both('A', 'web'), ...both('A', 'WeB'), ...both('A', 'web.net100.test'), ...both('A', 'WEB.Net100.TEST'));
    for (const r of results) assert.equal(outcome(r), 'NOERROR 172.18.0.10', `${r.transport} ${r.name}`);
    const [api, qualified] = await topology.ask(NET200, question('udp', 'A', 'api'), question('tcp', 'A', 'Api.Net200.Test'));
    assert.equal(outcome(api!), 'NOERROR 172.19.16.10');
    assert.equal(outcome(qualified!), 'NOERROR 172.19.16.10');
  });

  test('addresses answer PTR with their qualified name, over UDP and TCP', async () => {
    // 172.18.0.10 has three names; its PTR is the first in address-then-name order.
    const results = await topology.ask(NET100, ...both('PTR', '172.18.0.10'), ...both('PTR', '172.18.0.20'));
    assert.deepEqual(results.map(outcome), ['NOERROR alias.net100.test', 'NOERROR alias.net100.test', 'NOERROR db.net100.test', 'NOERROR db.net100.test']);
    // 172.19.20.5 is in the fifth of the /20's sixteen reverse zones.
    const [other] = await topology.ask(NET200, question('udp', 'PTR', '172.19.20.5'));
    assert.equal(outcome(other!), 'NOERROR other.net200.test');
  });

  test('aliases share an address; a name with several addresses returns them all', async () => {
    for (const name of ['www', 'alias', 'www.net100.test']) {
      for (const r of await topology.ask(NET100, ...both('A', name))) assert.equal(outcome(r), 'NOERROR 172.18.0.10', `${r.transport} ${name}`);
    }
    for (const r of await topology.ask(NET100, ...both('A', 'rr'), ...both('A', 'rr.net100.test'))) {
      assert.equal(outcome(r), 'NOERROR 172.18.0.11,172.18.0.12,172.18.0.13', `${r.transport} ${r.name}`);
    }
  });

  test("the other network's names do not resolve on this gateway", async () => {
    for (const r of await topology.ask(NET100, ...both('A', 'api'), ...both('A', 'api.net200.test'), question('udp', 'A', 'other'))) {
      assert.equal(r.rcode, 'NXDOMAIN', `${r.transport} ${r.name} on VLAN 100`);
    }
    for (const r of await topology.ask(NET200, ...both('A', 'web'), ...both('A', 'web.net100.test'))) {
      assert.equal(r.rcode, 'NXDOMAIN', `${r.transport} ${r.name} on VLAN 200`);
    }
  });

  test('names under the domain that do not exist are NXDOMAIN here and never reach the upstream', async () => {
    const missing = ['nope.net100.test', 'NoPe2.Net100.Test', 'deep.nope.net100.test', 'bare-missing'];
    for (const r of await topology.ask(NET100, ...missing.flatMap((name) => both('A', name)), ...both('PTR', '172.18.99.99'))) {
      assert.equal(r.rcode, 'NXDOMAIN', `${r.transport} ${r.type} ${r.name}`);
    }
    const [unknown200] = await topology.ask(NET200, question('udp', 'PTR', '172.19.31.254'));
    assert.equal(unknown200?.rcode, 'NXDOMAIN');
    for (const name of [...missing, reverseName('172.18.99.99'), reverseName('172.19.31.254')]) assert.equal(await upstream.saw(name), false, `${name} reached the upstream`);
  });

  test('other names are forwarded to the upstream, over UDP and TCP', async () => {
    const [tcp, udp, multi, unknown] = await topology.ask(
      NET100,
      question('tcp', 'A', 'tcp.example'),
      question('udp', 'A', 'outside.example'),
      question('udp', 'A', 'multi.example'),
      question('udp', 'A', 'unknown.example'),
    );
    assert.equal(outcome(tcp!), 'NOERROR 198.51.100.10');
    assert.equal(outcome(udp!), 'NOERROR 198.51.100.7');
    assert.equal(outcome(multi!), 'NOERROR 198.51.100.8,198.51.100.9');
    assert.equal(unknown?.rcode, 'NXDOMAIN');
    for (const name of ['tcp.example', 'outside.example', 'multi.example', 'unknown.example']) assert.equal(await upstream.saw(name), true, name);
    const [fromNet200] = await topology.ask(NET200, question('tcp', 'A', 'outside.example'));
    assert.equal(outcome(fromNet200!), 'NOERROR 198.51.100.7');
  });

  test('changing names rewrites only the files of the addresses they touch: the same dnsmasq answers new names and forgets removed ones', async () => {
    const pid = pidOf(100);
    const before = await hostsFiles(100);
    const changed = { ...NET100, hosts: { ...Object.fromEntries(Object.entries(NET100.hosts).filter(([name]) => name !== 'db')), fresh: '172.18.0.30' } };
    const logged = log.entries.length;
    await sync(changed, NET200);
    const changes = log.entries.slice(logged).filter((e) => e.message === 'hosts files changed');
    assert.deepEqual(changes.map((e) => [e.fields.vlan, e.fields.written, e.fields.removed]), [[100, 1, 1]]);
    await answersEventually(NET100, 'fresh', 'NOERROR 172.18.0.30');
    const [db, dbPtr, fresh] = await topology.ask(NET100, question('udp', 'A', 'db'), question('udp', 'PTR', '172.18.0.20'), question('tcp', 'A', 'fresh.net100.test'));
    assert.equal(db?.rcode, 'NXDOMAIN');
    assert.equal(dbPtr?.rcode, 'NXDOMAIN');
    assert.equal(outcome(fresh!), 'NOERROR 172.18.0.30');
    assert.equal(pidOf(100), pid, 'dnsmasq was not restarted');
    assert.equal(await upstream.saw('db.net100.test'), false);
    const files = await hostsFiles(100);
    assert.equal(files.has('172.18.0.20'), false, "db's address has no name left: its file is gone");
    assert.equal(files.get('172.18.0.30')?.content, '172.18.0.30 fresh\n');
    for (const [name, file] of before) if (name !== '172.18.0.20') assert.deepEqual(files.get(name), file, `${name} was not written`);
    await sync(NET100, NET200);
    await answersEventually(NET100, 'db', 'NOERROR 172.18.0.20');
    await answersEventually(NET100, 'fresh', 'NXDOMAIN');
    assert.equal(pidOf(100), pid);
  });

  test('a sync with nothing changed writes nothing and restarts nothing', async () => {
    const before = await hostsFiles(100);
    const pids = [pidOf(100), pidOf(200)];
    const logged = log.entries.length;
    await sync(NET100, NET200);
    await sync(NET200, NET100);
    assert.deepEqual(await hostsFiles(100), before);
    assert.ok(!log.entries.slice(logged).some((e) => e.message === 'hosts files changed'));
    assert.deepEqual([pidOf(100), pidOf(200)], pids);
  });

  test('files removed behind its back are written again by the next sync', async () => {
    const pid = pidOf(100);
    const before = await hostsFiles(100);
    await rm(join(hostsDir(100), '172.18.0.20'));
    await answersEventually(NET100, 'db', 'NXDOMAIN');
    // A stray file in our directory is ours to remove.
    await writeFile(join(hostsDir(100), '172.18.0.99'), '172.18.0.99 stray\n');
    await answersEventually(NET100, 'stray', 'NOERROR 172.18.0.99');
    await sync(NET100, NET200);
    assert.equal(pidOf(100), pid, 'the watched directory is still there: no restart');
    await answersEventually(NET100, 'db', 'NOERROR 172.18.0.20');
    await answersEventually(NET100, 'stray', 'NXDOMAIN');
    assert.deepEqual([...(await hostsFiles(100)).keys()], [...before.keys()]);
    // A new directory is not the one dnsmasq watches: it takes a new dnsmasq.
    await rm(networkPaths(dnsmasqRoot(stateDir), 100).hostsDir, { recursive: true });
    await sync(NET100, NET200);
    assert.notEqual(pidOf(100), pid);
    await sync({ ...NET100, hosts: { ...NET100.hosts, watched: '172.18.0.50' } }, NET200);
    await answersEventually(NET100, 'watched', 'NOERROR 172.18.0.50');
    await sync(NET100, NET200);
  });

  test('hostile input is refused and leaves the running dnsmasq, its arguments and its files as they were', async () => {
    const pid = pidOf(100);
    const argv = await commandLine(pid);
    const files = await hostsFiles(100);
    for (const hostile of [
      { ...NET100, hosts: { ...NET100.hosts, 'evil\n--server=203.0.113.1': '172.18.0.66' } },
      { ...NET100, hosts: { ...NET100.hosts, evil: '172.18.0.66\n203.0.113.1 web' } },
      { ...NET100, domain: 'net100.test/\n--conf-file=/etc/passwd' },
    ]) {
      await assert.rejects(backend.sync([dnsState(hostile), dnsState(NET200)]), (err) => err instanceof RouterError && err.kind === 'invalid');
    }
    assert.equal(pidOf(100), pid);
    assert.deepEqual(await commandLine(pid), argv);
    assert.ok(!argv?.some((arg) => arg.includes('203.0.113.1') || arg.includes('passwd')));
    assert.deepEqual(await hostsFiles(100), files);
  });

  test('an argument change (internal) restarts dnsmasq: own names resolve, nothing goes upstream', async () => {
    const pid = pidOf(200);
    const internal = { ...NET200, internal: true };
    await sync(NET100, internal);
    assert.notEqual(pidOf(200), pid, 'restarted with new arguments');
    assert.equal(await alive(pid), false);
    const [api, outside] = await topology.ask(NET200, question('udp', 'A', 'api'), question('tcp', 'A', 'internal-probe.example'));
    assert.equal(outcome(api!), 'NOERROR 172.19.16.10');
    assert.notEqual(outside?.rcode, 'NOERROR');
    assert.equal(outside?.answers.length, 0);
    assert.equal(await upstream.saw('internal-probe.example'), false);
    await sync(NET100, NET200);
    const [forwarded] = await topology.ask(NET200, question('udp', 'A', 'internal-probe.example'));
    assert.equal(outcome(forwarded!), 'NOERROR 198.51.100.12');
  });

  test('dnsmasq binds its gateway when the address appears after it started, and again when it comes back', async () => {
    const link = 'eth0.200';
    await topology.router.ip('address', 'del', `${NET200.gateway}/${NET200.prefixLength}`, 'dev', link);
    // Another domain is other arguments: the new dnsmasq starts while the gateway has no address.
    const renamed = { ...NET200, domain: 'late.test' };
    await sync(NET100, renamed);
    const pid = pidOf(200);
    const [unbound] = await topology.ask(NET200, question('udp', 'A', 'api'));
    assert.notEqual(unbound?.rcode, 'NOERROR');
    await topology.router.ip('address', 'add', `${NET200.gateway}/${NET200.prefixLength}`, 'dev', link);
    await answersEventually(NET200, 'api.late.test', 'NOERROR 172.19.16.10');
    await topology.router.ip('address', 'del', `${NET200.gateway}/${NET200.prefixLength}`, 'dev', link);
    await topology.router.ip('address', 'add', `${NET200.gateway}/${NET200.prefixLength}`, 'dev', link);
    await answersEventually(NET200, 'api', 'NOERROR 172.19.16.10');
    assert.equal(pidOf(200), pid);
    await sync(NET100, NET200);
  });

  test('dnsmasq killed with SIGKILL is restarted and answers again', async () => {
    const pid = pidOf(100);
    process.kill(pid, 'SIGKILL');
    const restarted = await eventually('a new dnsmasq for VLAN 100', async () => {
      const now = backend.pidOf(100);
      return now !== undefined && now !== pid && (await readFile(pidFile(100), 'utf8').catch(() => '')).trim() === String(now) ? now : undefined;
    });
    seenPids.add(restarted);
    await answersEventually(NET100, 'web', 'NOERROR 172.18.0.10');
    const exit = log.entries.find((e) => e.message === 'dnsmasq exited; restarting it');
    assert.equal(exit?.fields.signal, 'SIGKILL');
    assert.equal(exit?.fields.pid, pid);
    assert.equal(exit?.fields.vlan, 100);
  });

  test('dnsmasq runs as nobody when the state directory lets it re-read its files', async () => {
    const passwd = await readFile('/etc/passwd', 'utf8');
    assert.ok(passwd.split('\n').some((line) => line.startsWith('nobody:')), 'this host has a user nobody');
    const status = await readFile(`/proc/${pidOf(100)}/status`, 'utf8');
    assert.match(status, new RegExp(`^Uid:\\s+${NOBODY_UID}\\s`, 'm'));
  });

  test('DNS off stops the network\'s dnsmasq and removes its files; turned on again it starts anew', async () => {
    const pid = pidOf(200);
    await backend.sync([dnsState(NET100), dnsOff(NET200)]);
    assert.equal(backend.pidOf(200), undefined);
    assert.equal(await alive(pid), false);
    await assert.rejects(stat(networkPaths(dnsmasqRoot(stateDir), 200).dir), { code: 'ENOENT' });
    // Nothing listens: TCP is refused at once.
    const [gone] = await topology.ask(NET200, question('tcp', 'A', 'api'));
    assert.equal(gone?.rcode, 'ERROR');
    // A deleted network is simply absent from the list.
    await sync(NET100, NET200);
    await backend.sync([dnsState(NET100)]);
    await assert.rejects(stat(networkPaths(dnsmasqRoot(stateDir), 200).dir), { code: 'ENOENT' });
    await sync(NET100, NET200);
    await answersEventually(NET200, 'api', 'NOERROR 172.19.16.10');
  });

  test('a dnsmasq left by a previous run is found by its pid file and command line, and replaced', async () => {
    await backend.close();
    const previous = spawn(process.execPath, [PREVIOUS_RUN_SCRIPT, JSON.stringify({ stateDir, netns: topology.router.name, upstreams: [UPSTREAM_IP], networks: [NET100, NET200] })], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    started.push(previous);
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      previous.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
      previous.once('exit', (code) => reject(new Error(`previous run exited (${code}) before syncing`)));
    });
    const stale = JSON.parse(line) as Record<string, number>;
    const stalePids = [stale['100'], stale['200']].filter((p): p is number => p !== undefined);
    assert.equal(stalePids.length, 2);
    for (const pid of stalePids) seenPids.add(pid);
    // The daemon dies without cleaning up; its dnsmasq go on answering.
    const killed = new Promise((resolve) => previous.once('exit', resolve));
    previous.kill('SIGKILL');
    await killed;
    for (const pid of stalePids) assert.equal(await alive(pid), true);
    await answersEventually(NET100, 'web', 'NOERROR 172.18.0.10');
    // The new run wants only VLAN 100: VLAN 200's stale dnsmasq ends too, and its files go.
    backend = newBackend();
    await sync(NET100);
    for (const pid of stalePids) assert.equal(await alive(pid), false, `stale dnsmasq ${pid} ended`);
    await assert.rejects(stat(networkPaths(dnsmasqRoot(stateDir), 200).dir), { code: 'ENOENT' });
    await sync(NET100, NET200);
    assert.notEqual(pidOf(100), stale['100']);
    assert.equal((await readFile(pidFile(100), 'utf8')).trim(), String(pidOf(100)));
    await answersEventually(NET100, 'web', 'NOERROR 172.18.0.10');
    await answersEventually(NET200, 'api', 'NOERROR 172.19.16.10');
    assert.equal(log.entries.filter((e) => e.message === 'ended the dnsmasq of a previous run').length, 2);
  });

  test('a process that is not our dnsmasq named in our pid file is left alone', async () => {
    await backend.close();
    const sleeper = spawn('/usr/bin/sleep', ['600'], { stdio: 'ignore' });
    started.push(sleeper);
    assert.ok(sleeper.pid !== undefined);
    await writeFile(pidFile(100), `${sleeper.pid}\n`);
    backend = newBackend();
    await sync(NET100, NET200);
    assert.deepEqual(await commandLine(sleeper.pid), ['/usr/bin/sleep', '600'], 'the foreign process still runs');
    assert.equal((await readFile(pidFile(100), 'utf8')).trim(), String(pidOf(100)));
    await answersEventually(NET100, 'web', 'NOERROR 172.18.0.10');
    assert.ok(log.entries.some((e) => e.level === 'warn' && e.fields.pid === sleeper.pid && /not our dnsmasq/.test(e.message)));
    const exited = new Promise((resolve) => sleeper.once('exit', resolve));
    sleeper.kill('SIGTERM');
    await exited;
  });

  test("with upstreams null, names are forwarded to the servers of the resolv.conf it is given", async () => {
    await backend.close();
    const resolvConf = join(stateDir, 'resolv.conf');
    await writeFile(resolvConf, `nameserver ${UPSTREAM_IP}\n`);
    backend = newBackend({ upstreams: null, resolvConf });
    await sync(NET100, NET200);
    assert.ok((await commandLine(pidOf(100)))?.includes(`--resolv-file=${resolvConf}`));
    const [forwarded] = await topology.ask(NET100, question('udp', 'A', 'resolv.example'));
    assert.equal(outcome(forwarded!), 'NOERROR 198.51.100.11');
    assert.equal(await upstream.saw('resolv.example'), true);
  });

  test('with a state directory others cannot search, dnsmasq runs as root and still picks up new names', async () => {
    await backend.close();
    await chmod(stateDir, 0o700);
    try {
      backend = newBackend();
      await sync(NET100, NET200);
      const status = await readFile(`/proc/${pidOf(100)}/status`, 'utf8');
      assert.match(status, /^Uid:\s+0\s/m);
      assert.ok(log.entries.some((e) => e.message === 'dnsmasq runs as root' && /cannot search/.test(String(e.fields.reason))));
      await sync({ ...NET100, hosts: { ...NET100.hosts, later: '172.18.0.40' } }, NET200);
      await answersEventually(NET100, 'later', 'NOERROR 172.18.0.40');
    } finally {
      await chmod(stateDir, 0o755);
    }
  });

  test('close stops the processes and keeps the files; teardown removes everything', async () => {
    const pids = [pidOf(100), pidOf(200)];
    await backend.close();
    for (const pid of pids) assert.equal(await alive(pid), false);
    assert.ok((await hostsFiles(100)).size > 0, 'the hosts files stay');
    await assert.rejects(backend.sync([dnsState(NET100)]), /closed/);
    backend = newBackend();
    await sync(NET100, NET200);
    await backend.teardown();
    await assert.rejects(stat(dnsmasqRoot(stateDir)), { code: 'ENOENT' });
    for (const pid of seenPids) assert.equal(await alive(pid), false, `dnsmasq ${pid} is gone`);
    const [r] = await topology.ask(NET100, question('tcp', 'A', 'web'));
    assert.equal(r?.rcode, 'ERROR');
  });
});
