/**
 * The original approach as a DnsSubject: on each change, rewrite the
 * dnsmasq configuration with every name, `kill -9` dnsmasq, sleep one
 * second, start dnsmasq again; the change returns once the new dnsmasq
 * listens. The dnsmasq is the bench's own child in the router namespace,
 * killed by the pid the bench started (the original ran `killall -9
 * dnsmasq`, which the bench never does).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Netns } from '@router-service/test-support';
import type { NameRecord } from './names.js';
import { renderOriginalConfig } from './original-config.js';
import type { DnsSubject } from './subject.js';

/** The original's pause between killing dnsmasq and starting it again. */
const RESTART_SLEEP_MS = 1_000;
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const PID_POLL_MS = 2;
/** How much of dnsmasq's latest output is kept for an error message, in characters. */
const KEPT_OUTPUT = 4_000;

export class OriginalDns implements DnsSubject {
  readonly name: string;
  readonly #router: Netns;
  readonly #dnsmasq: string;
  readonly #gateway: string;
  readonly #dir: string;
  readonly #records = new Map<string, NameRecord>();
  #child: ChildProcess | undefined;
  #output = '';

  private constructor(router: Netns, dnsmasq: string, gateway: string, dir: string) {
    this.name = `original (${dnsmasq})`;
    this.#router = router;
    this.#dnsmasq = dnsmasq;
    this.#gateway = gateway;
    this.#dir = dir;
  }

  /** Prepares the approach for a network whose `gateway` is up in `router`; dnsmasq starts with `preload`. */
  static async create(router: Netns, dnsmasq: string, gateway: string): Promise<OriginalDns> {
    return new OriginalDns(router, dnsmasq, gateway, await mkdtemp(join(tmpdir(), 'router-service-bench-original-dns-')));
  }

  get #configPath(): string {
    return join(this.#dir, 'dnsmasq.conf');
  }

  get #pidFile(): string {
    return join(this.#dir, 'dnsmasq.pid');
  }

  async preload(records: readonly NameRecord[]): Promise<void> {
    for (const record of records) this.#records.set(record.name, record);
    await this.#restartWithoutPause();
  }

  async add(record: NameRecord): Promise<void> {
    this.#records.set(record.name, record);
    await this.#writeConfig();
    await this.#restart();
  }

  async remove(records: readonly NameRecord[]): Promise<void> {
    for (const record of records) this.#records.delete(record.name);
    await this.#restartWithoutPause();
  }

  async resolverPid(): Promise<number> {
    const pid = this.#child?.pid;
    if (pid === undefined) throw new Error('the original approach has no dnsmasq running');
    return pid;
  }

  async close(): Promise<void> {
    try {
      await this.#kill();
    } finally {
      await rm(this.#dir, { recursive: true, force: true });
    }
  }

  async #writeConfig(): Promise<void> {
    await writeFile(this.#configPath, renderOriginalConfig({ gateway: this.#gateway, pidFile: this.#pidFile }, [...this.#records.values()]));
  }

  /** Setup (preload, remove): the rewrite, and dnsmasq started again as soon as the old one has gone. */
  async #restartWithoutPause(): Promise<void> {
    await this.#writeConfig();
    await this.#kill();
    await this.#start();
  }

  /** kill -9, sleep, start: the original's restart. */
  async #restart(): Promise<void> {
    // Our own child, not yet reaped: its pid cannot belong to another process.
    this.#child?.kill('SIGKILL');
    await sleep(RESTART_SLEEP_MS);
    await this.#start();
  }

  /**
   * Starts dnsmasq in the foreground as our child (ip execs it, so the pid
   * is dnsmasq's) and waits until it has written its pid file, which it does
   * once it listens: the moment the original's daemonising dnsmasq returned.
   */
  async #start(): Promise<void> {
    const argv = this.#router.execArgv(this.#dnsmasq, ['--keep-in-foreground', `--conf-file=${this.#configPath}`]);
    const child = spawn(argv.file, argv.args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.#output = (this.#output + chunk).slice(-KEPT_OUTPUT)));
    const deadline = performance.now() + START_TIMEOUT_MS;
    while ((await this.#pidInFile()) !== child.pid) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`dnsmasq exited at start (${child.exitCode ?? child.signalCode}): ${this.#output.trim()}`);
      if (performance.now() > deadline) throw new Error(`dnsmasq did not write its pid file within ${START_TIMEOUT_MS} ms: ${this.#output.trim()}`);
      await sleep(PID_POLL_MS);
    }
  }

  async #pidInFile(): Promise<number | undefined> {
    try {
      return Number((await readFile(this.#pidFile, 'utf8')).trim());
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** kill -9 the dnsmasq this object started, if running, and waits until it has gone, its sockets with it. */
  async #kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    const gone = await Promise.race([exited.then(() => true), sleep(STOP_TIMEOUT_MS, false, { ref: false })]);
    if (!gone) throw new Error(`dnsmasq (pid ${child.pid}) did not end within ${STOP_TIMEOUT_MS} ms of SIGKILL`);
  }
}
