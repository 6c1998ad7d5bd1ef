import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ANY_CID, DEFAULT_DIAL_ADDRESS, formatEndpoint, isLoopback, parseEndpoint, type Endpoint, type TcpEndpoint } from '../src/index.js';

describe('parseEndpoint', () => {
  const good: Array<[string, Endpoint]> = [
    ['vsock://:50052', { scheme: 'vsock', cid: ANY_CID, port: 50052 }],
    ['vsock://1:50052', { scheme: 'vsock', cid: 1, port: 50052 }],
    ['vsock://4294967295:1', { scheme: 'vsock', cid: ANY_CID, port: 1 }],
    ['unix:///run/router-service.sock', { scheme: 'unix', path: '/run/router-service.sock' }],
    ['tcp://127.0.0.1:50052', { scheme: 'tcp', host: '127.0.0.1', port: 50052 }],
    ['tcp://[::1]:50052', { scheme: 'tcp', host: '::1', port: 50052 }],
    ['tcp://0.0.0.0:0', { scheme: 'tcp', host: '0.0.0.0', port: 0 }],
  ];
  for (const [address, want] of good) {
    test(`parses ${address}`, () => {
      assert.deepEqual(parseEndpoint(address), want);
    });
  }
  for (const [address] of good.filter(([a]) => a !== 'vsock://4294967295:1')) {
    test(`formats ${address} back`, () => {
      assert.equal(formatEndpoint(parseEndpoint(address)), address);
    });
  }

  test('accepts unix:/path and formats it as unix:///path', () => {
    assert.equal(formatEndpoint(parseEndpoint('unix:/tmp/x.sock')), 'unix:///tmp/x.sock');
  });

  test('the default dial address is vsock loopback on 50052', () => {
    assert.deepEqual(parseEndpoint(DEFAULT_DIAL_ADDRESS), { scheme: 'vsock', cid: 1, port: 50052 });
  });

  const bad: Array<[string, string]> = [
    ['vsock://1', 'address "vsock://1": needs a numeric port, as in vsock://:50052'],
    ['vsock://:', 'address "vsock://:": needs a numeric port, as in vsock://:50052'],
    ['vsock://:x', 'address "vsock://:x": needs a numeric port, as in vsock://:50052'],
    ['vsock://:4294967296', 'address "vsock://:4294967296": needs a numeric port, as in vsock://:50052'],
    ['vsock://x:50052', 'address "vsock://x:50052": CID "x" is not a number'],
    ['vsock://-1:50052', 'address "vsock://-1:50052": CID "-1" is not a number'],
    ['unix://relative/path', 'address "unix://relative/path": write unix sockets as unix:///absolute/path'],
    ['unix:relative', 'address "unix:relative": write unix sockets as unix:///absolute/path'],
    ['unix://', 'address "unix://": write unix sockets as unix:///absolute/path'],
    ['tcp://localhost:50052', 'address "tcp://localhost:50052": needs an IP and port, as in tcp://127.0.0.1:50052'],
    ['tcp://127.0.0.1', 'address "tcp://127.0.0.1": needs an IP and port, as in tcp://127.0.0.1:50052'],
    ['tcp://127.0.0.1:65536', 'address "tcp://127.0.0.1:65536": needs an IP and port, as in tcp://127.0.0.1:50052'],
    ['tcp://::1:50052', 'address "tcp://::1:50052": needs an IP and port, as in tcp://127.0.0.1:50052'],
    ['tcp://[127.0.0.1]:50052', 'address "tcp://[127.0.0.1]:50052": needs an IP and port, as in tcp://127.0.0.1:50052'],
    ['http://127.0.0.1:80', 'address "http://127.0.0.1:80": scheme must be vsock, unix or tcp'],
    ['ftp://x', 'address "ftp://x": scheme must be vsock, unix or tcp'],
    ['/run/router-service.sock', 'address "/run/router-service.sock": scheme must be vsock, unix or tcp'],
    ['', 'address "": scheme must be vsock, unix or tcp'],
  ];
  for (const [address, message] of bad) {
    test(`rejects ${JSON.stringify(address)}`, () => {
      assert.throws(() => parseEndpoint(address), { message });
    });
  }
});

describe('isLoopback', () => {
  const cases: Array<[string, boolean]> = [
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['10.0.0.1', false],
    ['::', false],
    ['::2', false],
    ['fe80::1', false],
  ];
  for (const [host, want] of cases) {
    test(`${host} is ${want ? '' : 'not '}loopback`, () => {
      const endpoint: TcpEndpoint = { scheme: 'tcp', host, port: 1 };
      assert.equal(isLoopback(endpoint), want);
    });
  }
});
