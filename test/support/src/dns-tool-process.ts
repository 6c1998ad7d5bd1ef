/**
 * The DNS tool (dns-tool.ts) started as a long-running process, in a
 * namespace or here, with its JSON lines collected as they come.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { netnsExecArgv, type Argv } from './netns.js';

/** The compiled DNS tool, for `node DNS_TOOL_SCRIPT MODE ...`. */
export const DNS_TOOL_SCRIPT = fileURLToPath(new URL('./dns-tool.js', import.meta.url));

/** One line the tool printed. */
export type ToolEvent = { readonly event: string } & Readonly<Record<string, unknown>>;

/** The argv that runs the DNS tool with `args`, inside `netns` when given. */
export function dnsToolArgv(netns: string | undefined, args: readonly string[]): Argv {
  return netns === undefined ? { file: process.execPath, args: [DNS_TOOL_SCRIPT, ...args] } : netnsExecArgv(netns, process.execPath, [DNS_TOOL_SCRIPT, ...args]);
}

const READY_TIMEOUT_MS = 10_000;

/** A running DNS tool: every event it printed, in order, and a way to wait for the next ones. */
export class DnsToolProcess {
  readonly events: ToolEvent[] = [];
  readonly #child: ChildProcess;
  readonly #what: string;
  #stderr = '';
  #waiters: Array<() => void> = [];
  #closed = false;
  readonly #exited: Promise<void>;

  private constructor(child: ChildProcess, what: string) {
    this.#child = child;
    this.#what = what;
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line !== '') this.events.push(JSON.parse(line) as ToolEvent);
      this.#wake();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString('utf8');
    });
    this.#exited = new Promise((resolve) =>
      child.once('close', () => {
        this.#closed = true;
        resolve();
      }),
    );
    void this.#exited.then(() => this.#wake());
  }

  /** Starts the tool and waits for its `ready` event (see `ready`). */
  static async start(netns: string | undefined, args: readonly string[]): Promise<DnsToolProcess> {
    const argv = dnsToolArgv(netns, args);
    const child = spawn(argv.file, argv.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const tool = new DnsToolProcess(child, `dns tool ${args.slice(0, 3).join(' ')}${netns === undefined ? '' : ` in ${netns}`}`);
    // A spawn failure also closes the process; waitFor then reports it.
    child.once('error', (error) => {
      tool.#stderr += error.message;
    });
    await tool.waitFor((e) => e.event === 'ready', READY_TIMEOUT_MS);
    return tool;
  }

  /** The `ready` event the tool printed. */
  get ready(): ToolEvent {
    const ready = this.events.find((e) => e.event === 'ready');
    if (ready === undefined) throw new Error(`${this.#what} is not ready`);
    return ready;
  }

  /** Whether the process has not ended yet (or could not start). */
  get running(): boolean {
    return !this.#closed;
  }

  /** Writes one line to the tool's stdin. */
  send(line: string): void {
    this.#child.stdin?.write(`${line}\n`);
  }

  /** Closes the tool's stdin: the loop mode then finishes and exits. */
  endInput(): void {
    this.#child.stdin?.end();
  }

  /** The first event (from the start) matching `match`; rejects if the tool exits or `timeoutMs` passes first. */
  async waitFor(match: (event: ToolEvent) => boolean, timeoutMs: number): Promise<ToolEvent> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(match);
      if (found !== undefined) return found;
      if (!this.running) throw new Error(`${this.#what} exited (${this.#child.exitCode ?? this.#child.signalCode}): ${this.#stderr.trim()}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${this.#what}: no matching event within ${timeoutMs} ms; stderr: ${this.#stderr.trim()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for the process to exit by itself. */
  async exited(): Promise<void> {
    await this.#exited;
  }

  /** Ends the process this object started (SIGTERM) and waits for it. */
  async stop(): Promise<void> {
    if (this.running) this.#child.kill('SIGTERM');
    await this.#exited;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
