/**
 * Asking a resolver one question over UDP or TCP from this process, and
 * what came back as plain JSON: the response code by name and the data of
 * the answer records of the asked type. A question that gets no answer is
 * a result too (rcode TIMEOUT or ERROR), so that a caller counts failures
 * instead of catching them.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { DNS_TYPES, TcpMessageReader, decodeMessage, encodeQuery, frameTcp, rcodeName, reverseName, type DnsMessage, type DnsQueryType } from './dns-wire.js';

export type DnsTransport = 'udp' | 'tcp';

/** One question to ask. For PTR, `name` is the IPv4 address whose name is asked. */
export interface DnsQuestionSpec {
  readonly transport: DnsTransport;
  readonly type: DnsQueryType;
  readonly name: string;
}

/** Where to ask, and how long to wait for the answer. */
export interface DnsServerSpec {
  readonly server: string;
  readonly port: number;
  readonly timeoutMs: number;
}

/** The outcome of one question. */
export interface DnsResult extends DnsQuestionSpec {
  /** NOERROR, NXDOMAIN, REFUSED...; TIMEOUT when no answer came in time; ERROR when the exchange failed. */
  readonly rcode: string;
  /** The data of the answer records of the asked type, in the order received. */
  readonly answers: readonly string[];
  readonly authoritative: boolean;
  /** Why the exchange failed, for TIMEOUT and ERROR. */
  readonly error?: string;
}

/** Parses `udp:A:web` or `tcp:PTR:172.18.0.5`, the form the DNS tool takes on its command line. */
export function parseQuestionSpec(text: string): DnsQuestionSpec {
  const [transport, type, ...rest] = text.split(':');
  const name = rest.join(':');
  if ((transport !== 'udp' && transport !== 'tcp') || (type !== 'A' && type !== 'PTR') || name === '') {
    throw new Error(`bad question ${JSON.stringify(text)}: want udp|tcp:A|PTR:NAME`);
  }
  return { transport, type, name };
}

/** The inverse of parseQuestionSpec. */
export function formatQuestionSpec(q: DnsQuestionSpec): string {
  return `${q.transport}:${q.type}:${q.name}`;
}

function exchangeUdp(server: DnsServerSpec, id: number, query: Buffer): Promise<DnsMessage> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const done = (finish: () => void) => {
      clearTimeout(timer);
      socket.close();
      finish();
    };
    const timer = setTimeout(() => done(() => reject(new TimeoutError())), server.timeoutMs);
    socket.on('error', (error) => done(() => reject(error)));
    socket.on('message', (packet) => {
      let message: DnsMessage;
      try {
        message = decodeMessage(packet);
      } catch (error) {
        done(() => reject(error));
        return;
      }
      // A stray datagram (another id) is not the answer: keep waiting.
      if (message.response && message.id === id) done(() => resolve(message));
    });
    socket.send(query, server.port, server.server);
  });
}

function exchangeTcp(server: DnsServerSpec, query: Buffer): Promise<DnsMessage> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: server.server, port: server.port });
    const reader = new TcpMessageReader();
    const done = (finish: () => void) => {
      clearTimeout(timer);
      socket.destroy();
      finish();
    };
    const timer = setTimeout(() => done(() => reject(new TimeoutError())), server.timeoutMs);
    socket.on('connect', () => socket.write(frameTcp(query)));
    socket.on('error', (error) => done(() => reject(error)));
    socket.on('end', () => done(() => reject(new Error('connection closed before an answer'))));
    socket.on('data', (chunk: Buffer) => {
      const [first] = reader.push(chunk);
      if (first === undefined) return;
      try {
        const message = decodeMessage(first);
        done(() => resolve(message));
      } catch (error) {
        done(() => reject(error));
      }
    });
  });
}

class TimeoutError extends Error {
  constructor() {
    super('no answer in time');
    this.name = 'TimeoutError';
  }
}

let nextId = Math.floor(Math.random() * 0xffff);

/** Asks one question and waits for its answer; never rejects. */
export async function askDns(server: DnsServerSpec, question: DnsQuestionSpec): Promise<DnsResult> {
  const id = (nextId = (nextId + 1) & 0xffff);
  const type = DNS_TYPES[question.type];
  const qname = question.type === 'PTR' ? reverseName(question.name) : question.name;
  const query = encodeQuery(id, { name: qname, type });
  try {
    const message = question.transport === 'udp' ? await exchangeUdp(server, id, query) : await exchangeTcp(server, query);
    return {
      ...question,
      rcode: rcodeName(message.rcode),
      answers: message.answers.filter((a) => a.type === type).map((a) => a.data),
      authoritative: message.authoritative,
    };
  } catch (error) {
    const timeout = error instanceof TimeoutError;
    return { ...question, rcode: timeout ? 'TIMEOUT' : 'ERROR', answers: [], authoritative: false, error: error instanceof Error ? error.message : String(error) };
  }
}
