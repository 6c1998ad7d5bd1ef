/**
 * One network's dnsmasq, started in the foreground through execa and kept
 * running: when it exits without being asked to, it is started again after
 * a delay that doubles with each quick failure. Each line it logs goes to
 * our logger; each exit is logged with its status and its last lines.
 */
import { rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { execa, type Result, type ResultPromise } from 'execa';
import type { Logger } from '@router-service/core';
import { readPidFile } from './processes.js';
import { BACKEND_NAME } from './validate.js';

/** A program and its arguments. */
export interface Command {
  readonly file: string;
  readonly args: readonly string[];
}

/** How restarts are spaced. */
export interface BackoffPolicy {
  /** The delay after the first failure; it doubles after each further one. */
  readonly initialMs: number;
  readonly maxMs: number;
  /** A run at least this long resets the delay to initialMs. */
  readonly stableAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 5000, stableAfterMs: 10_000 };

export interface SupervisorOptions {
  readonly vlan: number;
  readonly command: Command;
  /** The pid file the command makes dnsmasq write: a started dnsmasq writes it once it listens. */
  readonly pidFile: string;
  readonly log: Logger;
  readonly backoff: BackoffPolicy;
  /** How long a stopped dnsmasq has after SIGTERM before SIGKILL. */
  readonly stopGraceMs: number;
}

/** How long a started dnsmasq may take to write its pid file. */
const START_TIMEOUT_MS = 10_000;
const POLL_MS = 10;
/** The last lines of output kept for the exit report. */
const TAIL_LINES = 10;
/** Lines that report a problem; everything else dnsmasq says is debug. */
const PROBLEM = /\b(warning|failed|failure|error|unknown|bad|cannot|illegal|refused)\b/i;
const PREFIX = /^dnsmasq(\[\d+\])?: /;

interface Run {
  readonly subprocess: ResultPromise;
  readonly startedAt: number;
  readonly tail: string[];
  /** Settles once the exit is handled (pid file removed, restart planned). */
  readonly handled: Promise<void>;
  exited: boolean;
}

export class DnsmasqSupervisor {
  readonly #options: SupervisorOptions;
  #run: Run | undefined;
  #stopped = false;
  #restartTimer: NodeJS.Timeout | undefined;
  #failures = 0;

  constructor(options: SupervisorOptions) {
    this.#options = options;
  }

  /** The pid of the running dnsmasq, if one runs. */
  get pid(): number | undefined {
    return this.#run?.exited === false ? this.#run.subprocess.pid : undefined;
  }

  /**
   * Starts dnsmasq and resolves once it wrote its pid file; rejects when it
   * exits first or does not get there in time (supervision goes on either way).
   */
  start(): Promise<void> {
    return this.#spawn();
  }

  /** Stops supervising and ends the running dnsmasq: SIGTERM, then SIGKILL after the grace. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    const run = this.#run;
    if (run === undefined) return;
    if (!run.exited) run.subprocess.kill('SIGTERM');
    await run.handled;
  }

  #spawn(): Promise<void> {
    const { command, stopGraceMs } = this.#options;
    const subprocess = execa(command.file, command.args, {
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      forceKillAfterDelay: stopGraceMs,
      env: { LC_ALL: 'C' },
    });
    const tail: string[] = [];
    const run: Run = { subprocess, startedAt: performance.now(), tail, exited: false, handled: subprocess.then((result) => this.#exited(run, result)) };
    this.#run = run;
    if (subprocess.stderr !== null) createInterface({ input: subprocess.stderr }).on('line', (line) => this.#forward(run, line));
    return this.#listening(run);
  }

  #forward(run: Run, line: string): void {
    run.tail.push(line);
    if (run.tail.length > TAIL_LINES) run.tail.shift();
    const fields = { backend: BACKEND_NAME, vlan: this.#options.vlan, pid: run.subprocess.pid };
    const message = line.replace(PREFIX, '');
    if (PROBLEM.test(message)) this.#options.log.warn(fields, `dnsmasq: ${message}`);
    else this.#options.log.debug(fields, `dnsmasq: ${message}`);
  }

  /** Resolves once the pid file holds the run's pid. */
  async #listening(run: Run): Promise<void> {
    const deadline = performance.now() + START_TIMEOUT_MS;
    const pid = run.subprocess.pid;
    while (!run.exited) {
      if (pid !== undefined && (await readPidFile(this.#options.pidFile)) === pid) return;
      if (performance.now() > deadline) throw new Error(`dnsmasq ${pid} wrote no pid file in ${START_TIMEOUT_MS} ms: ${run.tail.join(' | ')}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    await run.handled;
    throw new Error(`dnsmasq exited at start: ${run.tail.join(' | ') || 'no output'}`);
  }

  async #exited(run: Run, result: Result): Promise<void> {
    run.exited = true;
    const pid = run.subprocess.pid;
    // The file is ours to remove once our process is gone; dnsmasq, which
    // may have dropped root, cannot.
    if (pid !== undefined && (await readPidFile(this.#options.pidFile).catch(() => undefined)) === pid) {
      await rm(this.#options.pidFile, { force: true }).catch(() => undefined);
    }
    if (this.#stopped || this.#run !== run) return;
    const { backoff, log, vlan } = this.#options;
    const uptimeMs = Math.round(performance.now() - run.startedAt);
    if (uptimeMs >= backoff.stableAfterMs) this.#failures = 0;
    const delayMs = Math.min(backoff.maxMs, backoff.initialMs * 2 ** this.#failures);
    this.#failures++;
    log.warn(
      {
        backend: BACKEND_NAME,
        vlan,
        pid,
        exitCode: result.exitCode,
        signal: result.signal,
        uptimeMs,
        restartInMs: delayMs,
        output: run.tail.join('\n'),
        ...(result.exitCode === undefined && result.signal === undefined ? { error: result.shortMessage } : {}),
      },
      'dnsmasq exited; restarting it',
    );
    this.#restartTimer = setTimeout(() => {
      if (this.#stopped) return;
      this.#spawn().catch((error: unknown) => {
        log.debug({ backend: BACKEND_NAME, vlan, error: error instanceof Error ? error.message : String(error) }, 'dnsmasq restart failed');
      });
    }, delayMs);
  }
}
