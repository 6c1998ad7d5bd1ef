/**
 * The little of the DNS wire format (RFC 1035) the tests speak: queries and
 * answers for A and PTR records, NXDOMAIN, name compression when reading,
 * and the two-byte length prefix of DNS over TCP. Enough to ask a resolver
 * and to play one; anything else in a message is carried as raw bytes.
 */

/** Record types by name, for the ones the tests ask about. */
export const DNS_TYPES = { A: 1, PTR: 12 } as const;
export type DnsQueryType = keyof typeof DNS_TYPES;

/** Response codes by number, as dig names them. */
export const RCODES: readonly string[] = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
export const NOERROR = 0;
export const NXDOMAIN = 3;
const CLASS_IN = 1;
const HEADER_BYTES = 12;
const MAX_LABEL = 63;
const MAX_NAME_BYTES = 255;

/** A question: the name as written (no trailing dot) and the numeric type. */
export interface DnsQuestion {
  readonly name: string;
  readonly type: number;
}

/** A resource record of the answer section. */
export interface DnsRecord {
  readonly name: string;
  readonly type: number;
  readonly ttl: number;
  /** A: the dotted quad; PTR: the name it points to; other types: the rdata in hex. */
  readonly data: string;
}

/** A decoded message: the header fields the tests look at, questions and answers. */
export interface DnsMessage {
  readonly id: number;
  readonly response: boolean;
  readonly authoritative: boolean;
  readonly truncated: boolean;
  readonly recursionDesired: boolean;
  readonly recursionAvailable: boolean;
  readonly rcode: number;
  readonly questions: readonly DnsQuestion[];
  readonly answers: readonly DnsRecord[];
}

/** The name whose PTR record holds the name of an IPv4 address: `4.3.2.1.in-addr.arpa`. */
export function reverseName(address: string): string {
  const octets = address.split('.');
  if (octets.length !== 4 || octets.some((o) => !/^\d{1,3}$/.test(o) || Number(o) > 255)) throw new Error(`not an IPv4 address: ${address}`);
  return `${octets.reverse().join('.')}.in-addr.arpa`;
}

/** A name in wire form: length-prefixed labels and the root's zero. */
export function encodeName(name: string): Buffer {
  const labels = name === '' || name === '.' ? [] : name.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'utf8');
    if (bytes.length === 0 || bytes.length > MAX_LABEL) throw new Error(`bad label in ${JSON.stringify(name)}`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  const wire = Buffer.concat(parts);
  if (wire.length > MAX_NAME_BYTES) throw new Error(`name too long: ${JSON.stringify(name)}`);
  return wire;
}

function header(id: number, flags: number, counts: readonly [number, number, number, number]): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(flags, 2);
  counts.forEach((count, i) => h.writeUInt16BE(count, 4 + 2 * i));
  return h;
}

function questionBytes(q: DnsQuestion): Buffer {
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(q.type, 0);
  tail.writeUInt16BE(CLASS_IN, 2);
  return Buffer.concat([encodeName(q.name), tail]);
}

const FLAG_QR = 0x8000;
const FLAG_AA = 0x0400;
const FLAG_TC = 0x0200;
const FLAG_RD = 0x0100;
const FLAG_RA = 0x0080;

/** A standard query for one question, recursion desired. */
export function encodeQuery(id: number, question: DnsQuestion): Buffer {
  return Buffer.concat([header(id, FLAG_RD, [1, 0, 0, 0]), questionBytes(question)]);
}

/** What a resolver answers to a query: a response code and A records for the question's name. */
export interface DnsReply {
  readonly rcode: number;
  readonly addresses: readonly string[];
  readonly ttl: number;
}

/**
 * The response to `query` (its first question): its id, RD copied, RA
 * set, the A records pointing back at the question's name.
 */
export function encodeResponse(query: DnsMessage, reply: DnsReply): Buffer {
  const question = query.questions[0];
  const flags = FLAG_QR | FLAG_RA | (query.recursionDesired ? FLAG_RD : 0) | (reply.rcode & 0xf);
  if (question === undefined) return header(query.id, flags, [0, 0, 0, 0]);
  const answers = reply.addresses.map((address) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc000 | HEADER_BYTES, 0); // the question's name
    rr.writeUInt16BE(DNS_TYPES.A, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(reply.ttl, 6);
    rr.writeUInt16BE(4, 10);
    address.split('.').forEach((octet, i) => rr.writeUInt8(Number(octet), 12 + i));
    return rr;
  });
  return Buffer.concat([header(query.id, flags, [1, answers.length, 0, 0]), questionBytes(question), ...answers]);
}

/** Reads messages from a byte buffer, throwing on anything malformed or truncated. */
class Reader {
  readonly #buf: Buffer;
  offset = 0;

  constructor(buf: Buffer) {
    this.#buf = buf;
  }

  #need(n: number, at = this.offset): void {
    if (at + n > this.#buf.length) throw new Error(`DNS message truncated at byte ${at}`);
  }

  u8(): number {
    this.#need(1);
    return this.#buf.readUInt8(this.offset++);
  }

  u16(): number {
    this.#need(2);
    const v = this.#buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.#need(4);
    const v = this.#buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  bytes(n: number): Buffer {
    this.#need(n);
    const b = this.#buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return b;
  }

  /** A possibly compressed name (RFC 1035 4.1.4); pointers may only point backwards. */
  name(): string {
    const labels: string[] = [];
    let at = this.offset;
    let resumeAt: number | undefined;
    for (;;) {
      this.#need(1, at);
      const length = this.#buf.readUInt8(at);
      if ((length & 0xc0) === 0xc0) {
        this.#need(2, at);
        const target = this.#buf.readUInt16BE(at) & 0x3fff;
        if (target >= at) throw new Error(`DNS name pointer at byte ${at} does not point backwards`);
        resumeAt ??= at + 2;
        at = target;
        continue;
      }
      if (length > MAX_LABEL) throw new Error(`bad DNS label length ${length} at byte ${at}`);
      if (length === 0) break;
      this.#need(length, at + 1);
      labels.push(this.#buf.toString('latin1', at + 1, at + 1 + length));
      at += 1 + length;
    }
    this.offset = resumeAt ?? at + 1;
    return labels.join('.');
  }
}

function recordData(reader: Reader, type: number, length: number): string {
  const end = reader.offset + length;
  let data: string;
  if (type === DNS_TYPES.A && length === 4) data = [...reader.bytes(4)].join('.');
  else if (type === DNS_TYPES.PTR) data = reader.name();
  else data = reader.bytes(length).toString('hex');
  if (reader.offset !== end) throw new Error(`DNS record of type ${type} has ${length} bytes of data, read ${length + reader.offset - end}`);
  return data;
}

/** Decodes a whole message (without a TCP length prefix). */
export function decodeMessage(buf: Buffer): DnsMessage {
  const reader = new Reader(buf);
  const id = reader.u16();
  const flags = reader.u16();
  const [qdcount, ancount] = [reader.u16(), reader.u16()];
  reader.u16(); // authority records: skipped with everything after the answers
  reader.u16();
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < qdcount; i++) {
    const name = reader.name();
    const type = reader.u16();
    reader.u16();
    questions.push({ name, type });
  }
  const answers: DnsRecord[] = [];
  for (let i = 0; i < ancount; i++) {
    const name = reader.name();
    const type = reader.u16();
    reader.u16();
    const ttl = reader.u32();
    const length = reader.u16();
    answers.push({ name, type, ttl, data: recordData(reader, type, length) });
  }
  return {
    id,
    response: (flags & FLAG_QR) !== 0,
    authoritative: (flags & FLAG_AA) !== 0,
    truncated: (flags & FLAG_TC) !== 0,
    recursionDesired: (flags & FLAG_RD) !== 0,
    recursionAvailable: (flags & FLAG_RA) !== 0,
    rcode: flags & 0xf,
    questions,
    answers,
  };
}

/** A message with the two-byte length prefix of DNS over TCP (RFC 1035 4.2.2). */
export function frameTcp(message: Buffer): Buffer {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(message.length, 0);
  return Buffer.concat([prefix, message]);
}

/**
 * Collects length-prefixed messages from a TCP stream: `push` each chunk
 * as it arrives and get back the messages it completed.
 */
export class TcpMessageReader {
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.#pending = Buffer.concat([this.#pending, chunk]);
    const messages: Buffer[] = [];
    while (this.#pending.length >= 2) {
      const length = this.#pending.readUInt16BE(0);
      if (this.#pending.length < 2 + length) break;
      messages.push(this.#pending.subarray(2, 2 + length));
      this.#pending = this.#pending.subarray(2 + length);
    }
    return messages;
  }
}

/** The name of a response code, or its number when it has none here. */
export function rcodeName(rcode: number): string {
  return RCODES[rcode] ?? String(rcode);
}
