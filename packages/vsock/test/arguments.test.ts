import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VMADDR_CID_ANY, VMADDR_PORT_ANY, connectVsock, listenVsock } from '@router-service/vsock';

function rejectsWith(code: string, ErrorClass: typeof TypeError | typeof RangeError, pattern: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ErrorClass, `expected ${ErrorClass.name}, got ${String(error)}`);
    assert.equal((error as NodeJS.ErrnoException).code, code);
    assert.match(error.message, pattern);
    return true;
  };
}

test('listenVsock rejects ports, CIDs and backlogs out of range', async () => {
  await assert.rejects(listenVsock({ port: -1 }), rejectsWith('ERR_OUT_OF_RANGE', RangeError, /port must be an integer/));
  await assert.rejects(listenVsock({ port: 1.5 }), rejectsWith('ERR_OUT_OF_RANGE', RangeError, /port .* got 1\.5/));
  await assert.rejects(listenVsock({ port: 2 ** 32 }), rejectsWith('ERR_OUT_OF_RANGE', RangeError, /port/));
  await assert.rejects(listenVsock({ port: 1024, cid: 2 ** 32 }), rejectsWith('ERR_OUT_OF_RANGE', RangeError, /cid/));
  await assert.rejects(listenVsock({ port: 1024, backlog: 0 }), rejectsWith('ERR_OUT_OF_RANGE', RangeError, /backlog/));
});

test('listenVsock rejects a port that is not a number', async () => {
  const options = JSON.parse('{"port": "50052"}') as { port: number };
  await assert.rejects(listenVsock(options), rejectsWith('ERR_INVALID_ARG_TYPE', TypeError, /port must be a number, got string/));
});

test('connectVsock rejects wildcard addresses and bad timeouts', async () => {
  await assert.rejects(connectVsock({ cid: VMADDR_CID_ANY, port: 1024 }), rejectsWith('ERR_OUT_OF_RANGE', RangeError, /cid/));
  await assert.rejects(connectVsock({ cid: 1, port: VMADDR_PORT_ANY }), rejectsWith('ERR_OUT_OF_RANGE', RangeError, /port/));
  await assert.rejects(connectVsock({ cid: 1, port: 1024, timeoutMs: 0 }), rejectsWith('ERR_OUT_OF_RANGE', RangeError, /timeoutMs/));
  await assert.rejects(connectVsock({ cid: 1, port: 1024, timeoutMs: Number.NaN }), rejectsWith('ERR_OUT_OF_RANGE', RangeError, /timeoutMs/));
});
