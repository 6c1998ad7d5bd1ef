/**
 * The real router-service process inside a namespace, serving on a unix
 * socket in a private temporary directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Completed, Netns } from '@router-service/test-support';
import { routerService, type Program } from './artifacts.js';
import { connectRouter, type RouterClient } from './router-client.js';

/** How long the daemon may take to answer after starting (slow under emulation in the helper VM). */
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** The flags every test daemon gets; `extra` are the test's own (e.g. --parent eth0). */
function daemonArgs(stateDir: string, socketPath: string, extra: readonly string[]): string[] {
  return ['--state-dir', stateDir, '--listen', `unix://${socketPath}`, '--resync-interval', '2s', ...extra];
}

export class Daemon {
  readonly socketPath: string;
  readonly client: RouterClient;
  readonly #child: ChildProcess;
  readonly #exited: Promise<Exit>;
  readonly #socketDir: string;
  #output = '';
  #exit: Exit | undefined;

  private constructor(child: ChildProcess, socketDir: string) {
    this.#child = child;
    this.#socketDir = socketDir;
    this.socketPath = join(socketDir, 'router.sock');
    this.client = connectRouter(this.socketPath);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.#output += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.#output += chunk));
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
  }

  /**
   * Starts router-service in ns with its state in stateDir and waits until
   * it answers GetHealth. `extra` flags follow the standard ones; `program`
   * replaces the built one (e.g. the same program under node module hooks).
   */
  static async start(
    ns: Netns,
    stateDir: string,
    extra: readonly string[] = ['--parent', 'eth0'],
    program: Program = routerService(),
  ): Promise<Daemon> {
    const socketDir = await mkdtemp(join(tmpdir(), 'router-service-it-'));
    const argv = ns.execArgv(program.file, [...program.args, ...daemonArgs(stateDir, join(socketDir, 'router.sock'), extra)]);
    const daemon = new Daemon(spawn(argv.file, argv.args, { stdio: ['ignore', 'pipe', 'pipe'] }), socketDir);
    try {
      await daemon.#waitUntilAnswering();
      return daemon;
    } catch (error) {
      await daemon.dispose();
      throw error;
    }
  }

  /** Everything the daemon printed so far (its log). */
  get output(): string {
    return this.#output;
  }

  /** Sends SIGTERM and waits for the process to end. */
  async stop(): Promise<Exit> {
    this.client.close();
    if (this.#exit !== undefined) return this.#exit;
    this.#child.kill('SIGTERM');
    // Unreferenced: a daemon that stops in time must not keep the tests alive for the rest of the wait.
    const timeout = sleep(STOP_TIMEOUT_MS, undefined, { ref: false }).then(() => undefined);
    const exit = await Promise.race([this.#exited, timeout]);
    if (exit === undefined) throw new Error(`router-service did not stop within ${STOP_TIMEOUT_MS} ms of SIGTERM:\n${this.#output}`);
    return exit;
  }

  /** Ends the process whatever its state and removes its socket directory. */
  async dispose(): Promise<void> {
    this.client.close();
    if (this.#exit === undefined) {
      this.#child.kill('SIGKILL');
      await this.#exited;
    }
    await rm(this.#socketDir, { recursive: true, force: true });
  }

  async #waitUntilAnswering(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let lastError: unknown;
    while (Date.now() < deadline) {
      if (this.#exit !== undefined) {
        throw new Error(`router-service exited early (${this.#exit.code ?? this.#exit.signal}):\n${this.#output}`);
      }
      // A fresh client per attempt: a client that failed to connect backs
      // off for seconds before it tries again.
      const probe = connectRouter(this.socketPath);
      try {
        await probe.call('GetHealth', {});
        return;
      } catch (error) {
        lastError = error;
      } finally {
        probe.close();
      }
      await sleep(100);
    }
    throw new Error(`router-service did not answer within ${START_TIMEOUT_MS} ms (${String(lastError)}):\n${this.#output}`);
  }
}

/** Runs router-service in ns with exactly these flags and waits for it to exit (for configuration errors). */
export async function runDaemonToExit(ns: Netns, args: readonly string[]): Promise<Completed> {
  const program = routerService();
  return ns.exec(program.file, [...program.args, ...args]);
}
