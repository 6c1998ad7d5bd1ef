import { execa } from 'execa';
import { unavailable } from '@router-service/core';

/** What one run of the ip binary produced. */
export interface IpResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the ip binary with an argv (never a shell string) and, for
 * `-batch -`, the batch text on stdin. A non-zero exit is a result, not an
 * exception: the caller knows what the command meant and classifies it.
 */
export type IpRunner = (args: readonly string[], input?: string) => Promise<IpResult>;

/** No ip command is expected to take more than a few milliseconds. */
const IP_TIMEOUT_MS = 30_000;

/** An IpRunner that executes `ipPath` through execa. */
export function execaIpRunner(ipPath: string): IpRunner {
  return async (args, input) => {
    const result = await execa(ipPath, args, {
      input: input ?? '',
      reject: false,
      // Kernel error strings come through strerror(): keep them in English so
      // that they can be classified.
      env: { LC_ALL: 'C' },
      timeout: IP_TIMEOUT_MS,
    });
    if (result.exitCode === undefined) {
      throw unavailable(`cannot run ${ipPath} ${args.join(' ')}: ${result.shortMessage ?? result.message}`, result.cause);
    }
    return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
  };
}
