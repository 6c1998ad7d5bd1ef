// The N-API addon (native/vsock.c): system calls on non-blocking AF_VSOCK
// sockets plus readiness from a uv_poll handle on Node's loop.
import { fileURLToPath } from 'node:url';
import type { VsockAddress } from './address.js';
import type { VsockSystemError } from './errors.js';

declare const handleBrand: unique symbol;
/** An open socket owned by the addon (an opaque napi external). */
export type VsockHandle = { readonly [handleBrand]: true };

export interface AcceptedConnection extends VsockAddress {
  readonly handle: VsockHandle;
}

/** Called on readiness; `error` is the socket's pending error when polling failed. */
export type ReadinessCallback = (error: VsockSystemError | null, events: number) => void;

export interface VsockBinding {
  /** Bound and listening socket. */
  listen(cid: number, port: number, backlog: number): VsockHandle;
  /** Socket connecting in the background: wait for WRITABLE, then read socketError(). 0 keeps the kernel's timeout. */
  connect(cid: number, port: number, timeoutMs: number): VsockHandle;
  /** The next pending connection, or null when there is none. */
  accept(listening: VsockHandle): AcceptedConnection | null;
  localAddress(handle: VsockHandle): VsockAddress;
  remoteAddress(handle: VsockHandle): VsockAddress;
  /** The pending socket error (SO_ERROR), cleared by reading it, named after `syscall`. */
  socketError(handle: VsockHandle, syscall: string): VsockSystemError | null;
  /** Sets the readiness callback (once per handle). */
  watch(handle: VsockHandle, callback: ReadinessCallback): void;
  /** READABLE | WRITABLE bits to wait for; 0 stops polling. */
  setEvents(handle: VsockHandle, events: number): void;
  /** Whether the socket keeps the event loop alive. */
  setRef(handle: VsockHandle, ref: boolean): void;
  /** Data, null at end of stream, undefined when nothing is available now. */
  read(handle: VsockHandle, maxBytes: number): Buffer | null | undefined;
  /** Bytes sent from the front of `buffers` (0 when the socket is full). */
  write(handle: VsockHandle, buffers: readonly Buffer[]): number;
  /** Half-close: the peer reads end of stream, this side can still read. */
  shutdown(handle: VsockHandle): void;
  /** Stops polling and closes the descriptor; idempotent. */
  close(handle: VsockHandle): void;
  readonly READABLE: number;
  readonly WRITABLE: number;
}

/**
 * Where the addon is looked for, in order: next to the running module (a
 * bundled program ships `vsock.node` beside itself), then this package's own
 * node-gyp output.
 */
export function vsockAddonCandidates(): string[] {
  return [
    fileURLToPath(new URL('./vsock.node', import.meta.url)),
    fileURLToPath(new URL('../../build/Release/vsock.node', import.meta.url)),
  ];
}

let loaded: { readonly binding: VsockBinding; readonly path: string } | undefined;

function load(): { readonly binding: VsockBinding; readonly path: string } {
  if (loaded !== undefined) return loaded;
  const failures: string[] = [];
  for (const path of vsockAddonCandidates()) {
    const module = { exports: {} };
    try {
      process.dlopen(module, path);
    } catch (error) {
      failures.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    loaded = { binding: module.exports as VsockBinding, path };
    return loaded;
  }
  throw Object.assign(
    new Error(`vsock: cannot load the vsock.node addon (build it with \`pnpm run build\` in the vsock package); tried:\n  ${failures.join('\n  ')}`),
    { code: 'ERR_VSOCK_ADDON' },
  );
}

/** The loaded addon; loads it on first use and throws (code ERR_VSOCK_ADDON) naming every path tried. */
export function vsockBinding(): VsockBinding {
  return load().binding;
}

/** The file the addon was loaded from (loads it if needed). */
export function vsockAddonPath(): string {
  return load().path;
}
