// Small things the backend's tests share: a logger that keeps what it was
// told, polling for an outcome, and questions by transport.
import type { Logger } from '@router-service/core';
import type { DnsQueryType, DnsQuestionSpec, DnsResult, DnsTransport } from '@router-service/test-support';

export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

/** A Logger that records every entry. */
export function recordingLogger(): Logger & { readonly entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: LogEntry['level']) => (fields: Record<string, unknown>, message: string) => {
    entries.push({ level, fields, message });
  };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/**
 * Calls `check` until it returns a value other than undefined and returns
 * that; fails after `timeoutMs` with `what`. For outcomes that follow an
 * action asynchronously (dnsmasq re-reading a file, a restart after a crash).
 */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const question = (transport: DnsTransport, type: DnsQueryType, name: string): DnsQuestionSpec => ({ transport, type, name });

/** The same question over UDP and over TCP. */
export const both = (type: DnsQueryType, name: string): DnsQuestionSpec[] => [question('udp', type, name), question('tcp', type, name)];

/** rcode and sorted answers: what a check compares. */
export const outcome = (r: DnsResult): string => `${r.rcode} ${[...r.answers].sort().join(',')}`.trim();
