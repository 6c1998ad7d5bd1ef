import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '@router-service/core';
import plugin, { createDnsmasqBackend } from '../src/index.js';

test('the default export is a DNS plugin named dnsmasq', () => {
  assert.equal(plugin.kind, 'dns');
  assert.equal(plugin.name, 'dnsmasq');
  const backend = plugin.create({ log: silentLogger, stateDir: '/var/lib/router-service', dns: { upstreams: ['192.0.2.53'], dnsmasqPath: '/usr/sbin/dnsmasq' } });
  assert.equal(backend.name, 'dnsmasq');
  assert.equal(typeof backend.close, 'function');
});

test('the plugin refuses a bad upstream from the configuration', () => {
  assert.throws(() => plugin.create({ log: silentLogger, stateDir: '/var/lib/router-service', dns: { upstreams: ['192.0.2.53\n'], dnsmasqPath: '/usr/sbin/dnsmasq' } }), /\[dnsmasq\] upstream/);
  assert.throws(() => createDnsmasqBackend({ stateDir: '/x', dnsmasqPath: 'relative/dnsmasq' }), /\[dnsmasq\] dnsmasq program/);
});
