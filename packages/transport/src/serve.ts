/**
 * Serving a grpc-js server on an endpoint. unix and tcp listeners are grpc-js
 * bound ports; vsock connections are accepted by @router-service/vsock and
 * injected into the server, since grpc-js cannot bind AF_VSOCK itself.
 */
import { chmod, lstat, rm } from 'node:fs/promises';
import { ServerCredentials, type Server } from '@grpc/grpc-js';
import { listenVsock, type VsockServer, type VsockSocket } from '@router-service/vsock';
import { formatEndpoint, hostPort, isLoopback, type Endpoint, type TcpEndpoint, type UnixEndpoint, type VsockEndpoint } from './endpoint.js';

/** The part of a pino-style logger the listeners write to. */
export interface TransportLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface ServeOptions {
  /** Permit tcp endpoints on non-loopback addresses (the API has no authentication). */
  allowRemoteTcp?: boolean;
  /** When not empty, the only vsock peer CIDs accepted. */
  allowCids?: readonly number[];
  log?: TransportLogger;
}

/** An endpoint being served. */
export interface ServedEndpoint {
  /** The address as a URL, with the port actually bound (tcp port 0). */
  readonly address: string;
  /**
   * Stops accepting connections on this endpoint and removes its socket
   * file. Connections already accepted stay with the server: shut the server
   * down to end them.
   */
  close(): Promise<void>;
}

/** Serves `server` on `endpoint`. Call it before any other bind of the server. */
export async function serveEndpoint(server: Server, endpoint: Endpoint, options: ServeOptions = {}): Promise<ServedEndpoint> {
  switch (endpoint.scheme) {
    case 'unix':
      return serveUnix(server, endpoint);
    case 'tcp':
      return serveTcp(server, endpoint, options);
    case 'vsock':
      return serveVsock(server, endpoint, options);
  }
}

async function serveUnix(server: Server, endpoint: UnixEndpoint): Promise<ServedEndpoint> {
  const address = formatEndpoint(endpoint);
  // A socket file left by a previous run would make bind fail; a non-socket
  // at that path belongs to someone else and stays.
  if (await isSocket(endpoint.path)) {
    await rm(endpoint.path).catch((err: unknown) => {
      throw new Error(`removing stale socket ${endpoint.path}: ${messageOf(err)}`);
    });
  }
  const target = `unix://${endpoint.path}`;
  await bind(server, target, address);
  try {
    await chmod(endpoint.path, 0o600);
  } catch (err) {
    server.unbind(target);
    throw new Error(`restricting ${endpoint.path} to its owner: ${messageOf(err)}`);
  }
  return {
    address,
    async close() {
      server.unbind(target);
      if (await isSocket(endpoint.path)) await rm(endpoint.path, { force: true });
    },
  };
}

async function serveTcp(server: Server, endpoint: TcpEndpoint, options: ServeOptions): Promise<ServedEndpoint> {
  if (!isLoopback(endpoint) && options.allowRemoteTcp !== true) {
    throw new Error(
      `refusing to listen on non-loopback ${formatEndpoint(endpoint)}: the API has no authentication; pass --allow-remote-tcp to override`,
    );
  }
  const port = await bind(server, hostPort(endpoint), formatEndpoint(endpoint));
  const bound = { ...endpoint, port };
  return {
    address: formatEndpoint(bound),
    async close() {
      server.unbind(hostPort(bound));
    },
  };
}

async function serveVsock(server: Server, endpoint: VsockEndpoint, options: ServeOptions): Promise<ServedEndpoint> {
  const address = formatEndpoint(endpoint);
  let listener: VsockServer;
  try {
    listener = await listenVsock({ port: endpoint.port, cid: endpoint.cid });
  } catch (err) {
    throw new Error(`listening on ${address}: ${messageOf(err)}`);
  }
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  const allowed = new Set(options.allowCids ?? []);
  listener.on('connection', (socket: VsockSocket) => {
    if (allowed.size > 0 && !allowed.has(socket.remoteCid)) {
      options.log?.warn(
        { peer_cid: socket.remoteCid, peer_port: socket.remotePort, listen: address },
        'vsock connection refused: peer CID not allowed',
      );
      socket.destroy();
      return;
    }
    injector.injectConnection(socket);
  });
  listener.on('error', (err: unknown) => {
    options.log?.warn({ listen: address, err: messageOf(err) }, 'vsock listener error');
  });
  return {
    address,
    async close() {
      listener.close();
    },
  };
}

function bind(server: Server, target: string, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(target, ServerCredentials.createInsecure(), (err, port) => {
      if (err) reject(new Error(`listening on ${address}: ${err.message}`));
      else resolve(port);
    });
  });
}

async function isSocket(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isSocket();
  } catch {
    return false;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
