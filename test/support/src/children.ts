/**
 * The processes this process started and has not reaped yet, for tests of
 * code that keeps a program running between calls.
 */
import { readFile, readdir } from 'node:fs/promises';

/** The pids of this process's children, exited ones included until they are reaped. */
export async function childPids(): Promise<number[]> {
  const pids: number[] = [];
  for (const task of await readdir('/proc/self/task')) {
    const listed = (await readFile(`/proc/self/task/${task}/children`, 'utf8')).trim();
    if (listed !== '') pids.push(...listed.split(' ').map(Number));
  }
  return pids;
}

/** The pids of this process's children whose argv holds `program` and every one of `args`. */
export async function childrenRunning(program: string, ...args: string[]): Promise<number[]> {
  const pids: number[] = [];
  for (const pid of await childPids()) {
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (argv.includes(program) && args.every((arg) => argv.includes(arg))) pids.push(pid);
  }
  return pids;
}

/** Kills child `pid` with SIGKILL and waits until it is reaped (until then it is a child without a command line). */
export async function killAndReap(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  while ((await childPids()).includes(pid)) await new Promise((resolve) => setTimeout(resolve, 10));
}
