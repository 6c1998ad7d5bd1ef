import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';

// Node unloads an addon when a worker ends: sockets the worker left open
// must be closed, and their close callbacks run, before that happens.
const packageUrl = new URL('../src/index.js', import.meta.url).href;

test('a worker that ends with open sockets takes them down cleanly', async () => {
  const source = `
    const { parentPort } = await import('node:worker_threads');
    const vsock = await import(${JSON.stringify(packageUrl)});
    const server = await vsock.listenVsock({ port: vsock.VMADDR_PORT_ANY });
    const closing = await vsock.listenVsock({ port: vsock.VMADDR_PORT_ANY });
    void closing.close();
    parentPort.postMessage(server.address().port);
  `;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`));
  const [port] = (await once(worker, 'message')) as [number];
  assert.ok(Number.isInteger(port));
  assert.equal(await worker.terminate(), 1);
});
