/** Running a program to completion and collecting what it printed. */
import { spawn } from 'node:child_process';

export interface Completed {
  /** Exit status, or null if a signal ended the process. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runProcess(file: string, args: readonly string[], timeoutMs = 60_000): Promise<Completed> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs a program that must succeed and returns its stdout. */
export async function runChecked(file: string, args: readonly string[]): Promise<string> {
  const result = await runProcess(file, args);
  if (result.code !== 0) {
    throw new Error(`${[file, ...args].join(' ')} failed (${result.code ?? result.signal}): ${result.stderr.trim()}`);
  }
  return result.stdout;
}
