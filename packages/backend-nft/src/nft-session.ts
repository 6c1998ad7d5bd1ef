import { randomBytes } from 'node:crypto';
import { execa, type ResultPromise } from 'execa';
import { SerialQueue, unavailable } from '@router-service/core';
import type { NftResult } from './nft-runner.js';

/**
 * Applies one nft JSON batch (`{"nftables": [...]}`) as one transaction and
 * says how it went. A non-zero exit code is a refusal, not an exception.
 */
export type NftTransactor = (batch: string) => Promise<NftResult>;

export interface NftSessionOptions {
  nftPath: string;
  /** Run nft inside this named network namespace, through `ip netns exec`. */
  netns?: string;
  ipPath: string;
  /**
   * Input after which the process is replaced by a fresh one: nft's line
   * editor keeps every line in its history, so its memory grows with what
   * it was sent.
   */
  maxInputBytes?: number;
  /** How long one batch may take before the process is killed and the batch fails. */
  timeoutMs?: number;
}

const DEFAULT_MAX_INPUT_BYTES = 4 * 1024 * 1024;
/**
 * nft's HOME. `nft -i` reads its line editor's history from
 * $HOME/.nft.history when it starts and writes it back when it ends: in
 * root's home, the file would grow with every session, and reading it
 * made each start slower. A home that does not exist (Debian's convention
 * for users without one) has no history to read or write.
 */
const NO_HOME = '/nonexistent';
const DEFAULT_TIMEOUT_MS = 30_000;

/** nft's complaint, bare or after a location (`internal:0:0-0: Error: ...` for JSON). */
const REFUSAL = /^(?:\S*: )?Error: /m;

/** Leading lines of spaces and carets: nft's pointer under the command it complains about. */
const POINTER_LINES = /^(?:[ \t]*\^[ \t^~]*\n)+/;

interface PendingBatch {
  /** The command line after the batch whose echo ends the batch's output. */
  readonly marker: string;
  readonly resolve: (result: NftResult) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * One long-lived `nft -j -i` that applies batches one after another, each
 * line one transaction, so that a change costs no process start: starting
 * nft (and closing its netlink socket, which waits for the kernel) costs
 * ten times more than a small transaction.
 *
 * nft says nothing on success, so each batch is followed by a marker: a
 * listing of a table that cannot exist, named uniquely, whose "No such file"
 * error nft prints on stderr, with the command echoed, after any error of
 * the batch itself. What stderr holds before the marker's error is the
 * batch's; an `Error:` line there means nft refused the batch, and the
 * kernel kept its previous state.
 */
export class NftSession {
  readonly #file: string;
  readonly #argv: readonly string[];
  readonly #maxInputBytes: number;
  readonly #timeoutMs: number;
  /** Marker table names carry it, so that no real table can match. */
  readonly #nonce = randomBytes(6).toString('hex');
  #child: ResultPromise | undefined;
  #stderr = '';
  #inputBytes = 0;
  #batches = 0;
  #pending: PendingBatch | undefined;
  readonly #queue = new SerialQueue();
  #closed = false;

  constructor(options: NftSessionOptions) {
    const nft = [options.nftPath, '-j', '-i'];
    [this.#file, this.#argv] =
      options.netns === undefined ? [options.nftPath, nft.slice(1)] : [options.ipPath, ['netns', 'exec', options.netns, ...nft]];
    this.#maxInputBytes = options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Applies `batch` (one line of nft JSON) after the batches queued before it. */
  readonly apply: NftTransactor = (batch) => {
    if (this.#closed) return Promise.reject(unavailable('the nft session is closed'));
    if (batch.includes('\n')) return Promise.reject(new Error('an nft session batch must be one line of JSON'));
    return this.#queue.run(() => this.#applyNow(batch));
  };

  /** Ends the process once the queued batches are applied; batches after this fail. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue.drain();
    await this.#retire();
  }

  async #applyNow(batch: string): Promise<NftResult> {
    const child = this.#child ?? this.#start();
    const marker = `list table inet rs_marker_${this.#nonce}_${++this.#batches}`;
    const input = `${batch}\n${marker}\n`;
    const result = new Promise<NftResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(`nft did not finish a batch within ${this.#timeoutMs} ms`);
        child.kill('SIGKILL');
      }, this.#timeoutMs);
      this.#pending = { marker, resolve, reject, timer };
    });
    child.stdin?.write(input);
    this.#inputBytes += Buffer.byteLength(input);
    try {
      return await result;
    } finally {
      if (this.#inputBytes >= this.#maxInputBytes) await this.#retire();
    }
  }

  #start(): ResultPromise {
    const child = execa(this.#file, this.#argv, {
      stdin: 'pipe',
      stdout: 'ignore',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      env: { LC_ALL: 'C', HOME: NO_HOME },
    });
    this.#child = child;
    this.#stderr = '';
    this.#inputBytes = 0;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (this.#child !== child) return;
      // The pointer under the previous marker may arrive after it settled.
      this.#stderr = (this.#stderr + chunk).replace(POINTER_LINES, '');
      this.#settleIfMarked();
    });
    // Errors writing to a process that died surface as its exit.
    child.stdin?.on('error', () => undefined);
    // Neither the process nor its pipes keep the daemon alive: nft exits
    // when its stdin closes, also when the daemon is killed.
    child.nodeChildProcess.unref();
    for (const stream of [child.stdin, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
    // 'exit' comes as soon as the process is reaped, before execa's result,
    // so that no batch is written to a process already gone.
    child.nodeChildProcess.once('exit', (code, signal) => {
      if (this.#child !== child) return;
      this.#child = undefined;
      const how = signal !== null ? `signal ${signal}` : `exit code ${String(code)}`;
      this.#fail(`nft exited (${how}): ${this.#stderr.trim() || 'no output'}`);
    });
    void child.catch(() => undefined);
    return child;
  }

  /** Settles the pending batch once its marker's error has arrived on stderr. */
  #settleIfMarked(): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    const markerAt = this.#stderr.indexOf(`\n${pending.marker}\n`);
    if (markerAt < 0) return;
    // The marker's own complaint is the line before its echo.
    const own = this.#stderr.slice(0, this.#stderr.lastIndexOf('\n', markerAt - 1) + 1);
    this.#stderr = this.#stderr.slice(markerAt + pending.marker.length + 2).replace(POINTER_LINES, '');
    this.#pending = undefined;
    clearTimeout(pending.timer);
    pending.resolve({ exitCode: REFUSAL.test(own) ? 1 : 0, stdout: '', stderr: own });
  }

  #fail(message: string): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#pending = undefined;
    clearTimeout(pending.timer);
    pending.reject(unavailable(message));
  }

  /** Ends the current process, if any, so that the next batch starts a fresh one. */
  async #retire(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    // Held while it exits, so that a daemon closing waits for it.
    child.nodeChildProcess.ref();
    child.stdin?.end();
    await child;
  }
}
