/**
 * What a benchmark run made (namespaces, processes), undone newest first:
 * after each subject, and on SIGINT or SIGTERM.
 */
export class Cleanups {
  readonly #steps: Array<() => Promise<void>> = [];
  readonly #program: string;
  #unwinding: Promise<void> | undefined;

  /** `program` names the benchmark in messages about failed steps. */
  constructor(program: string) {
    this.#program = program;
  }

  /** Remembers how to undo something just made. */
  push(step: () => Promise<void>): void {
    this.#steps.push(step);
  }

  /**
   * Runs the steps, newest first; a failed one is reported and the rest
   * still run. A call while they run (a signal during a run's own cleanup)
   * waits for the same ones.
   */
  unwind(): Promise<void> {
    this.#unwinding ??= (async () => {
      for (let step = this.#steps.pop(); step !== undefined; step = this.#steps.pop()) {
        await step().catch((error: unknown) => process.stderr.write(`${this.#program}: cleaning up: ${String(error)}\n`));
      }
    })().finally(() => (this.#unwinding = undefined));
    return this.#unwinding;
  }
}
