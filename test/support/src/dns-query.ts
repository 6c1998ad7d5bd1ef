/**
 * Asking a resolver from inside a namespace: the DNS tool's query mode
 * run to completion, its results parsed.
 */
import { formatQuestionSpec, type DnsQuestionSpec, type DnsResult } from './dns-ask.js';
import { dnsToolArgv } from './dns-tool-process.js';
import { runProcess } from './run-process.js';

export interface DnsQueryOptions {
  /** 53 unless given. */
  readonly port?: number;
  /** How long each question waits for its answer; 2 s unless given. */
  readonly timeoutMs?: number;
}

/**
 * Asks each question in turn of `server` from inside `netns` (or from
 * here when undefined); one result per question, in order.
 */
export async function queryDnsIn(netns: string | undefined, server: string, questions: readonly DnsQuestionSpec[], options: DnsQueryOptions = {}): Promise<DnsResult[]> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const argv = dnsToolArgv(netns, ['query', server, String(options.port ?? 53), String(timeoutMs), ...questions.map(formatQuestionSpec)]);
  const run = await runProcess(argv.file, argv.args, { timeoutMs: 10_000 + timeoutMs * questions.length });
  if (run.code !== 0) throw new Error(`dns query in ${netns ?? 'this namespace'} failed (${run.code ?? run.signal}): ${run.output.trim()}`);
  const results = run.stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as DnsResult);
  if (results.length !== questions.length) throw new Error(`dns query in ${netns ?? 'this namespace'}: ${results.length} results for ${questions.length} questions`);
  return results;
}
