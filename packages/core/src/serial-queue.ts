/**
 * An async mutex as a promise chain: tasks run one at a time, in the order
 * they were queued, whatever each one's outcome.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs task after every task queued before it; settles as task does. */
  run<T>(task: () => Promise<T> | T): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every task queued so far has settled. */
  async drain(): Promise<void> {
    await this.run(() => undefined);
  }
}
