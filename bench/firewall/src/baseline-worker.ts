/**
 * The original approach to port publishing, run inside the router's
 * namespace: `node baseline-worker.js IPTABLES CONTAINER_IP`. It creates
 * one nat chain jumped to from PREROUTING, then serves BaselineRequests
 * from stdin one at a time (the original service serialised its calls),
 * answering each with a BaselineReply line on stdout. "ready" comes first.
 */
import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { BASELINE_CHAIN, type BaselineReply, type BaselineRequest, type BaselineRule } from './baseline-protocol.js';

const run = promisify(execFile);
const [iptables, containerIp] = process.argv.slice(2);
if (iptables === undefined || containerIp === undefined) {
  process.stderr.write('usage: baseline-worker IPTABLES CONTAINER_IP\n');
  process.exit(2);
}

/** The rule's match and target, as the original wrote them. */
function ruleArgs(rule: BaselineRule): string[] {
  return ['-p', 'tcp', '--dport', String(rule.hostPort), '-j', 'DNAT', '--to-destination', `${containerIp}:${rule.containerPort}`];
}

async function iptablesNat(...args: string[]): Promise<string> {
  return (await run(iptables as string, ['-t', 'nat', ...args], { maxBuffer: 256 * 1024 * 1024 })).stdout;
}

/**
 * The number of the rule for hostPort, read from the listing. `-n` keeps
 * ports numeric (and skips DNS), so the match is exact: dpt:80 is not
 * dpt:8080.
 */
function ruleNumber(listing: string, hostPort: number): number | undefined {
  const wanted = `dpt:${hostPort}`;
  for (const line of listing.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.includes(wanted) && /^[0-9]+$/.test(fields[0] ?? '')) return Number(fields[0]);
  }
  return undefined;
}

function restore(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(`${iptables as string}-restore`, ['--noflush'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${iptables as string}-restore: ${stderr.trim()}`))));
    child.stdin.end(text);
  });
}

async function handle(request: BaselineRequest): Promise<void> {
  switch (request.op) {
    case 'add':
      await iptablesNat('-A', BASELINE_CHAIN, ...ruleArgs(request.rule));
      return;
    case 'remove': {
      const number = ruleNumber(await iptablesNat('-L', BASELINE_CHAIN, '-n', '--line-numbers'), request.hostPort);
      if (number === undefined) throw new Error(`no rule for port ${request.hostPort} in ${BASELINE_CHAIN}`);
      await iptablesNat('-D', BASELINE_CHAIN, String(number));
      return;
    }
    case 'load': {
      // Declaring a chain in a --noflush restore empties it first.
      const lines = ['*nat', `:${BASELINE_CHAIN} - [0:0]`, ...request.rules.map((rule) => ['-A', BASELINE_CHAIN, ...ruleArgs(rule)].join(' ')), 'COMMIT', ''];
      await restore(lines.join('\n'));
      return;
    }
  }
}

function reply(message: BaselineReply): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

await iptablesNat('-N', BASELINE_CHAIN);
await iptablesNat('-A', 'PREROUTING', '-j', BASELINE_CHAIN);
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  try {
    await handle(JSON.parse(line) as BaselineRequest);
    reply({ ok: true });
  } catch (error) {
    reply({ ok: false, error: error instanceof Error ? error.message : String(error) });
  }
}
