import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { VMADDR_CID_ANY, VMADDR_PORT_ANY, listenVsock, type VsockSystemError } from '@router-service/vsock';

test('listening on a kernel-chosen port reports the bound address', async () => {
  const server = await listenVsock({ port: VMADDR_PORT_ANY });
  try {
    const address = server.address();
    assert.equal(address.cid, VMADDR_CID_ANY);
    assert.ok(Number.isInteger(address.port) && address.port !== VMADDR_PORT_ANY, `port ${address.port}`);
    assert.equal(server.listening, true);
  } finally {
    await server.close();
  }
});

test('a port in use fails with EADDRINUSE naming the address', async () => {
  const server = await listenVsock({ port: VMADDR_PORT_ANY });
  try {
    const { port } = server.address();
    await assert.rejects(listenVsock({ port }), (error: VsockSystemError) => {
      assert.equal(error.code, 'EADDRINUSE');
      assert.equal(error.syscall, 'bind');
      assert.ok(error.errno < 0);
      assert.match(error.message, new RegExp(`^bind EADDRINUSE: .*\\(vsock ANY:${port}\\)$`));
      return true;
    });
  } finally {
    await server.close();
  }
});

test('close releases the port at once and emits close once', async () => {
  const server = await listenVsock({ port: VMADDR_PORT_ANY });
  const { port } = server.address();
  let closes = 0;
  server.on('close', () => (closes += 1));
  const closed = once(server, 'close');
  await server.close();
  await server.close();
  assert.equal(server.listening, false);
  const again = await listenVsock({ port });
  await again.close();
  await closed;
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(closes, 1);
});
