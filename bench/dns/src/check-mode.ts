/** The client's `check` mode (see CheckSpec): does every name of a range answer its address? */
import { KEPT_FAILURES, type CheckResult, type CheckSpec } from './client-protocol.js';
import { recordsIn } from './names.js';
import { answers, describeReply, UdpResolver } from './udp-resolver.js';

export async function check(spec: CheckSpec): Promise<CheckResult> {
  const records = recordsIn(spec.names);
  const resolver = await UdpResolver.open(spec.server, spec.port, spec.timeoutMs);
  const failures: string[] = [];
  let failed = 0;
  let next = 0;
  const worker = async () => {
    for (let record = records[next++]; record !== undefined; record = records[next++]) {
      const reply = await resolver.ask(record.name);
      if (answers(reply, record.address)) continue;
      failed++;
      if (failures.length < KEPT_FAILURES) failures.push(`${record.name} (want ${record.address}): ${describeReply(reply)}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: spec.parallel }, worker));
  } finally {
    resolver.close();
  }
  return { event: 'check', asked: records.length, failed, failures };
}
