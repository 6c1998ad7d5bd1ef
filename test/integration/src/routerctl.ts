/** routerctl, the real program, pointed at a daemon's socket. */
import { runProcess, type Completed } from '@router-service/test-support';
import { routerctl } from './artifacts.js';

export function runRouterctl(socketPath: string, args: readonly string[]): Promise<Completed> {
  const program = routerctl();
  return runProcess(program.file, [...program.args, '--addr', `unix://${socketPath}`, ...args]);
}
