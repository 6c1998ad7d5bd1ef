/**
 * Error kinds of router-service. Core classifies every failure a person can
 * act on; the API edge (the gRPC server) maps kinds to status codes, so no
 * caller ever parses a message.
 */
export type ErrorKind =
  /** The request itself is malformed or out of range, whatever the state. */
  | 'invalid'
  /** The request refers to an object that does not exist. */
  | 'not-found'
  /** The request collides with an existing object. */
  | 'already-exists'
  /** The system is not in a state that allows the request. */
  | 'precondition'
  /** A dependency (kernel, store, helper process) cannot serve right now. */
  | 'unavailable'
  /** Anything unexpected. */
  | 'internal';

/** An error with a kind and a message that says what to change. */
export class RouterError extends Error {
  readonly kind: ErrorKind;

  constructor(kind: ErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RouterError';
    this.kind = kind;
  }
}

export function invalid(message: string): RouterError {
  return new RouterError('invalid', message);
}

export function notFound(message: string): RouterError {
  return new RouterError('not-found', message);
}

export function alreadyExists(message: string): RouterError {
  return new RouterError('already-exists', message);
}

export function precondition(message: string): RouterError {
  return new RouterError('precondition', message);
}

export function unavailable(message: string, cause?: unknown): RouterError {
  return new RouterError('unavailable', message, { cause });
}

const ERROR_KINDS: ReadonlySet<string> = new Set<ErrorKind>([
  'invalid', 'not-found', 'already-exists', 'precondition', 'unavailable', 'internal',
]);

/**
 * The kind of any thrown value: unclassified errors are internal. A plugin
 * built against another copy of core throws RouterErrors of another class,
 * so they are recognised by name and kind, not only by class.
 */
export function errorKind(err: unknown): ErrorKind {
  if (err instanceof RouterError) return err.kind;
  if (err instanceof Error && err.name === 'RouterError' && 'kind' in err && typeof err.kind === 'string' && ERROR_KINDS.has(err.kind)) {
    return err.kind as ErrorKind;
  }
  return 'internal';
}

/** The message of any thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
