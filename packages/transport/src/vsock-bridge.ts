/**
 * A private unix socket that forwards each connection to a vsock address, so
 * that grpc-js (which dials only tcp and unix) can reach a vsock server. The
 * socket lives in a fresh 0700 directory, so only this user can use it, and
 * both are removed on close or at process exit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectVsock } from '@router-service/vsock';
import { ANY_CID, LOCAL_CID, type VsockEndpoint } from './endpoint.js';

export interface VsockBridge {
  /** The unix socket to dial. */
  readonly path: string;
  close(): void;
}

export function openVsockBridge(endpoint: VsockEndpoint): VsockBridge {
  const cid = endpoint.cid === ANY_CID ? LOCAL_CID : endpoint.cid;
  const dir = mkdtempSync(join(tmpdir(), 'router-service-vsock-'));
  const path = join(dir, 'bridge.sock');
  const local = new Set<Socket>();
  const server = createServer((socket) => {
    local.add(socket);
    socket.once('close', () => local.delete(socket));
    // A reset from the client only ends this connection.
    socket.on('error', () => socket.destroy());
    socket.pause();
    connectVsock({ cid, port: endpoint.port }).then(
      (remote) => {
        if (socket.destroyed) {
          remote.destroy();
          return;
        }
        socket.pipe(remote);
        remote.pipe(socket);
        socket.once('close', () => remote.destroy());
        remote.once('close', () => socket.destroy());
        remote.on('error', () => socket.destroy());
        socket.resume();
      },
      // The client sees a closed connection and reports UNAVAILABLE.
      () => socket.destroy(),
    );
  });
  // Binding a unix socket is synchronous, so the path is ready when this
  // returns, before the client's first (asynchronous) connect.
  server.listen(path);
  server.unref();
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  let closed = false;
  return {
    path,
    close() {
      if (closed) return;
      closed = true;
      server.close();
      for (const socket of local) socket.destroy();
      process.off('exit', removeDir);
      removeDir();
    },
  };
}
