import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status as grpcStatus, type Server } from '@grpc/grpc-js';
import { parseEndpoint, serveEndpoint } from '../src/index.js';
import { getHealth, healthOnlyServer, status } from './health-only-server.js';

function shutdown(server: Server): Promise<void> {
  return new Promise((resolve) => server.tryShutdown(() => resolve()));
}

/** What a crashed server leaves behind: a socket file nobody listens on. */
async function leaveStaleSocket(path: string): Promise<void> {
  const child = spawn(process.execPath, [
    '-e',
    `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('listening'))`,
  ]);
  await once(child.stdout, 'data');
  child.kill('SIGKILL');
  await once(child, 'exit');
}

describe('serving on a unix socket', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'transport-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('serves with mode 0600 and removes the socket on close', async () => {
    const path = join(dir, 'router.sock');
    const server = healthOnlyServer();
    const served = await serveEndpoint(server, parseEndpoint(`unix://${path}`));
    try {
      assert.equal(served.address, `unix://${path}`);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.deepEqual(await getHealth(`unix://${path}`), status);
    } finally {
      await served.close();
      await shutdown(server);
    }
    assert.equal(existsSync(path), false);
  });

  test('replaces a stale socket file left by an earlier run', async () => {
    const path = join(dir, 'stale.sock');
    await leaveStaleSocket(path);
    assert.equal(statSync(path).isSocket(), true);
    const server = healthOnlyServer();
    const served = await serveEndpoint(server, parseEndpoint(`unix://${path}`));
    try {
      assert.deepEqual(await getHealth(`unix://${path}`), status);
    } finally {
      await served.close();
      await shutdown(server);
    }
  });

  test('leaves a file that is not a socket alone and fails', async () => {
    const path = join(dir, 'not-a-socket');
    writeFileSync(path, 'keep me');
    const server = healthOnlyServer();
    await assert.rejects(serveEndpoint(server, parseEndpoint(`unix://${path}`)), /listening on unix:\/\/.*not-a-socket/);
    assert.equal(readFileSync(path, 'utf8'), 'keep me');
    server.forceShutdown();
  });
});

describe('serving on tcp', () => {
  test('serves on loopback and reports the bound port', async () => {
    const server = healthOnlyServer();
    const served = await serveEndpoint(server, parseEndpoint('tcp://127.0.0.1:0'));
    try {
      const endpoint = parseEndpoint(served.address);
      assert.equal(endpoint.scheme, 'tcp');
      assert.ok(endpoint.scheme === 'tcp' && endpoint.port > 0);
      assert.deepEqual(await getHealth(served.address), status);
      await served.close();
      await assert.rejects(getHealth(served.address, 2000), { code: grpcStatus.UNAVAILABLE });
    } finally {
      await served.close();
      await shutdown(server);
    }
  });

  test('serves on IPv6 loopback', async () => {
    const server = healthOnlyServer();
    const served = await serveEndpoint(server, parseEndpoint('tcp://[::1]:0'));
    try {
      assert.match(served.address, /^tcp:\/\/\[::1\]:\d+$/);
      assert.deepEqual(await getHealth(served.address), status);
    } finally {
      await served.close();
      await shutdown(server);
    }
  });

  test('refuses a non-loopback address without allowRemoteTcp', async () => {
    const server = healthOnlyServer();
    await assert.rejects(serveEndpoint(server, parseEndpoint('tcp://0.0.0.0:0')), {
      message:
        'refusing to listen on non-loopback tcp://0.0.0.0:0: the API has no authentication; pass --allow-remote-tcp to override',
    });
    server.forceShutdown();
  });

  test('binds a non-loopback address with allowRemoteTcp', async () => {
    const server = healthOnlyServer();
    const served = await serveEndpoint(server, parseEndpoint('tcp://0.0.0.0:0'), { allowRemoteTcp: true });
    try {
      const port = served.address.split(':').at(-1);
      assert.deepEqual(await getHealth(`tcp://127.0.0.1:${port}`), status);
    } finally {
      await served.close();
      await shutdown(server);
    }
  });
});
