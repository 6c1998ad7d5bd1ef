/**
 * A fake upstream resolver for tests: the DNS tool's serve mode in a
 * namespace of the test's own, answering A records for a fixed table and
 * recording every query it received.
 */
import { randomBytes } from 'node:crypto';
import { DnsToolProcess } from './dns-tool-process.js';
import type { DnsTransport } from './dns-ask.js';

/** A query as the fake upstream received it. */
export interface ReceivedQuery {
  readonly transport: DnsTransport;
  /** As received: a resolver may change the letters' case. */
  readonly name: string;
  readonly type: string;
}

const MARK_TIMEOUT_MS = 10_000;

export class FakeUpstream {
  readonly #tool: DnsToolProcess;

  private constructor(tool: DnsToolProcess) {
    this.#tool = tool;
  }

  /** The port it listens on, UDP and TCP. */
  get port(): number {
    return Number(this.#tool.ready.port);
  }

  /**
   * Starts the fake resolver on host:port (UDP and TCP; port 0 picks one) inside `netns`,
   * answering each name of `records` (case-insensitively) with its
   * addresses and any other name with NXDOMAIN.
   */
  static async start(netns: string | undefined, host: string, port: number, records: Readonly<Record<string, readonly string[]>>): Promise<FakeUpstream> {
    const args = Object.entries(records).map(([name, addresses]) => `${name}=${addresses.join(',')}`);
    return new FakeUpstream(await DnsToolProcess.start(netns, ['serve', host, String(port), ...args]));
  }

  /**
   * Every query received so far. It first waits until the resolver has
   * printed everything it received before this call, so a query whose
   * answer the caller already has is in the list.
   */
  async received(): Promise<ReceivedQuery[]> {
    const token = randomBytes(6).toString('hex');
    this.#tool.send(`mark ${token}`);
    await this.#tool.waitFor((e) => e.event === 'mark' && e.token === token, MARK_TIMEOUT_MS);
    return this.#tool.events.filter((e) => e.event === 'query').map((e) => ({ transport: e.transport as DnsTransport, name: String(e.name), type: String(e.type) }));
  }

  /** Whether a query for `name` (compared case-insensitively) was received so far. */
  async saw(name: string): Promise<boolean> {
    return (await this.received()).some((q) => q.name.toLowerCase() === name.toLowerCase());
  }

  async stop(): Promise<void> {
    await this.#tool.stop();
  }
}
