/**
 * A stub resolver on one UDP socket: A queries to one server, many in
 * flight, each matched to its answer by id and question. A query that gets
 * no answer in time resolves as unanswered; it never rejects, so callers
 * count failures instead of catching them.
 */
import { createSocket, type Socket } from 'node:dgram';
import { DNS_TYPES, decodeMessage, encodeQuery, rcodeName } from '@router-service/test-support';

/** What came back for one query. */
export type Reply =
  | { readonly kind: 'answer'; readonly rcode: string; readonly addresses: readonly string[] }
  | { readonly kind: 'unanswered' };

interface Pending {
  readonly name: string;
  readonly deadline: number;
  readonly resolve: (reply: Reply) => void;
}

/** How often expired queries are looked for: the resolution of a timeout. */
const SWEEP_INTERVAL_MS = 5;

/** Whether `reply` is NOERROR holding `address`. */
export function answers(reply: Reply, address: string): boolean {
  return reply.kind === 'answer' && reply.rcode === 'NOERROR' && reply.addresses.includes(address);
}

/** A reply as a few words for a failure message. */
export function describeReply(reply: Reply): string {
  return reply.kind === 'unanswered' ? 'no answer in time' : `${reply.rcode} [${reply.addresses.join(', ')}]`;
}

export class UdpResolver {
  readonly #socket: Socket;
  readonly #server: string;
  readonly #port: number;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  readonly #sweeper: NodeJS.Timeout;
  #nextId = Math.floor(Math.random() * 0x10000);

  private constructor(socket: Socket, server: string, port: number, timeoutMs: number) {
    this.#socket = socket;
    this.#server = server;
    this.#port = port;
    this.#timeoutMs = timeoutMs;
    socket.on('message', (packet) => this.#receive(packet));
    this.#sweeper = setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
  }

  /** Binds a socket for queries to server:port. */
  static async open(server: string, port: number, timeoutMs: number): Promise<UdpResolver> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // An unconnected socket: the kernel does not report ICMP errors on it,
    // so a resolver that is down shows as unanswered queries, as it would to
    // a container's stub resolver.
    socket.on('error', () => undefined);
    return new UdpResolver(socket, server, port, timeoutMs);
  }

  /** Asks for the A records of `name`. */
  ask(name: string): Promise<Reply> {
    const id = this.#freeId();
    return new Promise((resolve) => {
      this.#pending.set(id, { name: name.toLowerCase(), deadline: performance.now() + this.#timeoutMs, resolve });
      this.#socket.send(encodeQuery(id, { name, type: DNS_TYPES.A }), this.#port, this.#server);
    });
  }

  /** Closes the socket; queries still in flight resolve as unanswered. */
  close(): void {
    clearInterval(this.#sweeper);
    for (const pending of this.#pending.values()) pending.resolve({ kind: 'unanswered' });
    this.#pending.clear();
    this.#socket.close();
  }

  #freeId(): number {
    if (this.#pending.size >= 0x10000) throw new Error('65,536 queries in flight: no free DNS id');
    do this.#nextId = (this.#nextId + 1) & 0xffff;
    while (this.#pending.has(this.#nextId));
    return this.#nextId;
  }

  #receive(packet: Buffer): void {
    let message;
    try {
      message = decodeMessage(packet);
    } catch {
      return; // Not a DNS message we can read: no query of ours is answered by it.
    }
    const pending = this.#pending.get(message.id);
    // A late answer to an earlier query with the same id names another question.
    if (!message.response || pending === undefined || message.questions[0]?.name.toLowerCase() !== pending.name) return;
    this.#pending.delete(message.id);
    const addresses = message.answers.filter((a) => a.type === DNS_TYPES.A).map((a) => a.data);
    pending.resolve({ kind: 'answer', rcode: rcodeName(message.rcode), addresses });
  }

  #sweep(): void {
    const now = performance.now();
    for (const [id, pending] of this.#pending) {
      if (pending.deadline <= now) {
        this.#pending.delete(id);
        pending.resolve({ kind: 'unanswered' });
      }
    }
  }
}
