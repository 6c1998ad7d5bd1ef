import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RouterError } from '@router-service/core';
import { createIproute2VlanBackend } from '../src/index.js';
import { Netns } from './netns.js';

let ns: Netns;
before(() => {
  ns = new Netns();
});
after(() => ns.delete());

function isKind(kind: string, message: RegExp): (err: unknown) => boolean {
  return (err) => err instanceof RouterError && err.kind === kind && message.test(err.message);
}

test('the uplink follows the IPv4 default route with the lowest metric', async () => {
  const backend = createIproute2VlanBackend({ netns: ns.name });
  ns.ip('link', 'add', 'uplink0', 'mtu', '1400', 'type', 'veth', 'peer', 'name', 'other0');
  ns.ip('addr', 'add', '192.168.77.2/24', 'dev', 'uplink0');
  ns.ip('addr', 'add', '192.168.88.2/24', 'dev', 'other0');
  ns.ip('addr', 'add', '169.254.7.7/16', 'scope', 'link', 'dev', 'uplink0');
  ns.ip('addr', 'add', 'fd00::2/64', 'dev', 'uplink0');
  ns.ip('link', 'set', 'uplink0', 'up');
  ns.ip('link', 'set', 'other0', 'up');

  await assert.rejects(
    backend.defaultRouteInterface(),
    isKind('precondition', /^no interface holds an IPv4 default route: name the parent interface with --parent$/),
  );
  // Routes that name no single device cannot pick the uplink.
  ns.ip('route', 'add', 'blackhole', 'default', 'metric', '1');
  await assert.rejects(backend.defaultRouteInterface(), isKind('precondition', /--parent/));

  ns.ip('route', 'add', 'default', 'via', '192.168.77.1', 'dev', 'uplink0', 'metric', '100');
  ns.ip('route', 'add', 'default', 'via', '192.168.88.1', 'dev', 'other0', 'metric', '200');
  assert.equal(await backend.defaultRouteInterface(), 'uplink0');
  assert.deepEqual(await backend.uplink('uplink0'), { name: 'uplink0', mtu: 1400, prefixes: ['192.168.77.0/24'] });

  ns.ip('route', 'del', 'default', 'via', '192.168.77.1', 'dev', 'uplink0', 'metric', '100');
  ns.ip('route', 'add', 'default', 'via', '192.168.77.1', 'dev', 'uplink0', 'metric', '300');
  assert.equal(await backend.defaultRouteInterface(), 'other0');
});

test('an IPv6 default route does not make an uplink', async () => {
  const other = new Netns();
  try {
    other.ip('link', 'add', 'v6only', 'type', 'veth', 'peer', 'name', 'v6peer');
    other.ip('link', 'set', 'v6only', 'up');
    other.ip('-6', 'route', 'add', 'default', 'dev', 'v6only');
    await assert.rejects(createIproute2VlanBackend({ netns: other.name }).defaultRouteInterface(), isKind('precondition', /--parent/));
  } finally {
    other.delete();
  }
});

test('a missing parent is a precondition error that names it', async () => {
  const backend = createIproute2VlanBackend({ netns: ns.name });
  await assert.rejects(backend.uplink('nonexistent0'), isKind('precondition', /^parent interface nonexistent0 does not exist$/));
  await assert.rejects(backend.uplink('bad name'), isKind('invalid', /invalid interface name "bad name"/));
});

test('a missing ip binary is reported as unavailable', async () => {
  const backend = createIproute2VlanBackend({ netns: ns.name, ipPath: '/nonexistent/ip' });
  await assert.rejects(backend.uplink('uplink0'), isKind('unavailable', /\/nonexistent\/ip/));
});
