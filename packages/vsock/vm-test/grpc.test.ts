import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream';
import { test } from 'node:test';
import {
  Server,
  ServerCredentials,
  credentials,
  makeGenericClientConstructor,
  type ServiceDefinition,
  type ServiceError,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { VMADDR_CID_LOCAL, connectVsock, type VsockServer } from '@router-service/vsock';
import { startServer } from './support.js';

// One unary method whose messages are raw bytes: no .proto files at run time.
const identity = (data: Buffer): Buffer => data;
const echoService: ServiceDefinition = {
  echo: {
    path: '/vsock.test.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

/** A grpc-js server fed with the connections a vsock listener accepts. */
async function startGrpcOverVsock(): Promise<{ grpcServer: Server; vsockServer: VsockServer; peers: string[] }> {
  const peers: string[] = [];
  const grpcServer = new Server();
  const implementation: UntypedServiceImplementation = {
    echo: (call: { request: Buffer; getPeer(): string }, callback: (error: null, reply: Buffer) => void) => {
      peers.push(call.getPeer());
      callback(null, Buffer.concat([Buffer.from('echo:'), call.request]));
    },
  };
  grpcServer.addService(echoService, implementation);
  const injector = grpcServer.createConnectionInjector(ServerCredentials.createInsecure());
  const vsockServer = await startServer((socket) => injector.injectConnection(socket));
  return { grpcServer, vsockServer, peers };
}

/** A unix socket whose every connection is piped to vsock `port` on this machine. */
async function startUnixBridge(port: number): Promise<{ path: string; bridge: NetServer; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'vsock-grpc-'));
  const path = join(dir, 'bridge.sock');
  const bridge = createServer((local: Socket) => {
    connectVsock({ cid: VMADDR_CID_LOCAL, port }).then(
      (remote) => {
        pipeline(local, remote, () => undefined);
        pipeline(remote, local, () => undefined);
      },
      () => local.destroy(),
    );
  });
  await new Promise<void>((resolve) => bridge.listen(path, resolve));
  return { path, bridge, dir };
}

test('50 concurrent unary gRPC calls through grpc-js over vsock', async (t) => {
  const { grpcServer, vsockServer, peers } = await startGrpcOverVsock();
  const { path, bridge, dir } = await startUnixBridge(vsockServer.address().port);
  const EchoClient = makeGenericClientConstructor(echoService, 'Echo');
  const client = new EchoClient(`unix:${path}`, credentials.createInsecure());
  const echoCall = client['echo'] as (request: Buffer, callback: (error: ServiceError | null, reply?: Buffer) => void) => void;
  try {
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        new Promise<string>((resolve, reject) => {
          echoCall.call(client, Buffer.from(`call-${index}`), (error, reply) => (error ? reject(error) : resolve(String(reply))));
        }),
      ),
    );
    assert.deepEqual(replies, Array.from({ length: 50 }, (_, index) => `echo:call-${index}`));
    assert.equal(peers.length, 50);
    // http2 wraps the Duplex in its own socket shim, which decides what grpc-js sees as the peer.
    t.diagnostic(`grpc-js peer of an injected vsock connection: ${peers[0]}`);
  } finally {
    client.close();
    await new Promise((resolve) => bridge.close(resolve));
    rmSync(dir, { recursive: true, force: true });
    await new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
    await vsockServer.close();
  }
});

test('an http2 client session runs directly on a VsockSocket', async () => {
  const { grpcServer, vsockServer } = await startGrpcOverVsock();
  const socket = await connectVsock({ cid: VMADDR_CID_LOCAL, port: vsockServer.address().port });
  const session = http2.connect('http://vsock', { createConnection: () => socket });
  try {
    const payload = Buffer.from('direct');
    const frame = Buffer.alloc(5 + payload.length);
    frame.writeUInt32BE(payload.length, 1);
    payload.copy(frame, 5);
    const request = session.request({
      ':method': 'POST',
      ':path': '/vsock.test.Echo/Echo',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => request.once('trailers', resolve));
    request.end(frame);
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    assert.equal((await trailers)['grpc-status'], '0');
    assert.equal(body.readUInt32BE(1), body.length - 5);
    assert.equal(body.subarray(5).toString(), 'echo:direct');
  } finally {
    await new Promise<void>((resolve) => session.close(() => resolve()));
    await new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
    await vsockServer.close();
  }
});
