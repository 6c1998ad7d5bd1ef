import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { unavailable } from '@router-service/core';

/** What one run of conntrack produced. */
export interface ConntrackResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs conntrack with an argv (never a shell string) and `input` on stdin.
 * A non-zero exit is a result, not an exception: the caller says what the
 * command meant.
 */
export type ConntrackRunner = (args: readonly string[], input?: string) => Promise<ConntrackResult>;

export interface ConntrackRunnerOptions {
  conntrackPath: string;
  /** Run conntrack inside this named network namespace, through `ip netns exec`. */
  netns?: string | undefined;
  ipPath: string;
}

/** Long enough to walk a full table of a few hundred thousand entries a few times. */
const CONNTRACK_TIMEOUT_MS = 60_000;

/** A ConntrackRunner that executes conntrack through execa. */
export function execaConntrackRunner(options: ConntrackRunnerOptions): ConntrackRunner {
  const [file, prefix] =
    options.netns === undefined
      ? [options.conntrackPath, []]
      : [options.ipPath, ['netns', 'exec', options.netns, options.conntrackPath]];
  return async (args, input) => {
    const argv = [...prefix, ...args];
    const result = await withStdinFile(input ?? '', (stdin) =>
      // execa's types accept only descriptors 0 and 3-9 here; at run time
      // any open descriptor is handed to the child as is.
      execa(file, argv, { stdin: stdin as 0, reject: false, env: { LC_ALL: 'C' }, timeout: CONNTRACK_TIMEOUT_MS }),
    );
    if (result.exitCode === undefined) {
      throw unavailable(`cannot run ${file} ${argv.join(' ')}: ${result.shortMessage ?? result.message}`, result.cause);
    }
    return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
  };
}

/**
 * Calls `use` with a file descriptor to read `input` from. conntrack
 * (1.4.7) reads `-R -` by opening /dev/stdin, which fails when stdin is the
 * socket Node gives a child for a piped stdin; a regular file works. The
 * file lives in a private directory that is removed afterwards.
 */
async function withStdinFile<T>(input: string, use: (fd: number) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'conntrack-batch-'));
  try {
    const path = join(dir, 'batch');
    await writeFile(path, input, { mode: 0o600 });
    const handle = await open(path, 'r');
    try {
      return await use(handle.fd);
    } finally {
      await handle.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
