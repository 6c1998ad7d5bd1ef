// Helpers for the tests that run inside the helper VM, where the
// vsock_loopback transport makes VMADDR_CID_LOCAL reachable.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { VMADDR_PORT_ANY, listenVsock, type VsockServer, type VsockSocket } from '@router-service/vsock';

/** A loopback server on a kernel-chosen port whose connections are handled by `handler`. */
export async function startServer(handler: (socket: VsockSocket) => void): Promise<VsockServer> {
  const server = await listenVsock({ port: VMADDR_PORT_ANY });
  server.on('connection', handler);
  return server;
}

/** A loopback server and its first accepted connection. */
export async function startServerForOne(): Promise<{ server: VsockServer; accepted: Promise<VsockSocket> }> {
  const server = await listenVsock({ port: VMADDR_PORT_ANY });
  const accepted = once(server, 'connection').then(([socket]) => socket);
  return { server, accepted };
}

/** Echoes every byte back and ends when the peer ends. */
export function echo(socket: VsockSocket): void {
  socket.pipe(socket);
  socket.on('error', () => socket.destroy());
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Everything `stream` yields until it ends. Events, not `for await`: the
 * async iterator destroys the stream at the end, which would also close the
 * writable side of a half-closed socket.
 */
export function readAll(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** `total` random bytes as `chunkSize` pieces. */
export function randomChunks(total: number, chunkSize: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < total; offset += chunkSize) chunks.push(randomBytes(Math.min(chunkSize, total - offset)));
  return chunks;
}

/** Writes `chunks` honouring backpressure, then ends the writable side. */
export async function writeAll(socket: VsockSocket, chunks: readonly Buffer[]): Promise<void> {
  for (const chunk of chunks) {
    if (!socket.write(chunk)) await waitForDrain(socket);
  }
  await new Promise<void>((resolve, reject) => {
    socket.end((error?: Error | null) => (error ? reject(error) : resolve()));
  });
}

function waitForDrain(socket: VsockSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      socket.off('error', onError);
      resolve();
    };
    const onError = (error: Error): void => {
      socket.off('drain', onDrain);
      reject(error);
    };
    socket.once('drain', onDrain);
    socket.once('error', onError);
  });
}
