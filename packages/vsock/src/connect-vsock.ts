import { constants } from 'node:os';
import { formatVsockAddress } from './address.js';
import { checkInteger, withEndpoint, type VsockSystemError } from './errors.js';
import { VMADDR_CID_ANY, VMADDR_PORT_ANY } from './constants.js';
import { vsockBinding, type VsockHandle } from './native.js';
import { VsockSocket } from './vsock-socket.js';

/** Longest connect timeout accepted (the kernel takes it as a timeval). */
const MAX_TIMEOUT_MS = 0x7fff_ffff;

export interface ConnectVsockOptions {
  /** The peer's context id (VMADDR_CID_LOCAL for this machine, VMADDR_CID_HOST for the host). */
  readonly cid: number;
  readonly port: number;
  /** Give up after this long (error code ETIMEDOUT); default: the kernel's connect timeout (2 s). */
  readonly timeoutMs?: number;
}

/**
 * Connects to `cid:port`; resolves once connected. A refused connection
 * fails with code ECONNRESET (that is what vsock reports), an unanswered one
 * with ETIMEDOUT.
 */
export async function connectVsock(options: ConnectVsockOptions): Promise<VsockSocket> {
  const cid = checkInteger('cid', options.cid, 0, VMADDR_CID_ANY - 1);
  const port = checkInteger('port', options.port, 0, VMADDR_PORT_ANY - 1);
  const timeoutMs = options.timeoutMs === undefined ? 0 : checkInteger('timeoutMs', options.timeoutMs, 1, MAX_TIMEOUT_MS);
  const endpoint = formatVsockAddress({ cid, port });
  let handle: VsockHandle;
  try {
    handle = vsockBinding().connect(cid, port, timeoutMs);
  } catch (error) {
    throw withEndpoint(error as VsockSystemError, endpoint);
  }
  const socket = new VsockSocket(handle, { remote: { cid, port }, connecting: true });
  return new Promise<VsockSocket>((resolve, reject) => {
    const timer = timeoutMs === 0 ? undefined : setTimeout(() => {
      const error = Object.assign(new Error(`connect ETIMEDOUT: no answer within ${timeoutMs} ms (vsock ${endpoint})`), {
        code: 'ETIMEDOUT',
        errno: -constants.errno.ETIMEDOUT,
        syscall: 'connect',
      });
      socket.destroy(error);
    }, timeoutMs);
    const settle = (): void => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.off('connect', onConnect);
    };
    const onError = (error: Error): void => {
      settle();
      reject(error);
    };
    const onClose = (): void => {
      settle();
      reject(Object.assign(new Error(`vsock: socket closed while connecting (vsock ${endpoint})`), { code: 'ERR_SOCKET_CLOSED' }));
    };
    const onConnect = (): void => {
      settle();
      resolve(socket);
    };
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.once('connect', onConnect);
  });
}
