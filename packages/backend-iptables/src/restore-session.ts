import { randomBytes } from 'node:crypto';
import { execa, type ResultPromise } from 'execa';
import { SerialQueue, unavailable } from '@router-service/core';
import type { IptablesResult } from './runner.js';

/**
 * Applies one iptables-restore input (`*table` ... `COMMIT` blocks) and
 * says how it went. A non-zero exit code is a refusal, not an exception.
 */
export type IptablesRestorer = (input: string) => Promise<IptablesResult>;

export interface RestoreSessionOptions {
  /** The iptables-restore program of the variant (see VARIANT_TOOLS). */
  restorePath: string;
  /** iptables-restore's options, `--verbose` aside (the session adds it). */
  args: readonly string[];
  /** Run iptables-restore inside this named network namespace, through `ip netns exec`. */
  netns?: string;
  ipPath: string;
  /** How long one input may take before the process is killed and the input fails. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * An input ends with a table's COMMIT: without it, the marker after it
 * would be echoed with the table still open and nothing committed.
 */
const INPUT_END = /(?:^|\n)COMMIT\n$/;

/** Where iptables-restore's complaints name a line of its input: `line 12 failed`, `Error occurred at line: 12`. */
const LINE_NUMBER = /\bline(:?) (\d+)/g;

/**
 * `stderr` with the line numbers iptables-restore counted since it started
 * made relative to the input that failed, whose first line followed
 * `linesBefore` lines.
 */
export function rebaseLineNumbers(stderr: string, linesBefore: number): string {
  return stderr.replace(LINE_NUMBER, (_, colon: string, line: string) => `line${colon} ${Number(line) - linesBefore}`);
}

interface PendingInput {
  /** The comment after the input whose echo on stdout says the input was applied. */
  readonly marker: string;
  /** Lines the process was sent before this input. */
  readonly linesBefore: number;
  readonly resolve: (result: IptablesResult) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

function lineCount(text: string): number {
  let lines = 0;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) lines++;
  return lines;
}

/**
 * One long-lived `iptables-restore --noflush --verbose` that applies inputs
 * one after another, so that a change costs no process start: starting
 * iptables-restore from the daemon forks the whole daemon, and costs more
 * than the commit of a small change.
 *
 * iptables-restore reads its input line by line and commits each table at
 * its `COMMIT` (iptables-nft and iptables-legacy alike, the legacy one
 * taking the xtables lock only from a table's `*` line to its `COMMIT`),
 * and reads the kernel afresh for each table. It says nothing on success,
 * but with `--verbose` it echoes each comment line, at once: a uniquely
 * named comment after an input comes back on stdout only once every
 * `COMMIT` before it succeeded. A refused line ends the process, with its
 * complaint on stderr: the tables committed before it stay, the one it was
 * in is not applied, as with a restore run once; the next input starts a
 * fresh process.
 */
export class RestoreSession {
  readonly #file: string;
  readonly #argv: readonly string[];
  readonly #timeoutMs: number;
  readonly #nonce = randomBytes(6).toString('hex');
  #child: ResultPromise | undefined;
  /** The current process has exited, though its result (and a refusal's complaint) may not be in yet. */
  #childExited = false;
  #stdout = '';
  #stderr = '';
  #linesSent = 0;
  #inputs = 0;
  #pending: PendingInput | undefined;
  readonly #queue = new SerialQueue();
  #closed = false;

  constructor(options: RestoreSessionOptions) {
    const args = [...options.args, '--verbose'];
    [this.#file, this.#argv] =
      options.netns === undefined ? [options.restorePath, args] : [options.ipPath, ['netns', 'exec', options.netns, options.restorePath, ...args]];
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Applies `input` after the inputs queued before it. */
  readonly apply: IptablesRestorer = (input) => {
    if (this.#closed) return Promise.reject(unavailable('the iptables-restore session is closed'));
    if (!INPUT_END.test(input)) return Promise.reject(new Error('an iptables-restore input must end with a COMMIT line'));
    return this.#queue.run(() => this.#applyNow(input));
  };

  /** Ends the process once the queued inputs are applied; inputs after this fail. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue.drain();
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    // Held while it exits, so that a daemon closing waits for it.
    child.nodeChildProcess.ref();
    child.stdin?.end();
    await child;
  }

  #applyNow(input: string): Promise<IptablesResult> {
    const child = this.#child !== undefined && !this.#childExited ? this.#child : this.#start();
    const marker = `# router-service ${this.#nonce} ${++this.#inputs}`;
    const result = new Promise<IptablesResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#settle(undefined, `iptables-restore did not finish an input within ${this.#timeoutMs} ms`);
        if (this.#child === child) this.#child = undefined;
        child.kill('SIGKILL');
      }, this.#timeoutMs);
      this.#pending = { marker, linesBefore: this.#linesSent, resolve, reject, timer };
    });
    child.stdin?.write(`${input}${marker}\n`);
    this.#linesSent += lineCount(input) + 1;
    return result;
  }

  #start(): ResultPromise {
    const child = execa(this.#file, this.#argv, {
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      env: { LC_ALL: 'C' },
    });
    this.#child = child;
    this.#childExited = false;
    this.#stdout = '';
    this.#stderr = '';
    this.#linesSent = 0;
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      if (this.#child !== child) return;
      this.#stdout += chunk;
      this.#settleIfMarked();
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (this.#child === child) this.#stderr += chunk;
    });
    // Errors writing to a process that died surface as its exit.
    child.stdin?.on('error', () => undefined);
    // Neither the process nor its pipes keep the daemon alive:
    // iptables-restore exits when its stdin closes, also when the daemon is killed.
    child.nodeChildProcess.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
    // 'exit' comes as soon as the process is reaped, so that no input is
    // written to a process already gone; the pending input is settled by
    // its result, once a refusal's complaint has been read from stderr.
    child.nodeChildProcess.once('exit', () => {
      if (this.#child === child) this.#childExited = true;
    });
    void child.then((ended) => {
      if (this.#child !== child) return;
      this.#child = undefined;
      if (ended.exitCode === undefined || ended.exitCode === 0) {
        const how = ended.signal !== undefined ? `signal ${ended.signal}` : ended.exitCode === 0 ? 'exit code 0' : ended.shortMessage;
        this.#settle(undefined, `iptables-restore ended (${how}): ${this.#stderr.trim() || 'no output'}`);
      } else {
        const stderr = rebaseLineNumbers(this.#stderr, this.#pending?.linesBefore ?? 0);
        this.#settle({ exitCode: ended.exitCode, stdout: this.#stdout, stderr });
      }
    });
    return child;
  }

  /** Settles the pending input once its marker is echoed. */
  #settleIfMarked(): void {
    const marker = this.#pending?.marker;
    if (marker === undefined) return;
    const markerAt = this.#stdout.indexOf(`${marker}\n`);
    if (markerAt < 0) return;
    const stdout = this.#stdout.slice(0, markerAt);
    this.#stdout = this.#stdout.slice(markerAt + marker.length + 1);
    // Warnings of an input applied belong to it.
    const stderr = this.#stderr;
    this.#stderr = '';
    this.#settle({ exitCode: 0, stdout, stderr });
  }

  /** Resolves the pending input with `result`, or rejects it with `failure`. */
  #settle(result: IptablesResult | undefined, failure?: string): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#pending = undefined;
    clearTimeout(pending.timer);
    if (result !== undefined) pending.resolve(result);
    else pending.reject(unavailable(failure ?? 'iptables-restore failed'));
  }
}
