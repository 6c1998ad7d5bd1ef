/**
 * A client that queries a resolver continuously from inside a namespace
 * (the DNS tool's loop mode) while a test changes records: it counts
 * every failed query, and reports when each watched name appeared or went.
 */
import type { DnsTransport } from './dns-ask.js';
import { DnsToolProcess, type ToolEvent } from './dns-tool-process.js';

export interface DnsQueryLoopOptions {
  readonly server: string;
  /** 53 unless given. */
  readonly port?: number;
  /** How long one query may wait for its answer; 2 s unless given. */
  readonly timeoutMs?: number;
  /** Ask the stable name over UDP, TCP or both in each round. */
  readonly transports: DnsTransport | 'both';
  /** A name that exists all along, and one of its addresses. */
  readonly stableName: string;
  readonly stableAddress: string;
}

/** What the loop counted, from its summary line. */
export interface DnsLoopSummary {
  readonly queries: number;
  readonly stableQueries: number;
  /** Queries without a valid answer, and stable-name answers without the stable address. */
  readonly failures: number;
  readonly appeared: number;
  readonly gone: number;
  /** Watched names that did not appear or go in time. */
  readonly late: number;
}

const SUMMARY_TIMEOUT_MS = 30_000;

export class DnsQueryLoop {
  readonly #tool: DnsToolProcess;

  private constructor(tool: DnsToolProcess) {
    this.#tool = tool;
  }

  static async start(netns: string | undefined, options: DnsQueryLoopOptions): Promise<DnsQueryLoop> {
    const args = ['loop', options.server, String(options.port ?? 53), String(options.timeoutMs ?? 2000), options.transports, options.stableName, options.stableAddress];
    return new DnsQueryLoop(await DnsToolProcess.start(netns, args));
  }

  /** Watch `name` until it answers with `address`. */
  expect(name: string, address: string): void {
    this.#tool.send(`expect ${name} ${address}`);
  }

  /** Watch `name` until it answers NXDOMAIN. */
  expectGone(name: string): void {
    this.#tool.send(`gone ${name}`);
  }

  /**
   * Waits until `name` was reported as appeared; rejects when it was
   * reported late instead, or after `timeoutMs`.
   */
  async appeared(name: string, timeoutMs: number): Promise<void> {
    const event = await this.#tool.waitFor((e) => (e.event === 'appeared' || e.event === 'late') && e.name === name, timeoutMs);
    if (event.event === 'late') throw new Error(`${name} did not appear: ${JSON.stringify(event)}`);
  }

  /** Every event so far: failures, appearances, late names. */
  get events(): readonly ToolEvent[] {
    return this.#tool.events;
  }

  /** Ends the input, lets the loop finish its watches, and returns its counts. */
  async finish(): Promise<DnsLoopSummary> {
    this.#tool.endInput();
    const summary = await this.#tool.waitFor((e) => e.event === 'summary', SUMMARY_TIMEOUT_MS);
    await this.#tool.exited();
    return summary as unknown as DnsLoopSummary;
  }

  /** Ends the loop process, if still running. */
  async stop(): Promise<void> {
    await this.#tool.stop();
  }
}
