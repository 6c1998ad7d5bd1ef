/**
 * A DNS program to run inside a test namespace (`ip netns exec NS node
 * dns-tool.js MODE ...`); it prints JSON lines on stdout.
 *
 *   serve HOST PORT [NAME=ADDR[,ADDR...]]...
 *     A fake resolver on UDP and TCP: A records for the given names
 *     (case-insensitively), NXDOMAIN for any other name, an empty NOERROR
 *     for other types of a known name. PORT 0 picks a free port. Prints
 *     {"event":"ready","port":PORT} once both sockets listen, then
 *     {"event":"query",...} for every query received, before answering
 *     it. A stdin line `mark TOKEN` is echoed as
 *     {"event":"mark","token":TOKEN}: once the mark is read, every query
 *     received before it has been read too.
 *
 *   query SERVER PORT TIMEOUT_MS QUESTION...
 *     Asks each question (udp|tcp:A|PTR:NAME, see parseQuestionSpec) in
 *     turn and prints one DnsResult per question.
 *
 *   loop SERVER PORT TIMEOUT_MS TRANSPORTS STABLE_NAME STABLE_ADDRESS
 *     Asks STABLE_NAME over each of TRANSPORTS (udp, tcp or both) again
 *     and again; each answer other than NOERROR with STABLE_ADDRESS among
 *     the addresses is a failure, printed as {"event":"failure",...}.
 *     Stdin lines `expect NAME ADDRESS` and `gone NAME` add names to watch
 *     between the rounds until NAME answers with ADDRESS, or answers
 *     NXDOMAIN ({"event":"appeared"|"gone","name","afterMs"}); a watch
 *     older than WATCH_LIMIT_MS is printed as {"event":"late",...} and
 *     dropped. At the end of stdin the loop finishes the watches, prints
 *     {"event":"summary",...} and exits.
 */
import { createSocket } from 'node:dgram';
import { createServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { askDns, parseQuestionSpec, type DnsResult, type DnsServerSpec, type DnsTransport } from './dns-ask.js';
import { DNS_TYPES, NOERROR, NXDOMAIN, TcpMessageReader, decodeMessage, encodeResponse, frameTcp, type DnsMessage } from './dns-wire.js';

/** How long a watched name may take to appear or go before it counts as late. */
const WATCH_LIMIT_MS = 10_000;
const FAKE_TTL = 60;

function print(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function typeName(type: number): string {
  return Object.entries(DNS_TYPES).find(([, value]) => value === type)?.[0] ?? String(type);
}

/** Parses NAME=ADDR[,ADDR...] arguments into lower-case name -> addresses. */
function parseRecords(args: readonly string[]): Map<string, string[]> {
  const records = new Map<string, string[]>();
  for (const arg of args) {
    const [name, addresses] = arg.split('=');
    if (name === undefined || addresses === undefined) throw new Error(`bad record ${JSON.stringify(arg)}: want NAME=ADDR[,ADDR...]`);
    records.set(name.toLowerCase(), addresses.split(','));
  }
  return records;
}

function serve(host: string, port: number, records: ReadonlyMap<string, readonly string[]>): void {
  const answer = (query: DnsMessage, transport: DnsTransport): Buffer => {
    const question = query.questions[0];
    const name = question?.name ?? '';
    print({ event: 'query', transport, name, type: typeName(question?.type ?? 0) });
    const addresses = records.get(name.toLowerCase());
    if (addresses === undefined) return encodeResponse(query, { rcode: NXDOMAIN, addresses: [], ttl: FAKE_TTL });
    return encodeResponse(query, { rcode: NOERROR, addresses: question?.type === DNS_TYPES.A ? addresses : [], ttl: FAKE_TTL });
  };
  const udp = createSocket('udp4');
  udp.on('message', (packet, peer) => {
    try {
      udp.send(answer(decodeMessage(packet), 'udp'), peer.port, peer.address);
    } catch (error) {
      print({ event: 'bad-query', transport: 'udp', error: String(error) });
    }
  });
  const tcp = createServer((connection) => {
    const reader = new TcpMessageReader();
    connection.on('error', () => connection.destroy());
    connection.on('data', (chunk: Buffer) => {
      for (const message of reader.push(chunk)) {
        try {
          connection.write(frameTcp(answer(decodeMessage(message), 'tcp')));
        } catch (error) {
          print({ event: 'bad-query', transport: 'tcp', error: String(error) });
          connection.destroy();
        }
      }
    });
  });
  // TCP first: with port 0 it picks the port, and UDP takes the same one.
  tcp.listen(port, host, () => {
    const bound = (tcp.address() as AddressInfo).port;
    udp.bind(bound, host, () => print({ event: 'ready', port: bound }));
  });
  createInterface({ input: process.stdin }).on('line', (line) => {
    const [command, token] = line.split(' ');
    if (command === 'mark') print({ event: 'mark', token });
  });
}

async function query(server: DnsServerSpec, questions: readonly string[]): Promise<void> {
  for (const text of questions) print({ ...(await askDns(server, parseQuestionSpec(text))) });
}

interface Watch {
  readonly kind: 'expect' | 'gone';
  readonly name: string;
  readonly address: string;
  readonly since: number;
}

function watchSatisfied(watch: Watch, result: DnsResult): boolean {
  return watch.kind === 'expect' ? result.rcode === 'NOERROR' && result.answers.includes(watch.address) : result.rcode === 'NXDOMAIN';
}

/** A watched name's answer that is neither the old nor the new state of a name is a failure too. */
function watchAnswerValid(result: DnsResult): boolean {
  return result.rcode === 'NOERROR' || result.rcode === 'NXDOMAIN';
}

async function loop(server: DnsServerSpec, transports: readonly DnsTransport[], stableName: string, stableAddress: string): Promise<void> {
  const watches: Watch[] = [];
  let inputEnded = false;
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const [kind, name, address] = line.split(' ');
    if ((kind === 'expect' || kind === 'gone') && name !== undefined) watches.push({ kind, name, address: address ?? '', since: performance.now() });
  });
  lines.on('close', () => {
    inputEnded = true;
  });
  const counts = { queries: 0, stableQueries: 0, failures: 0, appeared: 0, gone: 0, late: 0 };
  const fail = (result: DnsResult, why: string) => {
    counts.failures++;
    print({ event: 'failure', why, ...result });
  };
  print({ event: 'ready' });
  while (!inputEnded || watches.length > 0) {
    for (const transport of transports) {
      const result = await askDns(server, { transport, type: 'A', name: stableName });
      counts.queries++;
      counts.stableQueries++;
      if (result.rcode !== 'NOERROR' || !result.answers.includes(stableAddress)) fail(result, `${stableName} did not answer ${stableAddress}`);
    }
    for (const watch of [...watches]) {
      // Watched names take the transports in turn.
      const transport = transports[counts.queries % transports.length] ?? 'udp';
      const result = await askDns(server, { transport, type: 'A', name: watch.name });
      counts.queries++;
      const age = performance.now() - watch.since;
      let done = false;
      if (!watchAnswerValid(result)) fail(result, `watched name ${watch.name} got no valid answer`);
      else if (watchSatisfied(watch, result)) {
        counts[watch.kind === 'expect' ? 'appeared' : 'gone']++;
        print({ event: watch.kind === 'expect' ? 'appeared' : 'gone', name: watch.name, afterMs: Math.round(age * 1000) / 1000 });
        done = true;
      }
      if (!done && age > WATCH_LIMIT_MS) {
        counts.late++;
        print({ event: 'late', kind: watch.kind, name: watch.name, address: watch.address, last: result });
        done = true;
      }
      if (done) watches.splice(watches.indexOf(watch), 1);
    }
    // Yield so that stdin lines are read between rounds.
    await new Promise((resolve) => setImmediate(resolve));
  }
  print({ event: 'summary', ...counts });
}

function transportsOf(text: string): DnsTransport[] {
  if (text === 'both') return ['udp', 'tcp'];
  if (text === 'udp' || text === 'tcp') return [text];
  throw new Error(`bad transports ${JSON.stringify(text)}: want udp, tcp or both`);
}

async function main(argv: readonly string[]): Promise<void> {
  const [mode, ...args] = argv;
  if (mode === 'serve') {
    const [host, port, ...records] = args;
    serve(host ?? '0.0.0.0', Number(port ?? 53), parseRecords(records));
    return;
  }
  const [server, port, timeoutMs, ...rest] = args;
  const spec: DnsServerSpec = { server: server ?? '127.0.0.1', port: Number(port ?? 53), timeoutMs: Number(timeoutMs ?? 2000) };
  if (mode === 'query') return query(spec, rest);
  if (mode === 'loop') {
    const [transports, stableName, stableAddress] = rest;
    if (stableName === undefined || stableAddress === undefined) throw new Error('loop needs TRANSPORTS STABLE_NAME STABLE_ADDRESS');
    return loop(spec, transportsOf(transports ?? 'udp'), stableName, stableAddress);
  }
  throw new Error(`unknown mode ${JSON.stringify(mode)}: serve, query or loop`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  });
}
