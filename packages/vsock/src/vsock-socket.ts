import { Duplex } from 'node:stream';
import { formatVsockAddress, type VsockAddress } from './address.js';
import { asSyscall, withEndpoint, type VsockSystemError } from './errors.js';
import { vsockBinding, type VsockBinding, type VsockHandle } from './native.js';

/** Largest chunk taken from the kernel in one read. */
const READ_CHUNK_BYTES = 64 * 1024;

/** How a VsockSocket starts; made by connectVsock and VsockServer only. */
export interface VsockSocketInit {
  /** The peer (known up front: the dialled address or the accepted peer). */
  readonly remote: VsockAddress;
  /** True while a connect is in flight: 'connect' is emitted when it completes. */
  readonly connecting: boolean;
  /** Keep the writable side open after the peer ends (default true). */
  readonly allowHalfOpen?: boolean;
}

interface PendingWrite {
  chunks: Buffer[];
  readonly callback: (error?: Error | null) => void;
}

/**
 * A connected AF_VSOCK stream. Reads follow the kernel's readiness (and stop
 * while the consumer is not reading); writes go straight to the socket and
 * wait for writability when it is full; `end()` half-closes (SHUT_WR).
 * Errors carry the errno name in `.code` ('ECONNRESET', 'EPIPE', ...).
 */
export class VsockSocket extends Duplex {
  readonly remoteCid: number;
  readonly remotePort: number;
  /**
   * This side's CID and port as getsockname reports them; undefined until
   * connected. An accepted socket has the CID it was called on; a dialling
   * socket is bound implicitly and reports VMADDR_CID_ANY.
   */
  localCid: number | undefined;
  localPort: number | undefined;
  /** True until the connection is established (then 'connect' is emitted). */
  connecting: boolean;

  readonly #binding: VsockBinding;
  #handle: VsockHandle | undefined;
  #reading = false;
  #pendingWrite: PendingWrite | undefined;
  #events = 0;

  constructor(handle: VsockHandle, init: VsockSocketInit) {
    super({ allowHalfOpen: init.allowHalfOpen ?? true, decodeStrings: true });
    this.#binding = vsockBinding();
    this.#handle = handle;
    this.remoteCid = init.remote.cid;
    this.remotePort = init.remote.port;
    this.connecting = init.connecting;
    this.#binding.watch(handle, (error, events) => this.#onReadiness(error, events));
    if (this.connecting) {
      this.#updateEvents();
    } else {
      this.#takeLocalAddress(handle);
    }
  }

  /** The peer as an address string (`vsock:<cid>`), for logs that expect net.Socket's fields. */
  get remoteAddress(): string {
    return `vsock:${this.remoteCid}`;
  }

  get remoteFamily(): string {
    return 'vsock';
  }

  get localAddress(): string | undefined {
    return this.localCid === undefined ? undefined : `vsock:${this.localCid}`;
  }

  /** No Nagle algorithm on vsock: accepted for net.Socket compatibility. */
  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  /** No TCP keepalive on vsock: accepted for net.Socket compatibility. */
  setKeepAlive(_enable?: boolean, _initialDelayMs?: number): this {
    return this;
  }

  /** Let this socket keep the event loop alive (the default). */
  ref(): this {
    if (this.#handle !== undefined) this.#binding.setRef(this.#handle, true);
    return this;
  }

  /** Do not keep the event loop alive for this socket alone. */
  unref(): this {
    if (this.#handle !== undefined) this.#binding.setRef(this.#handle, false);
    return this;
  }

  override _read(): void {
    this.#reading = true;
    this.#updateEvents();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#startWrite([chunk], callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.#startWrite(chunks.map((entry) => entry.chunk), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.connecting) {
      this.once('connect', () => this._final(callback));
      return;
    }
    const handle = this.#handle;
    if (handle === undefined) {
      callback();
      return;
    }
    try {
      this.#binding.shutdown(handle);
    } catch (error) {
      // ENOTCONN: the peer has already closed, so there is nothing to half-close.
      if ((error as VsockSystemError).code !== 'ENOTCONN') {
        callback(this.#describe(error as VsockSystemError));
        return;
      }
    }
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const handle = this.#handle;
    this.#handle = undefined;
    this.#reading = false;
    this.#events = 0;
    if (handle !== undefined) this.#binding.close(handle);
    const pending = this.#pendingWrite;
    this.#pendingWrite = undefined;
    callback(error);
    // A write the stream is still waiting for fails with the same cause.
    if (pending !== undefined) pending.callback(error ?? closedError());
  }

  #startWrite(chunks: Buffer[], callback: (error?: Error | null) => void): void {
    this.#pendingWrite = { chunks, callback };
    if (!this.connecting) this.#flushWrite();
  }

  #onReadiness(error: VsockSystemError | null, events: number): void {
    if (error !== null) {
      this.destroy(this.#describe(this.connecting ? asSyscall(error, 'connect') : error));
      return;
    }
    const handle = this.#handle;
    if (handle === undefined) return;
    if (this.connecting) {
      if ((events & this.#binding.WRITABLE) !== 0) this.#finishConnect(handle);
      return;
    }
    if ((events & this.#binding.READABLE) !== 0 && this.#reading) this.#readAvailable(handle);
    if ((events & this.#binding.WRITABLE) !== 0 && this.#pendingWrite !== undefined) this.#flushWrite();
  }

  #finishConnect(handle: VsockHandle): void {
    const error = this.#binding.socketError(handle, 'connect');
    if (error !== null) {
      this.destroy(this.#describe(error));
      return;
    }
    try {
      this.#takeLocalAddress(handle);
    } catch (failure) {
      this.destroy(this.#describe(failure as VsockSystemError));
      return;
    }
    this.connecting = false;
    this.#updateEvents();
    this.emit('connect');
    if (this.#pendingWrite !== undefined) this.#flushWrite();
  }

  #takeLocalAddress(handle: VsockHandle): void {
    const local = this.#binding.localAddress(handle);
    this.localCid = local.cid;
    this.localPort = local.port;
  }

  // Reads until the kernel has nothing more or the consumer has enough;
  // readiness is level-triggered, so READABLE is dropped while not reading.
  #readAvailable(handle: VsockHandle): void {
    try {
      while (this.#reading && this.#handle === handle) {
        const chunk = this.#binding.read(handle, READ_CHUNK_BYTES);
        if (chunk === undefined) break;
        if (chunk === null) {
          this.#reading = false;
          this.#updateEvents();
          this.push(null);
          return;
        }
        if (!this.push(chunk)) this.#reading = false;
      }
    } catch (error) {
      this.destroy(this.#describe(error as VsockSystemError));
      return;
    }
    this.#updateEvents();
  }

  #flushWrite(): void {
    const pending = this.#pendingWrite;
    const handle = this.#handle;
    if (pending === undefined || handle === undefined) return;
    try {
      while (pending.chunks.length > 0) {
        const sent = this.#binding.write(handle, pending.chunks);
        if (sent === 0) break;
        pending.chunks = dropFront(pending.chunks, sent);
      }
    } catch (error) {
      this.#pendingWrite = undefined;
      this.#updateEvents();
      pending.callback(this.#describe(error as VsockSystemError));
      return;
    }
    if (pending.chunks.length === 0) this.#pendingWrite = undefined;
    this.#updateEvents();
    if (this.#pendingWrite === undefined) pending.callback();
  }

  #updateEvents(): void {
    const handle = this.#handle;
    if (handle === undefined) return;
    const { READABLE, WRITABLE } = this.#binding;
    let events = 0;
    if (this.connecting || this.#pendingWrite !== undefined) events |= WRITABLE;
    if (!this.connecting && this.#reading) events |= READABLE;
    if (events === this.#events) return;
    this.#events = events;
    this.#binding.setEvents(handle, events);
  }

  #describe(error: VsockSystemError): VsockSystemError {
    return withEndpoint(error, formatVsockAddress({ cid: this.remoteCid, port: this.remotePort }));
  }
}

function closedError(): Error {
  return Object.assign(new Error('vsock: socket closed before the write completed'), { code: 'ERR_STREAM_DESTROYED' });
}

/** `chunks` without their first `count` bytes. */
function dropFront(chunks: Buffer[], count: number): Buffer[] {
  let remaining = count;
  let index = 0;
  while (index < chunks.length && remaining >= (chunks[index]?.length ?? 0)) {
    remaining -= chunks[index]?.length ?? 0;
    index += 1;
  }
  const rest = chunks.slice(index);
  const first = rest[0];
  if (first !== undefined && remaining > 0) rest[0] = first.subarray(remaining);
  return rest;
}
