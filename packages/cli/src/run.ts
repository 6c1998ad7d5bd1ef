/** routerctl from arguments to exit status, with its connection and output passed in. */
import type { RouterServiceClient } from '@router-service/proto';
import { describeError, HelpRequest, UsageError } from './errors.js';
import { parseInvocation } from './invocation.js';
import { USAGE } from './usage.js';

export interface Output {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** Opens a client for an --addr value; throws if the address is malformed. */
export type Connect = (addr: string) => RouterServiceClient;

/** Runs one routerctl command line and returns the process exit status. */
export async function runRouterctl(argv: readonly string[], output: Output, connect: Connect): Promise<number> {
  let client: RouterServiceClient | undefined;
  try {
    const { addr, timeoutMs, command } = parseInvocation(argv);
    client = connect(addr);
    await command.execute({
      client,
      json: command.json,
      deadline: new Date(Date.now() + timeoutMs),
      write: output.stdout,
    });
    return 0;
  } catch (error) {
    if (error instanceof HelpRequest) {
      output.stdout(USAGE);
      return 0;
    }
    if (error instanceof UsageError && error.showUsage) output.stderr(USAGE);
    output.stderr(`routerctl: ${describeError(error)}\n`);
    return 1;
  } finally {
    client?.close();
  }
}
