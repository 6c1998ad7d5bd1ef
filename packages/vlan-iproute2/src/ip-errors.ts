/**
 * iproute2 reports failures only as text on stderr: the kernel's extended
 * ack message ("Error: ipv4: Address not found.") when there is one, else
 * strerror ("RTNETLINK answers: File exists"). Both spellings are matched.
 */
export type IpFailure = 'no-device' | 'exists' | 'unsupported' | 'address-not-found' | 'dump-interrupted' | 'other';

const PATTERNS: ReadonlyArray<readonly [IpFailure, RegExp]> = [
  ['no-device', /Cannot find device|Device "[^"]*" does not exist|No such device/],
  ['exists', /File exists|already exists/],
  ['unsupported', /Operation not supported|Unknown device type/],
  ['address-not-found', /Cannot assign requested address|Address not found/],
  ['dump-interrupted', /Dump was interrupted/],
];

/** What an ip command's stderr says went wrong. */
export function classifyIpFailure(stderr: string): IpFailure {
  return PATTERNS.find(([, pattern]) => pattern.test(stderr))?.[0] ?? 'other';
}

/** One command of an `ip -batch` that failed: its 0-based index and its stderr. */
export interface BatchFailure {
  index: number;
  stderr: string;
}

const BATCH_FAILED = /^Command failed -:(\d+)$/;

/**
 * Splits the stderr of `ip -batch -` by command: ip prints a command's
 * errors, then "Command failed -:N" with N counting lines from 1.
 */
export function batchFailures(stderr: string): BatchFailure[] {
  const failures: BatchFailure[] = [];
  let pending: string[] = [];
  for (const line of stderr.split('\n')) {
    const match = BATCH_FAILED.exec(line.trim());
    if (match) {
      failures.push({ index: Number(match[1]) - 1, stderr: pending.join('\n').trim() });
      pending = [];
    } else if (line.trim() !== '') {
      pending.push(line);
    }
  }
  return failures;
}
