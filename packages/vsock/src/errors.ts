/** An error from a system call on a vsock socket (`code` is the errno name, e.g. 'ECONNRESET'). */
export interface VsockSystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

/** An argument error thrown before any system call. */
export interface VsockArgumentError extends Error {
  code: 'ERR_INVALID_ARG_TYPE' | 'ERR_OUT_OF_RANGE';
}

/** Adds the endpoint to a system error's message, keeping its code. */
export function withEndpoint(error: VsockSystemError, endpoint: string): VsockSystemError {
  error.message = `${error.message} (vsock ${endpoint})`;
  return error;
}

/** The same error reported as a failure of `syscall` (readiness errors arrive named 'poll'). */
export function asSyscall(error: VsockSystemError, syscall: string): VsockSystemError {
  if (error.message.startsWith(`${error.syscall} `)) {
    error.message = `${syscall}${error.message.slice(error.syscall.length)}`;
  }
  error.syscall = syscall;
  return error;
}

function argumentError(
  ErrorClass: typeof TypeError | typeof RangeError,
  code: VsockArgumentError['code'],
  message: string,
): VsockArgumentError {
  return Object.assign(new ErrorClass(message), { code });
}

/** Checks that `value` is an integer in [min, max]; `name` is used in the message. */
export function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') {
    throw argumentError(TypeError, 'ERR_INVALID_ARG_TYPE', `vsock: ${name} must be a number, got ${typeof value}`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw argumentError(RangeError, 'ERR_OUT_OF_RANGE', `vsock: ${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
  return value;
}
