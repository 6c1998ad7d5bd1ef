/**
 * Real TCP through the router: a server in the container namespace and
 * connections from the client namespace to the router's published ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Netns } from '@router-service/test-support';
import type { ConnectResult, ConnectSpec } from './connect-spec.js';

const TARGET_PROGRAM = fileURLToPath(new URL('./tcp-target-program.js', import.meta.url));
const CONNECT_PROGRAM = fileURLToPath(new URL('./connect-program.js', import.meta.url));
const READY_TIMEOUT_MS = 10_000;
/** A dropped SYN is what makes a connection through local namespaces late. */
const CONNECTION_TIMEOUT_MS = 3_000;
/** Connections a probe opens at once. */
const PROBE_PARALLELISM = 16;

/** The container's server: one byte per connection, on each of its ports. */
export class TcpTarget {
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess) {
    this.#child = child;
  }

  /** Starts the server in ns on host:port for each port and waits until all listen. */
  static start(ns: Netns, host: string, ports: readonly number[]): Promise<TcpTarget> {
    const argv = ns.execArgv(process.execPath, [TARGET_PROGRAM, host, ...ports.map(String)]);
    const child = spawn(argv.file, argv.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        child.kill();
        reject(new Error(`TCP server on ${host} ports ${ports.join(',')} in ${ns.name}: ${why}: ${output}`));
      };
      const timer = setTimeout(() => fail('not ready in time'), READY_TIMEOUT_MS);
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        if (output.includes('ready\n')) {
          clearTimeout(timer);
          resolve(new TcpTarget(child));
        }
      });
      child.once('error', (error) => fail(error.message));
      child.once('exit', (code, signal) => fail(`exited (${code ?? signal})`));
    });
  }

  /** Stops the server this object started and waits for it to end. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.kill();
    await exited;
  }
}

/** Runs connect-program in ns and returns what it reports. */
export async function connectMany(ns: Netns, spec: Omit<ConnectSpec, 'timeoutMs'>): Promise<ConnectResult> {
  const full: ConnectSpec = { ...spec, timeoutMs: CONNECTION_TIMEOUT_MS };
  const run = await ns.exec(process.execPath, [CONNECT_PROGRAM, JSON.stringify(full)], { timeoutMs: 0 });
  if (run.code !== 0) throw new Error(`connecting from ${ns.name} failed (${run.code ?? run.signal}): ${run.output}`);
  return JSON.parse(run.stdout) as ConnectResult;
}

/**
 * Connects once through each of `ports` on host; throws naming the ports
 * that did not answer. This is what shows a mapping really reached the kernel.
 */
export async function probe(ns: Netns, host: string, ports: readonly number[]): Promise<void> {
  const result = await connectMany(ns, { host, ports, total: ports.length, parallel: PROBE_PARALLELISM });
  if (result.failed > 0) {
    throw new Error(`${result.failed} of ${ports.length} published ports on ${host} did not answer: ${result.failures.join('; ')}`);
  }
}

/** Connects once through each of `ports` on host; throws naming the ports that still answered. */
export async function probeClosed(ns: Netns, host: string, ports: readonly number[]): Promise<void> {
  const result = await connectMany(ns, { host, ports, total: ports.length, parallel: PROBE_PARALLELISM });
  if (result.answered > 0) {
    throw new Error(`${result.answered} of ${ports.length} unpublished ports on ${host} still answered`);
  }
}

/** Up to `count` of `ports`, spread evenly and always with the first and the last. */
export function sample(ports: readonly number[], count: number): number[] {
  if (ports.length <= count) return [...ports];
  const step = (ports.length - 1) / (count - 1);
  return [...new Set(Array.from({ length: count }, (_, i) => ports[Math.round(i * step)] as number))];
}
