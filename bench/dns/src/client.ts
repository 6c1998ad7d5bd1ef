/**
 * The DNS client (client-program.ts) started inside a namespace: run to
 * completion for one result, or kept running as a session that takes lines
 * on stdin and answers with JSON lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Netns } from '@router-service/test-support';
import type { CheckResult, CheckSpec, FloodResult, FloodSpec, SteadySpec, WatchSpec } from './client-protocol.js';

const CLIENT_PROGRAM = fileURLToPath(new URL('./client-program.js', import.meta.url));
const READY_TIMEOUT_MS = 10_000;

/** A line the client printed. */
export type ClientEvent = { readonly event: string } & Readonly<Record<string, unknown>>;

interface OneShot {
  flood: [FloodSpec, FloodResult];
  check: [CheckSpec, CheckResult];
}

/** Runs a one-shot mode in `ns` and returns its result; throws with the client's output when it fails. */
export async function runClient<M extends keyof OneShot>(ns: Netns, mode: M, spec: OneShot[M][0], timeoutMs: number): Promise<OneShot[M][1]> {
  const run = await ns.exec(process.execPath, [CLIENT_PROGRAM, mode, JSON.stringify(spec)], { timeoutMs });
  if (run.code !== 0) throw new Error(`DNS client ${mode} in ${ns.name} failed (${run.code ?? run.signal}): ${run.output.trim()}`);
  return JSON.parse(run.stdout) as OneShot[M][1];
}

interface Session {
  watch: WatchSpec;
  steady: SteadySpec;
}

/** A running client in watch or steady mode. */
export class ClientSession {
  readonly #child: ChildProcess;
  readonly #lines: Interface;
  readonly #events: AsyncIterator<string>;
  readonly #what: string;
  #stderr = '';

  private constructor(child: ChildProcess, what: string) {
    this.#child = child;
    this.#what = what;
    this.#lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    this.#events = this.#lines[Symbol.asyncIterator]();
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.#stderr += chunk));
  }

  /** Starts the client in `ns` and waits until it is ready. */
  static async start<M extends keyof Session>(ns: Netns, mode: M, spec: Session[M]): Promise<ClientSession> {
    const argv = ns.execArgv(process.execPath, [CLIENT_PROGRAM, mode, JSON.stringify(spec)]);
    const session = new ClientSession(spawn(argv.file, argv.args, { stdio: ['pipe', 'pipe', 'pipe'] }), `DNS client ${mode} in ${ns.name}`);
    try {
      const ready = await session.next(READY_TIMEOUT_MS);
      if (ready.event !== 'ready') throw new Error(`${session.#what} began with ${JSON.stringify(ready)}`);
      return session;
    } catch (error) {
      await session.stop();
      throw error;
    }
  }

  /** Writes one line to the client's stdin. */
  send(line: string): void {
    this.#child.stdin?.write(`${line}\n`);
  }

  /** The client's next line; rejects when it exits first or `timeoutMs` passes. */
  async next(timeoutMs: number): Promise<ClientEvent> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.#what}: no line within ${timeoutMs} ms; stderr: ${this.#stderr.trim()}`)), timeoutMs);
    });
    try {
      const line = await Promise.race([this.#events.next(), timeout]);
      if (line.done === true) throw new Error(`${this.#what} exited (${this.#child.exitCode ?? this.#child.signalCode}): ${this.#stderr.trim()}`);
      return JSON.parse(line.value) as ClientEvent;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the client's input and returns its last line (its result). */
  async finish(timeoutMs: number): Promise<ClientEvent> {
    this.#child.stdin?.end();
    return this.next(timeoutMs);
  }

  /** Ends the client this object started, if still running, and waits for it. */
  async stop(): Promise<void> {
    this.#lines.close();
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.kill('SIGTERM');
    await exited;
  }
}
