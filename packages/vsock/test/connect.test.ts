import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VMADDR_CID_LOCAL, VMADDR_PORT_ANY, connectVsock, listenVsock, type VsockSystemError } from '@router-service/vsock';

// This machine has no vsock loopback transport, so a connection to its own
// CID is never answered. (The host CID belongs to someone else: never used.)

test('an unanswered connect fails with ETIMEDOUT after timeoutMs', async () => {
  const server = await listenVsock({ port: VMADDR_PORT_ANY });
  const { port } = server.address();
  try {
    const started = Date.now();
    await assert.rejects(connectVsock({ cid: VMADDR_CID_LOCAL, port, timeoutMs: 300 }), (error: VsockSystemError) => {
      assert.equal(error.code, 'ETIMEDOUT');
      assert.equal(error.syscall, 'connect');
      assert.match(error.message, new RegExp(`\\(vsock 1:${port}\\)$`));
      return true;
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 250 && elapsed < 2000, `took ${elapsed} ms`);
  } finally {
    await server.close();
  }
});

test('without timeoutMs the kernel connect timeout ends it with a coded error', async () => {
  const started = Date.now();
  await assert.rejects(connectVsock({ cid: VMADDR_CID_LOCAL, port: 1024 }), (error: VsockSystemError) => {
    assert.equal(error.code, 'ETIMEDOUT');
    assert.equal(error.syscall, 'connect');
    assert.match(error.message, /^connect ETIMEDOUT: .*\(vsock 1:1024\)$/);
    return true;
  });
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 5000, `took ${elapsed} ms`);
});
