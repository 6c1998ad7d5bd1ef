/**
 * The original approach as a Publisher: one `iptables -t nat -A` exec per
 * port into one linear chain, removal by rule number, no ranges (a range is
 * one exec per port) and no concurrency (calls are served one at a time).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Netns } from '@router-service/test-support';
import type { BaselineReply, BaselineRequest, BaselineRule } from './baseline-protocol.js';
import type { PublishedPorts, Publisher } from './publisher.js';

const WORKER_PROGRAM = fileURLToPath(new URL('./baseline-worker.js', import.meta.url));
const READY_TIMEOUT_MS = 10_000;

/** The rules for ports, one per host port, in order. */
function rulesOf(ports: PublishedPorts): BaselineRule[] {
  return Array.from({ length: ports.hostPortEnd - ports.hostPort + 1 }, (_, i) => ({
    hostPort: ports.hostPort + i,
    containerPort: ports.containerPort + i,
  }));
}

export class BaselinePublisher implements Publisher {
  readonly name: string;
  readonly #child: ChildProcess;
  readonly #replies: AsyncIterator<string>;
  readonly #lines: Interface;
  /** The chain's rules in order, as the worker was told to make them. */
  #rules: BaselineRule[] = [];

  private constructor(name: string, child: ChildProcess, lines: Interface) {
    this.name = name;
    this.#child = child;
    this.#lines = lines;
    this.#replies = lines[Symbol.asyncIterator]();
  }

  /** Starts the worker in the router namespace with `iptables`, its chain created and jumped to. */
  static async start(router: Netns, iptables: string, containerIp: string): Promise<BaselinePublisher> {
    const argv = router.execArgv(process.execPath, [WORKER_PROGRAM, iptables, containerIp]);
    const child = spawn(argv.file, argv.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const publisher = new BaselinePublisher(`original (${iptables})`, child, createInterface({ input: child.stdout as NodeJS.ReadableStream }));
    const first = await Promise.race([
      publisher.#replies.next(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`baseline worker not ready: ${stderr}`)), READY_TIMEOUT_MS).unref()),
    ]);
    if (first.done === true || first.value !== 'ready') {
      child.kill();
      throw new Error(`baseline worker did not start: ${stderr}`);
    }
    return publisher;
  }

  async add(ports: PublishedPorts): Promise<void> {
    for (const rule of rulesOf(ports)) {
      await this.#request({ op: 'add', rule });
      this.#rules.push(rule);
    }
  }

  async remove(ports: PublishedPorts): Promise<void> {
    for (const rule of rulesOf(ports)) {
      await this.#request({ op: 'remove', hostPort: rule.hostPort });
      this.#rules = this.#rules.filter((r) => r.hostPort !== rule.hostPort);
    }
  }

  /** The original served one call at a time: concurrent callers only queue. */
  async addConcurrently(mappings: readonly PublishedPorts[]): Promise<void> {
    for (const ports of mappings) await this.add(ports);
  }

  async addMany(mappings: readonly PublishedPorts[]): Promise<void> {
    await this.#load([...this.#rules, ...mappings.flatMap(rulesOf)]);
  }

  async removeMany(mappings: readonly PublishedPorts[]): Promise<void> {
    const gone = new Set(mappings.flatMap(rulesOf).map((rule) => rule.hostPort));
    await this.#load(this.#rules.filter((rule) => !gone.has(rule.hostPort)));
  }

  async rangeProblem(): Promise<string | undefined> {
    return undefined;
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.stdin?.end();
    this.#lines.close();
    await exited;
  }

  async #load(rules: BaselineRule[]): Promise<void> {
    await this.#request({ op: 'load', rules });
    this.#rules = rules;
  }

  async #request(request: BaselineRequest): Promise<void> {
    this.#child.stdin?.write(`${JSON.stringify(request)}\n`);
    const line = await this.#replies.next();
    if (line.done === true) throw new Error(`baseline worker exited (${this.#child.exitCode ?? this.#child.signalCode})`);
    const reply = JSON.parse(line.value) as BaselineReply;
    if (!reply.ok) throw new Error(`original approach, ${request.op}: ${reply.error}`);
  }
}
