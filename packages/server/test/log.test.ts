import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../src/log.js';

function capture(format: 'text' | 'json', level: 'debug' | 'info' | 'warn' | 'error' = 'info'): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger(format, level, (line) => lines.push(line)) };
}

test('text lines are time, level, message, then key=value', () => {
  const { lines, log } = capture('text');
  log.info({ vlan: 100, interface: 'eth0.100', nat: true, sources: ['192.0.2.0/24'] }, 'network configured');
  assert.equal(lines.length, 1);
  assert.match(
    lines[0] ?? '',
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO network configured vlan=100 interface=eth0\.100 nat=true sources=\["192\.0\.2\.0\/24"\]\n$/,
  );
});

test('text values with spaces, quotes or = are quoted; errors show their message', () => {
  const { lines, log } = capture('text');
  log.warn({ err: new Error('link eth0.5: not ours'), empty: '', eq: 'a=b' }, 'reconcile failed');
  assert.match(lines[0] ?? '', / WARN reconcile failed err="link eth0\.5: not ours" empty="" eq="a=b"\n$/);
});

test('json lines are pino JSON with the level by name', () => {
  const { lines, log } = capture('json');
  log.error({ vlan: 7 }, 'boom');
  const record = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
  assert.equal(record.level, 'error');
  assert.equal(record.msg, 'boom');
  assert.equal(record.vlan, 7);
  assert.equal(typeof record.time, 'string');
});

test('the level filters', () => {
  const { lines, log } = capture('text', 'warn');
  log.info({}, 'hidden');
  log.debug({}, 'hidden');
  log.warn({}, 'shown');
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? '', / WARN shown\n$/);
});
