/**
 * The client's `flood` mode (see FloodSpec): answers per second with a
 * fixed number of queries in flight, and the CPU time the client and the
 * resolver spent meanwhile, which tells which of them was the limit.
 */
import { readFile } from 'node:fs/promises';
import { KEPT_FAILURES, type FloodResult, type FloodRound, type FloodSpec } from './client-protocol.js';
import { recordsIn } from './names.js';
import { answers, describeReply, UdpResolver } from './udp-resolver.js';

/** Linux reports CPU times in /proc in USER_HZ ticks, 100 per second on every architecture it runs on. */
const MS_PER_TICK = 10;

/** The user plus system CPU time of process `pid`, in milliseconds. */
export async function cpuTimeMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (which may hold spaces) start with the state, field 3; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
}

export async function flood(spec: FloodSpec): Promise<FloodResult> {
  const records = recordsIn(spec.names);
  const resolver = await UdpResolver.open(spec.server, spec.port, spec.timeoutMs);
  const failures: string[] = [];
  let next = 0;
  /** Keeps `parallel` queries in flight for `ms`; counts into `tally` when given. */
  const run = async (ms: number, tally?: { answered: number; unanswered: number; wrong: number }) => {
    const end = performance.now() + ms;
    const worker = async () => {
      while (performance.now() < end) {
        const record = records[next++ % records.length];
        if (record === undefined) throw new Error('flood mode needs at least one name');
        const reply = await resolver.ask(record.name);
        if (tally === undefined) continue;
        if (answers(reply, record.address)) tally.answered++;
        else {
          tally[reply.kind === 'unanswered' ? 'unanswered' : 'wrong']++;
          if (failures.length < KEPT_FAILURES) failures.push(`${record.name}: ${describeReply(reply)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: spec.parallel }, worker));
  };
  try {
    await run(spec.warmupMs);
    const rounds: FloodRound[] = [];
    for (let round = 0; round < spec.rounds; round++) {
      const tally = { answered: 0, unanswered: 0, wrong: 0 };
      const [client0, server0, started] = [process.cpuUsage(), await cpuTimeMs(spec.serverPid), performance.now()];
      await run(spec.roundMs, tally);
      const elapsedMs = performance.now() - started;
      const client = process.cpuUsage(client0);
      const serverCpuMs = (await cpuTimeMs(spec.serverPid)) - server0;
      rounds.push({ ...tally, elapsedMs, clientCpuMs: (client.user + client.system) / 1000, serverCpuMs });
    }
    return { event: 'flood', rounds, failures };
  } finally {
    resolver.close();
  }
}
