/** How a command line is refused: a usage mistake, or a request for help. */
import { quote } from '@router-service/core';

/** A mistake on the command line, or a condition the program reports as one. */
export class UsageError extends Error {
  override readonly name: string = 'UsageError';
  /** Whether the program's usage summary should be printed before the message. */
  readonly showUsage: boolean;

  constructor(message: string, options: { showUsage?: boolean } = {}) {
    super(message);
    this.showUsage = options.showUsage ?? false;
  }
}

/**
 * What was wrong with a flag. The FlagSet words it as Go's flag package does;
 * a program whose messages have always read differently words it from this.
 */
export type FlagProblem =
  | { readonly kind: 'bad-syntax'; readonly arg: string }
  | { readonly kind: 'not-defined'; readonly name: string }
  | { readonly kind: 'needs-argument'; readonly name: string }
  | {
      readonly kind: 'invalid-value';
      readonly name: string;
      readonly value: string;
      readonly isBool: boolean;
      /** Why the value was refused, e.g. `parse error`. */
      readonly reason: string;
    };

/** A flag the FlagSet could not accept; the message is Go's for the same mistake. */
export class FlagError extends UsageError {
  override readonly name: string = 'FlagError';
  readonly problem: FlagProblem;

  constructor(problem: FlagProblem) {
    super(goMessage(problem));
    this.problem = problem;
  }
}

/** -h or --help when the program defines no such flag: print the usage and succeed. */
export class HelpRequest extends Error {
  override readonly name: string = 'HelpRequest';

  constructor() {
    super('help requested');
  }
}

function goMessage(problem: FlagProblem): string {
  switch (problem.kind) {
    case 'bad-syntax':
      return `bad flag syntax: ${problem.arg}`;
    case 'not-defined':
      return `flag provided but not defined: -${problem.name}`;
    case 'needs-argument':
      return `flag needs an argument: -${problem.name}`;
    case 'invalid-value':
      return problem.isBool
        ? `invalid boolean value ${quote(problem.value)} for -${problem.name}: ${problem.reason}`
        : `invalid value ${quote(problem.value)} for flag -${problem.name}: ${problem.reason}`;
  }
}
