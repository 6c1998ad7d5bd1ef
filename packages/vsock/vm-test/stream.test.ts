import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { VMADDR_CID_ANY, VMADDR_CID_LOCAL, VMADDR_PORT_ANY, connectVsock, listenVsock, type VsockSystemError } from '@router-service/vsock';
import { echo, randomChunks, readAll, sha256, startServer, startServerForOne, writeAll } from './support.js';

const MiB = 1024 * 1024;

async function echoRoundTrip(port: number, total: number): Promise<void> {
  const chunks = randomChunks(total, 64 * 1024);
  const socket = await connectVsock({ cid: VMADDR_CID_LOCAL, port });
  const [received] = await Promise.all([readAll(socket), writeAll(socket, chunks)]);
  assert.equal(received.length, total);
  assert.equal(sha256(received), sha256(Buffer.concat(chunks)));
}

test('10 MB each way through one connection arrive intact', async () => {
  const server = await startServer(echo);
  try {
    await echoRoundTrip(server.address().port, 10 * MiB);
  } finally {
    await server.close();
  }
});

test('8 parallel echoes of 1 MB each', async () => {
  const server = await startServer(echo);
  try {
    await Promise.all(Array.from({ length: 8 }, () => echoRoundTrip(server.address().port, MiB)));
  } finally {
    await server.close();
  }
});

test('half-close: the server reads EOF and can still answer', async () => {
  const server = await startServer((socket) => {
    void readAll(socket).then((request) => socket.end(`got ${request.length} bytes: ${request.toString()}`));
  });
  try {
    const socket = await connectVsock({ cid: VMADDR_CID_LOCAL, port: server.address().port });
    const closed = once(socket, 'close');
    socket.end('hello');
    const reply = await readAll(socket);
    assert.equal(reply.toString(), 'got 5 bytes: hello');
    await closed;
  } finally {
    await server.close();
  }
});

test('both ends report the loopback CID and each other\'s ports', async () => {
  const { server, accepted } = await startServerForOne();
  try {
    const client = await connectVsock({ cid: VMADDR_CID_LOCAL, port: server.address().port });
    assert.equal(client.connecting, false);
    const peer = await accepted;
    assert.equal(peer.remoteCid, VMADDR_CID_LOCAL);
    assert.equal(peer.remotePort, client.localPort);
    assert.equal(peer.localPort, server.address().port);
    assert.equal(client.remoteCid, VMADDR_CID_LOCAL);
    assert.equal(client.remotePort, server.address().port);
    assert.equal(peer.localCid, VMADDR_CID_LOCAL);
    // A dialling socket is bound implicitly to any CID, and getsockname says so.
    assert.equal(client.localCid, VMADDR_CID_ANY);
    assert.equal(peer.remoteAddress, 'vsock:1');
    client.destroy();
    peer.destroy();
  } finally {
    await server.close();
  }
});

test('a slow reader holds the writer back instead of letting it buffer', async () => {
  const chunk = Buffer.alloc(64 * 1024, 7);
  const { server, accepted } = await startServerForOne();
  try {
    const client = await connectVsock({ cid: VMADDR_CID_LOCAL, port: server.address().port });
    const peer = await accepted;
    // Write until the writer has been stuck for a second with nobody reading.
    let sent = 0;
    for (;;) {
      sent += chunk.length;
      if (client.write(chunk)) continue;
      const drained = await Promise.race([
        once(client, 'drain').then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000)),
      ]);
      if (!drained) break;
      assert.ok(sent < 64 * 1024 * 1024, `still accepting after ${sent} bytes`);
    }
    // Bounded on both sides: the writer's queue and the reader's buffer stay
    // near their high-water marks while the kernel buffers hold the rest.
    assert.ok(client.writableLength <= client.writableHighWaterMark + chunk.length, `writer holds ${client.writableLength}`);
    assert.ok(peer.readableLength <= peer.readableHighWaterMark + 64 * 1024, `reader holds ${peer.readableLength}`);
    assert.ok(sent < 16 * 1024 * 1024, `writer got ${sent} bytes out to a reader that reads nothing`);
    client.end();
    const received = await readAll(peer);
    assert.equal(received.length, sent);
    client.destroy();
    peer.destroy();
  } finally {
    await server.close();
  }
});

test('connecting to a port nobody listens on fails with ECONNRESET', async () => {
  const server = await listenVsock({ port: VMADDR_PORT_ANY });
  const { port } = server.address();
  await server.close();
  await assert.rejects(connectVsock({ cid: VMADDR_CID_LOCAL, port, timeoutMs: 5000 }), (error: VsockSystemError) => {
    assert.equal(error.code, 'ECONNRESET');
    assert.equal(error.syscall, 'connect');
    assert.match(error.message, new RegExp(`\\(vsock 1:${port}\\)$`));
    return true;
  });
});

test('closing the server refuses new connections and keeps accepted ones', async () => {
  const server = await startServer(echo);
  const { port } = server.address();
  const client = await connectVsock({ cid: VMADDR_CID_LOCAL, port });
  const closed = once(server, 'close');
  await server.close();
  await closed;
  await assert.rejects(connectVsock({ cid: VMADDR_CID_LOCAL, port, timeoutMs: 5000 }), { code: 'ECONNRESET' });
  client.end('still here');
  assert.equal((await readAll(client)).toString(), 'still here');
});

test('a peer that goes away ends the stream and the socket closes', async () => {
  const server = await startServer((socket) => socket.destroy());
  try {
    const client = await connectVsock({ cid: VMADDR_CID_LOCAL, port: server.address().port });
    const closed = once(client, 'close');
    client.resume();
    const outcome = await Promise.race([
      once(client, 'end').then(() => 'end'),
      once(client, 'error').then(([error]) => (error as VsockSystemError).code),
    ]);
    assert.ok(outcome === 'end' || outcome === 'ECONNRESET', `got ${outcome}`);
    client.destroy();
    await closed;
  } finally {
    await server.close();
  }
});

test('an idle connection costs no CPU', async () => {
  const { server, accepted } = await startServerForOne();
  try {
    const client = await connectVsock({ cid: VMADDR_CID_LOCAL, port: server.address().port });
    const peer = await accepted;
    client.resume();
    peer.resume();
    // The quietest of three idle seconds: a connection that polls or spins
    // costs in every one of them, while the process's own background work
    // (the garbage collector, the compiler finishing earlier tests' code)
    // lands in some.
    const samples: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = process.cpuUsage();
      await sleep(1000);
      const used = process.cpuUsage(before);
      samples.push(used.user + used.system);
    }
    assert.ok(Math.min(...samples) < 50_000, `used ${samples.join(', ')} µs of CPU in three idle seconds`);
    client.destroy();
    peer.destroy();
  } finally {
    await server.close();
  }
});
