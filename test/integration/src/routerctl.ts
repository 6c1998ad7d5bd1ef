/** routerctl, the real program, pointed at a daemon's socket. */
import { routerctl } from './artifacts.js';
import { runProcess, type Completed } from './run-process.js';

export function runRouterctl(socketPath: string, args: readonly string[]): Promise<Completed> {
  const program = routerctl();
  return runProcess(program.file, [...program.args, '--addr', `unix://${socketPath}`, ...args]);
}
