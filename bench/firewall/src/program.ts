/**
 * What the benchmark programs share once their command line is parsed:
 * the root check, progress on stderr, the report on stdout, and undoing
 * what the run made, on SIGINT and SIGTERM too.
 */
import type { Cleanups } from './cleanups.js';
import type { Progress } from './measurements.js';

/**
 * Runs `measure` as `program`, as root, and writes the report it resolves
 * to on stdout. On SIGINT or SIGTERM it undoes what `made` holds and exits
 * 130; whatever `made` still holds when `measure` ends is undone as well.
 * Resolves to the exit status: 0 after a complete run, 1 without root or
 * when a step fails.
 */
export async function runMeasuring(program: string, made: Cleanups, measure: (progress: Progress) => Promise<string>): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write(`${program}: needs root (it creates network namespaces)\n`);
    return 1;
  }
  const progress: Progress = (message) => process.stderr.write(`${new Date().toISOString()} ${message}\n`);
  let interrupted = false;
  const interrupt = (signal: NodeJS.Signals) => {
    interrupted = true;
    progress(`${signal}: cleaning up`);
    void made.unwind().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    process.stdout.write(await measure(progress));
    return 0;
  } catch (error) {
    // Interrupted: the steps in flight fail as their processes go; the exit is the handler's.
    if (interrupted) return new Promise<never>(() => undefined);
    process.stderr.write(`${program}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  } finally {
    if (!interrupted) await made.unwind();
  }
}
