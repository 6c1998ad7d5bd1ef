/**
 * Processes known by pid only (a dnsmasq left by a previous run of the
 * daemon): what /proc says about them, and ending them. A pid is only ever
 * signalled after its command line showed it is the dnsmasq we expect.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH';
}

/**
 * Whether the process still exists and has not exited: a zombie (Z) or
 * dead (X) one holds no sockets any more.
 */
export async function isRunning(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The state follows the command name in parentheses, which may hold spaces.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/**
 * The command line of a running process; undefined when it is gone, a
 * zombie, or exiting (its memory, which holds the command line, is
 * released before its files and sockets are).
 */
export async function commandLine(pid: number): Promise<string[] | undefined> {
  try {
    if (!(await isRunning(pid))) return undefined;
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw === '' ? undefined : raw.replace(/\0$/, '').split('\0');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/** What makes a command line one of our resolvers for a network. */
export interface OwnedDnsmasq {
  /** The program as configured; a dnsmasq at another path is recognised by its name. */
  readonly dnsmasqPath: string;
  readonly pidFile: string;
  readonly hostsDir: string;
}

/**
 * Whether `argv` is a dnsmasq started for exactly this network: the
 * program is dnsmasq and its arguments name this network's pid file and
 * hosts directory.
 */
export function isOwnedDnsmasq(argv: readonly string[], owned: OwnedDnsmasq): boolean {
  const [program, ...args] = argv;
  if (program === undefined || (program !== owned.dnsmasqPath && basename(program) !== 'dnsmasq')) return false;
  return args.includes(`--pid-file=${owned.pidFile}`) && args.includes(`--hostsdir=${owned.hostsDir}`);
}

/** The pid a pid file holds, or undefined when it is missing or holds no pid. */
export async function readPidFile(path: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const trimmed = text.trim();
  if (!/^[1-9][0-9]{0,9}$/.test(trimmed)) return undefined;
  return Number(trimmed);
}

const POLL_MS = 20;

/** Sends a signal; a process that is already gone is not an error. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Waits until the process has ended, or `ms` passed; true when it ended. */
async function waitUntilEnded(pid: number, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (!(await isRunning(pid))) return true;
    if (performance.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** How a stale process was dealt with. */
export type StaleOutcome = 'none' | 'foreign' | 'terminated' | 'killed';

/**
 * Ends the dnsmasq whose pid `pidFile` holds, if the process is ours (see
 * isOwnedDnsmasq): SIGTERM, then SIGKILL after `graceMs`. A pid file
 * naming a process that is gone or someone else's is left to the caller;
 * that process is never signalled. Throws if the process outlives SIGKILL.
 */
export async function endStaleDnsmasq(owned: OwnedDnsmasq, graceMs: number): Promise<{ outcome: StaleOutcome; pid?: number }> {
  const pid = await readPidFile(owned.pidFile);
  if (pid === undefined) return { outcome: 'none' };
  const argv = await commandLine(pid);
  if (argv === undefined) {
    // Gone, or exiting with its command line already released: nothing to
    // signal, but an exiting one still holds its sockets for a moment.
    await waitUntilEnded(pid, graceMs);
    return { outcome: 'none', pid };
  }
  if (!isOwnedDnsmasq(argv, owned)) return { outcome: 'foreign', pid };
  signal(pid, 'SIGTERM');
  // Until it has ended it still holds the gateway's port; the pid is
  // checked again before SIGKILL, in case it ended and was reused.
  if (await waitUntilEnded(pid, graceMs)) return { outcome: 'terminated', pid };
  const still = await commandLine(pid);
  if (still !== undefined && isOwnedDnsmasq(still, owned)) signal(pid, 'SIGKILL');
  if (await waitUntilEnded(pid, graceMs)) return { outcome: 'killed', pid };
  throw new Error(`dnsmasq ${pid} (${owned.pidFile}) did not end after SIGTERM and SIGKILL`);
}
