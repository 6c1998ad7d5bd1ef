import { EventEmitter } from 'node:events';
import { formatVsockAddress, type VsockAddress } from './address.js';
import { checkInteger, withEndpoint, type VsockSystemError } from './errors.js';
import { VMADDR_CID_ANY, VMADDR_PORT_ANY } from './constants.js';
import { vsockBinding, type VsockBinding, type VsockHandle } from './native.js';
import { VsockSocket } from './vsock-socket.js';

/** Pause before accepting again after accept() failed (e.g. EMFILE), so a full table does not spin. */
const ACCEPT_RETRY_MS = 100;

export interface ListenVsockOptions {
  /** Port to listen on; VMADDR_PORT_ANY lets the kernel pick one (see address()). */
  readonly port: number;
  /** Local CID to bind; default VMADDR_CID_ANY. */
  readonly cid?: number;
  /** Pending-connection queue length; default 511. */
  readonly backlog?: number;
}

export interface VsockServerEvents {
  connection: [socket: VsockSocket];
  error: [error: VsockSystemError];
  close: [];
}

/**
 * A listening AF_VSOCK socket. Emits 'connection' with each accepted
 * VsockSocket (remoteCid/remotePort say who called). close() stops accepting;
 * connections already accepted stay open.
 */
export class VsockServer extends EventEmitter<VsockServerEvents> {
  readonly #binding: VsockBinding;
  readonly #address: VsockAddress;
  #handle: VsockHandle | undefined;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(handle: VsockHandle) {
    super();
    this.#binding = vsockBinding();
    this.#handle = handle;
    this.#address = this.#binding.localAddress(handle);
    this.#binding.watch(handle, (error) => this.#onReadable(error));
    this.#binding.setEvents(handle, this.#binding.READABLE);
  }

  /** The bound CID (VMADDR_CID_ANY when bound to any) and port. */
  address(): VsockAddress {
    return this.#address;
  }

  get listening(): boolean {
    return this.#handle !== undefined;
  }

  /** Stops accepting and closes the listening socket; emits 'close'. Idempotent. */
  close(): Promise<void> {
    const handle = this.#handle;
    if (handle !== undefined) {
      this.#handle = undefined;
      clearTimeout(this.#retryTimer);
      this.#binding.close(handle);
      process.nextTick(() => this.emit('close'));
    }
    return Promise.resolve();
  }

  /** Let the listening socket keep the event loop alive (the default). */
  ref(): this {
    if (this.#handle !== undefined) this.#binding.setRef(this.#handle, true);
    return this;
  }

  /** Do not keep the event loop alive for the listening socket alone. */
  unref(): this {
    if (this.#handle !== undefined) this.#binding.setRef(this.#handle, false);
    return this;
  }

  #onReadable(error: VsockSystemError | null): void {
    const handle = this.#handle;
    if (handle === undefined) return;
    if (error !== null) {
      this.#failAccept(handle, error);
      return;
    }
    for (;;) {
      let accepted;
      try {
        accepted = this.#binding.accept(handle);
      } catch (failure) {
        this.#failAccept(handle, failure as VsockSystemError);
        return;
      }
      if (accepted === null) return;
      const socket = new VsockSocket(accepted.handle, {
        remote: { cid: accepted.cid, port: accepted.port },
        connecting: false,
      });
      this.emit('connection', socket);
      if (this.#handle !== handle) return;
    }
  }

  #failAccept(handle: VsockHandle, error: VsockSystemError): void {
    this.#binding.setEvents(handle, 0);
    this.#retryTimer = setTimeout(() => {
      if (this.#handle === handle) this.#binding.setEvents(handle, this.#binding.READABLE);
    }, ACCEPT_RETRY_MS).unref();
    this.emit('error', withEndpoint(error, formatVsockAddress(this.#address)));
  }
}

/** Listens for vsock connections on `port` (any local CID unless `cid` is given). */
export async function listenVsock(options: ListenVsockOptions): Promise<VsockServer> {
  const port = checkInteger('port', options.port, 0, VMADDR_PORT_ANY);
  const cid = checkInteger('cid', options.cid ?? VMADDR_CID_ANY, 0, VMADDR_CID_ANY);
  const backlog = checkInteger('backlog', options.backlog ?? 511, 1, 0x7fff_ffff);
  const binding = vsockBinding();
  let handle: VsockHandle;
  try {
    handle = binding.listen(cid, port, backlog);
  } catch (error) {
    throw withEndpoint(error as VsockSystemError, formatVsockAddress({ cid, port }));
  }
  return new VsockServer(handle);
}
