import { CommandError, IP, netnsExecArgv, runChecked } from '@router-service/test-support';

export { CommandError };

/** The real iproute2: busybox's ip applet lacks netns and VLAN support. */
export const ipCmd = IP;

/**
 * run executes a program with an argv array and resolves to its combined
 * stdout and stderr; a non-zero exit rejects with a CommandError naming the
 * command, its status and its output. It sets no time limit, so a slow
 * command in the emulated VM is waited for rather than cut off.
 */
export async function run(file: string, args: readonly string[]): Promise<string> {
  return (await runChecked(file, args, { timeoutMs: 0 })).output;
}

/** ip runs iproute2 and resolves to its combined output. */
export function ip(...args: string[]): Promise<string> {
  return run(ipCmd, args);
}

/** inNamespace runs a command inside a named network namespace. */
export function inNamespace(namespace: string, file: string, ...args: string[]): Promise<string> {
  const argv = netnsExecArgv(namespace, file, args);
  return run(argv.file, argv.args);
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
