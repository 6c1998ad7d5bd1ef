/**
 * The client's `steady` mode (see SteadySpec): a fixed rate of queries for
 * names that exist throughout, counting every one that fails while the
 * names around them change.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { KEPT_FAILURES, type SteadyResult, type SteadySpec } from './client-protocol.js';
import { recordsIn } from './names.js';
import { answers, describeReply, UdpResolver } from './udp-resolver.js';

/** One query as sent, and whether it was answered right. */
interface Sent {
  readonly at: number;
  ok: boolean;
}

/** Runs of failed queries: how many, and the longest, from the first failure's sending to the next success's. */
export function outagesOf(sent: readonly Sent[], timeoutMs: number): { outages: number; longestOutageMs: number } {
  let outages = 0;
  let longest = 0;
  let runStart: number | undefined;
  for (const query of sent) {
    if (!query.ok) {
      if (runStart === undefined) {
        runStart = query.at;
        outages++;
      }
    } else if (runStart !== undefined) {
      longest = Math.max(longest, query.at - runStart);
      runStart = undefined;
    }
  }
  const last = sent[sent.length - 1];
  if (runStart !== undefined && last !== undefined) longest = Math.max(longest, last.at + timeoutMs - runStart);
  return { outages, longestOutageMs: longest };
}

/** Queries until `inputEnded` resolves, then waits for the queries in flight. `ready` is called once querying starts. */
export async function steady(spec: SteadySpec, inputEnded: Promise<void>, ready: () => void): Promise<SteadyResult> {
  const records = recordsIn(spec.names);
  const resolver = await UdpResolver.open(spec.server, spec.port, spec.timeoutMs);
  let stopping = false;
  void inputEnded.then(() => (stopping = true));
  const sent: Sent[] = [];
  const counts = { answered: 0, unanswered: 0, wrong: 0 };
  const failures: string[] = [];
  const inFlight = new Set<Promise<void>>();
  ready();
  const started = performance.now();
  for (let i = 0; ; i++) {
    const wait = started + (i * 1000) / spec.queriesPerSecond - performance.now();
    if (wait > 0) await sleep(wait);
    if (stopping) break;
    const record = records[i % records.length];
    if (record === undefined) throw new Error('steady mode needs at least one name');
    const query: Sent = { at: performance.now(), ok: false };
    sent.push(query);
    const done = resolver.ask(record.name).then((reply) => {
      query.ok = answers(reply, record.address);
      if (query.ok) counts.answered++;
      else {
        counts[reply.kind === 'unanswered' ? 'unanswered' : 'wrong']++;
        if (failures.length < KEPT_FAILURES) failures.push(`${record.name} at ${Math.round(query.at - started)} ms: ${describeReply(reply)}`);
      }
    });
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
  }
  await Promise.all(inFlight);
  resolver.close();
  return { event: 'steady', sent: sent.length, ...counts, ...outagesOf(sent, spec.timeoutMs), failures };
}
