/**
 * The one place where error kinds become gRPC status codes. Messages are kept
 * as core wrote them: they say what to change.
 */
import { status, type ServerErrorResponse } from '@grpc/grpc-js';
import { errorKind, errorMessage, type ErrorKind } from '@router-service/core';

const CODES: Readonly<Record<ErrorKind, status>> = {
  invalid: status.INVALID_ARGUMENT,
  'not-found': status.NOT_FOUND,
  'already-exists': status.ALREADY_EXISTS,
  precondition: status.FAILED_PRECONDITION,
  unavailable: status.UNAVAILABLE,
  internal: status.INTERNAL,
};

/** The gRPC code of an error kind; unknown kinds are INTERNAL. */
export function grpcCode(kind: ErrorKind): status {
  return CODES[kind] ?? status.INTERNAL;
}

/** Any thrown value as the error a grpc-js handler passes to its callback. */
export function toServiceError(err: unknown): ServerErrorResponse {
  const kind = errorKind(err);
  const error: ServerErrorResponse = Object.assign(new Error(errorMessage(err)), {
    code: grpcCode(kind),
    details: errorMessage(err),
  });
  return error;
}
