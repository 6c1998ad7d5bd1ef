/**
 * The client's `watch` mode (see WatchSpec): how soon after a change a
 * name answers, seen from the container.
 */
import type { Interface } from 'node:readline';
import type { WatchDone, WatchKind, WatchLate, WatchSpec } from './client-protocol.js';
import { answers, describeReply, UdpResolver, type Reply } from './udp-resolver.js';

/** Whether `reply` is what a watch of `kind` waits for. */
function awaited(kind: WatchKind, reply: Reply, address: string): boolean {
  return kind === 'appear' ? answers(reply, address) : reply.kind === 'answer' && !reply.addresses.includes(address);
}

/** Watches each line of `lines` in turn, printing one event per line, until the lines end. */
export async function watch(spec: WatchSpec, lines: Interface, print: (event: WatchDone | WatchLate) => void): Promise<void> {
  const resolver = await UdpResolver.open(spec.server, spec.port, spec.timeoutMs);
  try {
    for await (const line of lines) {
      const [kind, name, address] = line.split(' ');
      if ((kind !== 'appear' && kind !== 'gone') || name === undefined || address === undefined) {
        throw new Error(`bad watch line ${JSON.stringify(line)}: want appear|gone NAME ADDRESS`);
      }
      const started = performance.now();
      let queries = 0;
      let reply: Reply;
      let at: bigint | undefined;
      do {
        reply = await resolver.ask(name);
        queries++;
        if (awaited(kind, reply, address)) at = process.hrtime.bigint();
      } while (at === undefined && performance.now() - started < spec.limitMs);
      if (at !== undefined) print({ event: kind, name, atNs: at.toString(), queries });
      else print({ event: 'late', kind, name, queries, last: describeReply(reply) });
    }
  } finally {
    resolver.close();
  }
}
