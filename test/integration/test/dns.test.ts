/**
 * Container DNS through the wire contract, with the real daemon running
 * the real dnsmasq: names given to ConfigureDNS reach dnsmasq's hosts
 * directory and answer a container's queries, and no hostile name, domain
 * or address sent through gRPC changes dnsmasq's command line or any of its
 * files.
 *
 * This kernel has no 802.1Q links, so the network is stored before the
 * daemon starts (as after a restart) and a veth named eth0.100, whose other
 * end is a container's eth0, carries its gateway. That link is not the
 * daemon's: resyncs report it (the daemon is not healthy) and leave it
 * alone, while DNS, which needs only the gateway, converges as usual.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { openSqliteStore, type Network } from '@router-service/core';
import { Netns, vethArgs } from '@router-service/test-support';
import { Daemon } from '../src/daemon.js';
import { expectStatus } from '../src/expect-status.js';
import type { RouterClient } from '../src/router-client.js';
import { createRouterNs } from '../src/router-ns.js';

const VLAN = 100;
const GATEWAY = '172.18.0.1';
const CONTAINER = '172.18.0.2';
const DNSMASQ = '/usr/sbin/dnsmasq';
/** Never asked: every name the test queries is the network's own. */
const UPSTREAM = '192.0.2.53';
/** How long dnsmasq may take to start or stop before the test gives up. */
const SETTLE_TIMEOUT_MS = 20_000;
const ok = { success: true, error: '' };

/** Markers every injection attempt below carries, none of which may reach dnsmasq. */
const MARKERS = ['evil', 'ｅｖｉｌ', 'évil', '203.0.113.66', 'a'.repeat(64)];

const HOSTILE_NAMES: readonly string[] = [
  'evil\nserver=203.0.113.66',
  'evil\n',
  'evil\rx',
  'evil\0x',
  'evil x',
  'evil\tx',
  '--',
  '--server=203.0.113.66',
  '--conf-file=/tmp/evil',
  '-evil',
  'evil-',
  'evil..corp',
  '.evil',
  'a'.repeat(64),
  `${'evil.'.repeat(50)}evilx`,
  'évil',
  'ｅｖｉｌ',
  'evil#1',
  'evil/1',
  'evil=1',
  '*',
  '*.evil',
  'evil_1',
  'evil:53',
];

const HOSTILE_ADDRESSES: readonly string[] = [
  '172.18.0.9\nserver=203.0.113.66',
  '172.18.0.9\n',
  ' 172.18.0.9',
  '172.18.0.9 ',
  '172.18.0.9\0',
  '172.18.0.9#53',
  '--server=203.0.113.66',
  'evil',
  'fd00::9',
  '10.0.0.9',
];

function network(): Network {
  return { vlan: VLAN, name: '', subnet: '172.18.0.0/16', gateway: GATEWAY, mtu: 0, nat: false, internal: false, natSources: [], dns: null };
}

/** The files under dir, recursively, by path relative to it, with their contents. */
async function filesUnder(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    files.set(path.slice(dir.length + 1), entry.isFile() ? await readFile(path, 'utf8') : `<${entry.isDirectory() ? 'dir' : 'other'}>`);
  }
  return files;
}

/** A process's argv from /proc, or undefined once it is gone (or a zombie). */
async function argvOf(pid: number): Promise<string[] | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return text === '' ? undefined : text.split('\0').slice(0, -1);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Polls check until it returns a value, failing with what it last saw after a bounded wait. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${SETTLE_TIMEOUT_MS} ms`);
    await sleep(50);
  }
}

/** Whether a hosts-file text has a line naming exactly this address and this name. */
function hasRecord(text: string, address: string, name: string): boolean {
  return text.split('\n').some((line) => {
    const [first, ...names] = line.trim().split(/\s+/);
    return first === address && names.includes(name);
  });
}

/** A's answers for each name, asked from inside ns over UDP, as a container asks. */
async function resolve4(ns: Netns, server: string, names: readonly string[]): Promise<Record<string, string[]>> {
  const script = `
    const { Resolver } = await import('node:dns/promises');
    const resolver = new Resolver({ timeout: 2000, tries: 2 });
    resolver.setServers([process.argv[1]]);
    const answers = {};
    for (const name of process.argv.slice(2)) answers[name] = (await resolver.resolve4(name)).sort();
    process.stdout.write(JSON.stringify(answers));`;
  const result = await ns.exec(process.execPath, ['--input-type=module', '--eval', script, server, ...names]);
  assert.equal(result.code, 0, `query from ${ns.name}: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, string[]>;
}

describe('container DNS with dnsmasq, through gRPC', () => {
  let router: Netns;
  let container: Netns;
  let dir: string;
  let stateDir: string;
  let daemon: Daemon;
  let client: RouterClient;
  /** The dnsmasq seen running, so that a failed test still ends it. */
  let dnsmasq: { pid: number; argv: string[] } | undefined;
  const hostsDir = () => join(stateDir, 'dnsmasq', String(VLAN), 'hosts');

  /** The running dnsmasq of the network: the pid its pid file names, with that process's argv. */
  async function runningDnsmasq(): Promise<{ pid: number; argv: string[] }> {
    return eventually('dnsmasq running', async () => {
      const pidText = await readFile(join(stateDir, 'dnsmasq', String(VLAN), 'dnsmasq.pid'), 'utf8').catch(() => '');
      const pid = Number(pidText.trim());
      if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
      const argv = await argvOf(pid);
      return argv?.[0] === DNSMASQ ? { pid, argv } : undefined;
    });
  }

  /** The text of every file in the network's hosts directory, joined. */
  async function hostsText(): Promise<string> {
    return [...(await filesUnder(hostsDir())).values()].join('\n');
  }

  before(async () => {
    router = await createRouterNs();
    container = await Netns.create();
    await router.ip(...vethArgs({ name: `eth0.${VLAN}` }, { name: 'eth0', netns: container.name }));
    await router.ip('address', 'add', `${GATEWAY}/16`, 'dev', `eth0.${VLAN}`);
    await router.ip('link', 'set', `eth0.${VLAN}`, 'up');
    await container.ip('address', 'add', `${CONTAINER}/16`, 'dev', 'eth0');
    await container.ip('link', 'set', 'eth0', 'up');
    dir = await mkdtemp(join(tmpdir(), 'router-service-dns-'));
    stateDir = join(dir, 'state');
    await mkdir(stateDir, { mode: 0o700 });
    const store = openSqliteStore(stateDir);
    store.update((tx) => tx.putNetwork(network()));
    store.close();
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ firewall: 'none', dns: { backend: 'dnsmasq', upstreams: [UPSTREAM], dnsmasq: DNSMASQ } }));
    daemon = await Daemon.start(router, stateDir, ['--parent', 'eth0', '--config', config]);
    client = daemon.client;
  });

  after(async () => {
    await daemon?.dispose();
    // Ends the dnsmasq this test saw, by its pid, if the daemon left it running.
    if (dnsmasq !== undefined && (await argvOf(dnsmasq.pid))?.[0] === DNSMASQ) process.kill(dnsmasq.pid, 'SIGTERM');
    await container?.delete();
    await router?.delete();
    await rm(dir, { recursive: true, force: true });
  });

  test('names given through ConfigureDNS reach the hosts directory and answer a container', async () => {
    const configured = await client.call('ConfigureDNS', {
      vlan_id: VLAN,
      domain: 'corp',
      hosts: { web: CONTAINER },
      host_addresses: [{ name: 'api', addresses: ['172.18.0.6', '172.18.0.5'] }],
    });
    assert.deepEqual(configured, ok, daemon.output);
    dnsmasq = await runningDnsmasq();
    const text = await hostsText();
    for (const [address, name] of [[CONTAINER, 'web'], ['172.18.0.5', 'api'], ['172.18.0.6', 'api']] as const) {
      assert.ok(hasRecord(text, address, name), `no line "${address} ${name}" in the hosts directory:\n${text}`);
    }
    assert.deepEqual(await resolve4(container, GATEWAY, ['web', 'web.corp', 'API.Corp']), {
      web: [CONTAINER],
      'web.corp': [CONTAINER],
      'API.Corp': ['172.18.0.5', '172.18.0.6'],
    });
    const state = await client.call('GetState', { vlan_id: VLAN });
    assert.deepEqual(state.networks[0]?.dns, {
      enabled: true,
      domain: 'corp',
      hosts: { api: '172.18.0.5', web: CONTAINER },
      host_addresses: [{ name: 'api', addresses: ['172.18.0.5', '172.18.0.6'] }, { name: 'web', addresses: [CONTAINER] }],
    });
  });

  test('hostile names, domains and addresses are InvalidArgument and change neither dnsmasq nor its files', async () => {
    const before = { process: await runningDnsmasq(), files: await filesUnder(join(stateDir, 'dnsmasq')), state: await client.call('GetState', {}) };
    const refuse = (call: Promise<unknown>) => expectStatus(call, status.INVALID_ARGUMENT, '');
    for (const name of HOSTILE_NAMES) {
      await refuse(client.call('ConfigureDNS', { vlan_id: VLAN, domain: 'corp', hosts: { [name]: '172.18.0.9' } }));
      await refuse(client.call('ConfigureDNS', { vlan_id: VLAN, domain: 'corp', host_addresses: [{ name, addresses: ['172.18.0.9'] }] }));
      await refuse(client.call('ConfigureDNS', { vlan_id: VLAN, domain: name, hosts: { ok: '172.18.0.9' } }));
      await refuse(client.call('RemoveDNSHosts', { vlan_id: VLAN, names: ['web', name] }));
    }
    for (const address of HOSTILE_ADDRESSES) {
      await refuse(client.call('ConfigureDNS', { vlan_id: VLAN, domain: 'corp', hosts: { ok: address } }));
      await refuse(client.call('ConfigureDNS', { vlan_id: VLAN, domain: 'corp', host_addresses: [{ name: 'ok', addresses: ['172.18.0.9', address] }] }));
    }
    assert.deepEqual(await client.call('GetState', {}), before.state);
    assert.deepEqual(await runningDnsmasq(), before.process, 'dnsmasq was restarted or its argv changed');
    const files = await filesUnder(join(stateDir, 'dnsmasq'));
    assert.deepEqual(files, before.files, 'the files under <state-dir>/dnsmasq changed');
    const everything = [...before.process.argv, ...files.keys(), ...files.values()].join('\n');
    for (const marker of MARKERS) assert.ok(!everything.includes(marker), `${JSON.stringify(marker)} reached dnsmasq's argv or files`);
  });

  test('removing a name rewrites the hosts directory without restarting dnsmasq', async () => {
    const running = await runningDnsmasq();
    assert.deepEqual(await client.call('RemoveDNSHosts', { vlan_id: VLAN, names: ['API'] }), ok);
    const text = await hostsText();
    assert.ok(!hasRecord(text, '172.18.0.5', 'api') && !hasRecord(text, '172.18.0.6', 'api'), `api is still listed:\n${text}`);
    assert.ok(hasRecord(text, CONTAINER, 'web'), `web is gone:\n${text}`);
    assert.deepEqual(await runningDnsmasq(), running);
  });

  test('SIGTERM stops the daemon and its dnsmasq, and keeps the files for the next start', async () => {
    const running = await runningDnsmasq();
    const files = await filesUnder(hostsDir());
    assert.deepEqual(await daemon.stop(), { code: 0, signal: null }, daemon.output);
    await eventually('dnsmasq stopped', async () => ((await argvOf(running.pid)) === undefined ? true : undefined));
    assert.deepEqual(await filesUnder(hostsDir()), files);
  });
});
