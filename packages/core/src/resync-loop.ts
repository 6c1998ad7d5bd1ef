/**
 * Repairs drift: runs a full sync every interval, at once when kicked (a
 * failure anywhere kicks it), and while syncs keep failing retries sooner,
 * backing off exponentially from 500 ms up to the interval.
 */
import { errorMessage, invalid } from './errors.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';

/** The first retry delay after a failure. */
export const MIN_BACKOFF_MS = 500;
/** The longest delay setTimeout honours; longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Doubles a backoff up to limit; capping keeps it bounded however long failures last. */
export function nextBackoff(backoffMs: number, limitMs: number): number {
  return Math.min(backoffMs * 2, limitMs);
}

export interface ResyncLoopOptions {
  sync: () => Promise<void>;
  log?: Logger;
}

export class ResyncLoop {
  readonly #sync: () => Promise<void>;
  readonly #log: Logger;
  #intervalMs = 0;
  #backoffMs = MIN_BACKOFF_MS;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #started = false;
  #stopped = false;
  /** A kick arrived while not started or while a sync was running. */
  #kicked = false;

  constructor(options: ResyncLoopOptions) {
    this.#sync = options.sync;
    this.#log = options.log ?? silentLogger;
  }

  get started(): boolean {
    return this.#started && !this.#stopped;
  }

  /** Starts syncing every intervalMs; a kick that came before start syncs at once. */
  start(intervalMs: number): void {
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
      throw invalid(`resync interval ${intervalMs} ms must be positive`);
    }
    if (this.#started) throw new Error('the resync loop is already started');
    this.#started = true;
    this.#intervalMs = Math.min(intervalMs, MAX_TIMER_MS);
    this.#backoffMs = Math.min(MIN_BACKOFF_MS, this.#intervalMs);
    if (this.#kicked) this.#runNow();
    else this.#schedule(this.#intervalMs);
  }

  /** Asks for a sync now. Kicks during a sync are answered by that sync or its retry. */
  kick(): void {
    if (this.#stopped) return;
    if (!this.#started || this.#running !== undefined) {
      this.#kicked = true;
      return;
    }
    this.#runNow();
  }

  /** Stops the loop and waits for a sync in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#runNow(), delayMs);
    this.#timer.unref();
  }

  #runNow(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#running = this.#runOnce().finally(() => {
      this.#running = undefined;
    });
  }

  async #runOnce(): Promise<void> {
    let failed = false;
    try {
      await this.#sync();
    } catch (err) {
      failed = true;
      this.#log.debug({ err: errorMessage(err) }, 'resync failed; retrying with backoff');
    }
    this.#kicked = false;
    if (this.#stopped) return;
    if (failed) {
      const wait = this.#backoffMs;
      this.#backoffMs = nextBackoff(this.#backoffMs, this.#intervalMs);
      this.#schedule(wait);
    } else {
      this.#backoffMs = Math.min(MIN_BACKOFF_MS, this.#intervalMs);
      this.#schedule(this.#intervalMs);
    }
  }
}
