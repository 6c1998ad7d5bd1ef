import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RouterError } from '@router-service/core';
import { Netns } from '@router-service/test-support';
import { createIproute2VlanBackend } from '../src/index.js';

let ns: Netns;
before(async () => {
  ns = await Netns.create();
});
after(() => ns.delete());

function isKind(kind: string, message: RegExp): (err: unknown) => boolean {
  return (err) => err instanceof RouterError && err.kind === kind && message.test(err.message);
}

test('the uplink follows the IPv4 default route with the lowest metric', async () => {
  const backend = createIproute2VlanBackend({ netns: ns.name });
  await ns.ip('link', 'add', 'uplink0', 'mtu', '1400', 'type', 'veth', 'peer', 'name', 'other0');
  await ns.ip('addr', 'add', '192.168.77.2/24', 'dev', 'uplink0');
  await ns.ip('addr', 'add', '192.168.88.2/24', 'dev', 'other0');
  await ns.ip('addr', 'add', '169.254.7.7/16', 'scope', 'link', 'dev', 'uplink0');
  await ns.ip('addr', 'add', 'fd00::2/64', 'dev', 'uplink0');
  await ns.ip('link', 'set', 'uplink0', 'up');
  await ns.ip('link', 'set', 'other0', 'up');

  await assert.rejects(
    backend.defaultRouteInterface(),
    isKind('precondition', /^no interface holds an IPv4 default route: name the parent interface with --parent$/),
  );
  // Routes that name no single device cannot pick the uplink.
  await ns.ip('route', 'add', 'blackhole', 'default', 'metric', '1');
  await assert.rejects(backend.defaultRouteInterface(), isKind('precondition', /--parent/));

  await ns.ip('route', 'add', 'default', 'via', '192.168.77.1', 'dev', 'uplink0', 'metric', '100');
  await ns.ip('route', 'add', 'default', 'via', '192.168.88.1', 'dev', 'other0', 'metric', '200');
  assert.equal(await backend.defaultRouteInterface(), 'uplink0');
  assert.deepEqual(await backend.uplink('uplink0'), { name: 'uplink0', mtu: 1400, prefixes: ['192.168.77.0/24'] });

  await ns.ip('route', 'del', 'default', 'via', '192.168.77.1', 'dev', 'uplink0', 'metric', '100');
  await ns.ip('route', 'add', 'default', 'via', '192.168.77.1', 'dev', 'uplink0', 'metric', '300');
  assert.equal(await backend.defaultRouteInterface(), 'other0');
});

test('an IPv6 default route does not make an uplink', async () => {
  const other = await Netns.create();
  try {
    await other.ip('link', 'add', 'v6only', 'type', 'veth', 'peer', 'name', 'v6peer');
    await other.ip('link', 'set', 'v6only', 'up');
    await other.ip('-6', 'route', 'add', 'default', 'dev', 'v6only');
    await assert.rejects(createIproute2VlanBackend({ netns: other.name }).defaultRouteInterface(), isKind('precondition', /--parent/));
  } finally {
    await other.delete();
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
