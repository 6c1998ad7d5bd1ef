/** How routerctl reports failures: one line on stderr, `routerctl: ...`, and exit status 1. */
import type { ServiceError } from '@grpc/grpc-js';

// A mistake on the command line (UsageError, printed with the command summary
// when it says so) and -h/--help (HelpRequest: the summary on stdout, exit 0)
// are the flag parser's own types, so that its errors and routerctl's are one.
export { HelpRequest, UsageError } from '@router-service/flags';

/** gRPC status codes by number, named as Go's codes.Code.String() names them. */
const CODE_NAMES: readonly string[] = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

export function codeName(code: number): string {
  return CODE_NAMES[code] ?? `Code(${code})`;
}

function isServiceError(error: unknown): error is ServiceError {
  return (
    error instanceof Error &&
    typeof (error as Partial<ServiceError>).code === 'number' &&
    typeof (error as Partial<ServiceError>).details === 'string'
  );
}

/** The text after `routerctl: ` for any failure: `<Code>: <message>` for a gRPC status. */
export function describeError(error: unknown): string {
  if (isServiceError(error)) return `${codeName(error.code)}: ${error.details}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
