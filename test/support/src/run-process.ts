/**
 * Running a program to completion and collecting what it printed. Programs
 * are started from an argv array, never through a shell, so arguments need
 * no quoting.
 */
import { spawn } from 'node:child_process';

export interface Completed {
  /** Exit status, or null if a signal ended the process. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr interleaved as they arrived, as a terminal shows them. */
  readonly output: string;
}

export interface RunOptions {
  /**
   * After this long the process gets SIGTERM (and ends with that signal);
   * 0 means no limit. 60 s unless given: long enough for slow emulated
   * hosts, short enough that a hung program fails the test.
   */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** A program that could not start, or ended other than with status 0. */
export class CommandError extends Error {
  /** Everything it printed, stdout and stderr interleaved; empty if it never started. */
  readonly output: string;

  constructor(message: string, output: string) {
    super(message);
    this.name = 'CommandError';
    this.output = output;
  }
}

/**
 * Runs a program to completion, whatever its exit status. Rejects only when
 * the program cannot be started (e.g. ENOENT).
 */
export function runProcess(file: string, args: readonly string[], options: RunOptions = {}): Promise<Completed> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS });
    // Buffers are decoded only at the end so that a character split across
    // two chunks survives.
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const output: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      stdout.push(chunk);
      output.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      output.push(chunk);
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      resolve({ code, signal, stdout: decode(stdout), stderr: decode(stderr), output: decode(output) });
    });
  });
}

/**
 * Runs a program that must succeed. A program that cannot start or ends
 * other than with status 0 rejects with a CommandError naming the command,
 * how it ended and what it printed.
 */
export async function runChecked(file: string, args: readonly string[], options: RunOptions = {}): Promise<Completed> {
  let result: Completed;
  try {
    result = await runProcess(file, args, options);
  } catch (error) {
    throw new CommandError(`${describe(file, args)}: ${error instanceof Error ? error.message : String(error)}`, '');
  }
  if (result.code === 0) return result;
  const status = result.signal !== null ? `signal: ${result.signal}` : `exit status ${result.code}`;
  throw new CommandError(`${describe(file, args)}: ${status}: ${result.output.trim()}`, result.output);
}

function describe(file: string, args: readonly string[]): string {
  return [file, ...args].join(' ');
}

function decode(chunks: Buffer[]): string {
  return Buffer.concat(chunks).toString('utf8');
}
