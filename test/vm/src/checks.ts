/** Checks counts named checks and prints one line per check as it is decided. */
export class Checks {
  passed = 0;
  failed = 0;

  /** Records a check that passes when error is null; returns whether it passed. */
  check(name: string, error: Error | null): boolean {
    if (error !== null) {
      this.failed++;
      console.log(`FAIL ${name}: ${error.message}`);
      return false;
    }
    this.passed++;
    console.log(`PASS ${name}`);
    return true;
  }

  /** Records a check that passes when ok holds; why explains a failure. */
  checkThat(name: string, ok: boolean, why: () => string): boolean {
    return this.check(name, ok ? null : new Error(why()));
  }

  /** Adds counts decided elsewhere, such as the tests of a bundled suite. */
  add(passed: number, failed: number): void {
    this.passed += passed;
    this.failed += failed;
  }

  summary(): string {
    return `${this.passed} passed, ${this.failed} failed`;
  }
}

/** Settled is the outcome of an awaited operation, kept for a check to judge. */
export type Settled<T> = { value: T; error: null } | { value: undefined; error: Error };

export async function settle<T>(pending: Promise<T>): Promise<Settled<T>> {
  try {
    return { value: await pending, error: null };
  } catch (error) {
    return { value: undefined, error: asError(error) };
  }
}

/** errorOf resolves to the error the operation failed with, or null. */
export async function errorOf(pending: Promise<unknown>): Promise<Error | null> {
  return (await settle(pending)).error;
}

export function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}

/** shown describes an outcome for a failure message, as the response and the error. */
export function shown(outcome: Settled<unknown>, label = 'resp'): string {
  return `${label}=${JSON.stringify(outcome.value) ?? '<nil>'} err=${outcome.error?.message ?? '<nil>'}`;
}
