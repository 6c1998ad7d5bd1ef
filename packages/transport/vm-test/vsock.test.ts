/**
 * Serving and dialing over vsock. Runs only where vsock loopback exists (the
 * helper VM: `pnpm run test:vm`); on a machine without it every test fails.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { status as grpcStatus, type Server, type ServiceError } from '@grpc/grpc-js';
import { parseEndpoint, serveEndpoint, type ServeOptions } from '../src/index.js';
import { getHealth, healthOnlyServer, status } from '../test/health-only-server.js';

const PORT_BASE = 50_100 + (process.pid % 1000);

async function withServer(port: number, options: ServeOptions, run: () => Promise<void>): Promise<void> {
  const server: Server = healthOnlyServer();
  const served = await serveEndpoint(server, parseEndpoint(`vsock://:${port}`), options);
  try {
    await run();
  } finally {
    await served.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  }
}

describe('vsock', () => {
  test('50 concurrent calls through vsock loopback', async () => {
    await withServer(PORT_BASE, {}, async () => {
      const answers = await Promise.all(Array.from({ length: 50 }, () => getHealth(`vsock://1:${PORT_BASE}`)));
      assert.deepEqual(answers, Array.from({ length: 50 }, () => status));
    });
  });

  test('vsock://:PORT dials the local CID', async () => {
    await withServer(PORT_BASE + 1, {}, async () => {
      assert.deepEqual(await getHealth(`vsock://:${PORT_BASE + 1}`), status);
    });
  });

  test('a peer outside the CID allow-list is cut off', async () => {
    const refused: number[] = [];
    await withServer(PORT_BASE + 2, { allowCids: [7], log: { warn: (fields) => refused.push(Number(fields.peer_cid)) } }, async () => {
      const err = (await getHealth(`vsock://1:${PORT_BASE + 2}`, 3000).then(
        () => assert.fail('answered a peer outside the allow-list'),
        (e: ServiceError) => e,
      ));
      assert.ok(err.code === grpcStatus.UNAVAILABLE || err.code === grpcStatus.DEADLINE_EXCEEDED, err.message);
    });
    assert.ok(refused.includes(1), `refusals logged: ${refused.join(', ')}`);
  });

  test('a peer in the allow-list is served', async () => {
    await withServer(PORT_BASE + 3, { allowCids: [1] }, async () => {
      assert.deepEqual(await getHealth(`vsock://1:${PORT_BASE + 3}`), status);
    });
  });

  test('dialing a port nobody listens on is UNAVAILABLE', async () => {
    const err = await getHealth(`vsock://1:${PORT_BASE + 4}`, 3000).then(
      () => assert.fail('a call to no server answered'),
      (e: ServiceError) => e,
    );
    assert.ok(err.code === grpcStatus.UNAVAILABLE || err.code === grpcStatus.DEADLINE_EXCEEDED, err.message);
  });
});
