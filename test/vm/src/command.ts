import { spawn } from 'node:child_process';

/** The real iproute2: busybox's ip applet lacks netns and VLAN support. */
export const ipCmd = '/usr/sbin/ip';

/** CommandError carries the combined output of a command that failed. */
export class CommandError extends Error {
  readonly output: string;

  constructor(message: string, output: string) {
    super(message);
    this.name = 'CommandError';
    this.output = output;
  }
}

/**
 * run executes a program with an argv array and resolves to its combined
 * stdout and stderr; a non-zero exit rejects with a CommandError naming the
 * command, its status and its output.
 */
export function run(file: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', (error) => reject(new CommandError(`${describe(file, args)}: ${error.message}`, '')));
    child.on('close', (code, signal) => {
      const output = Buffer.concat(chunks).toString('utf8');
      if (code === 0) {
        resolve(output);
        return;
      }
      const status = signal !== null ? `signal: ${signal}` : `exit status ${code}`;
      reject(new CommandError(`${describe(file, args)}: ${status}: ${output.trim()}`, output));
    });
  });
}

/** ip runs iproute2 and resolves to its combined output. */
export function ip(...args: string[]): Promise<string> {
  return run(ipCmd, args);
}

/** inNamespace runs a command inside a named network namespace. */
export function inNamespace(namespace: string, ...args: string[]): Promise<string> {
  return run(ipCmd, ['netns', 'exec', namespace, ...args]);
}

/** ipAll runs iproute2 commands in order and stops at the first failure. */
export async function ipAll(...commands: readonly string[][]): Promise<void> {
  for (const command of commands) {
    await ip(...command);
  }
}

/** succeeds reports whether the operation resolved. */
export async function succeeds(pending: Promise<unknown>): Promise<boolean> {
  try {
    await pending;
    return true;
  } catch {
    return false;
  }
}

function describe(file: string, args: readonly string[]): string {
  return [file, ...args].join(' ');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** waitFor polls cond every 250 ms until it holds or the time is up, then asks once more. */
export async function waitFor(ms: number, cond: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) {
      return true;
    }
    await sleep(250);
  }
  return cond();
}
