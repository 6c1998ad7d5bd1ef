import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

export const routerBin = '/usr/local/bin/router-service';
export const routerctlBin = '/usr/local/bin/routerctl';
export const stateDir = '/run/router-service';
export const unixSocket = '/run/router-service.sock';
export const daemonLog = '/tmp/router-service.log';
export const servicePort = 50052;

/** Short, so that the scenario can watch drift repair. */
const resyncInterval = '2s';
const stopTimeoutMs = 20_000;

/** Daemon is a running router-service writing to the daemon log. */
export class Daemon {
  readonly #child: ChildProcess;
  readonly #exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(child: ChildProcess) {
    this.#child = child;
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  /** stop ends the daemon with SIGTERM and waits for it; anything but a clean exit is an error. */
  async stop(): Promise<Error | null> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) {
      return new Error('router-service had already exited');
    }
    this.#child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), stopTimeoutMs);
    });
    const outcome = await Promise.race([this.#exited, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.#child.kill('SIGKILL');
      await this.#exited;
      return new Error(`router-service did not stop within ${stopTimeoutMs / 1000}s of SIGTERM`);
    }
    if (outcome.signal !== null) {
      return new Error(`router-service ended by signal ${outcome.signal}`);
    }
    return outcome.code === 0 ? null : new Error(`router-service exited with status ${outcome.code}`);
  }
}

/** DaemonOptions are the settings a start may change. */
export interface DaemonOptions {
  /** The state directory; the scenario's own by default. */
  readonly stateDir?: string;
}

/** startDaemon starts router-service as the router, appending its output to the daemon log. */
export async function startDaemon(extra: readonly string[] = [], options: DaemonOptions = {}): Promise<Daemon> {
  const args = [
    '--parent', 'eth0',
    '--state-dir', options.stateDir ?? stateDir,
    '--resync-interval', resyncInterval,
    '--listen', `vsock://:${servicePort}`,
    '--listen', `unix://${unixSocket}`,
    ...extra,
  ];
  const log = openSync(daemonLog, 'a', 0o644);
  try {
    const child = spawn(routerBin, args, { stdio: ['ignore', log, log] });
    const daemon = new Daemon(child);
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) => reject(new Error(`starting router-service: ${error.message}`)));
    });
    return daemon;
  } finally {
    closeSync(log);
  }
}
