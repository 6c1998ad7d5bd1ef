import assert from 'node:assert/strict';
import { relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@router-service/core';
import { builtInPluginNames, loadBackend, type PluginContext } from '../src/plugins.js';
import type { RecordingFirewall } from './fixtures/recording-firewall-plugin.js';

const context: PluginContext = { log: silentLogger, stateDir: '/tmp/state', dns: { upstreams: null, dnsmasqPath: '/usr/sbin/dnsmasq' } };
const recordingPath = fileURLToPath(new URL('./fixtures/recording-firewall-plugin.js', import.meta.url));
const brokenPath = fileURLToPath(new URL('./fixtures/broken-plugin.js', import.meta.url));

test('"none" is built in for both kinds and selects no backend', async () => {
  assert.deepEqual(builtInPluginNames('firewall'), ['none', 'nft', 'iptables']);
  assert.deepEqual(builtInPluginNames('dns'), ['none', 'dnsmasq']);
  assert.equal(await loadBackend('firewall', 'none', context), undefined);
  assert.equal(await loadBackend('dns', 'none', context), undefined);
});

test('"nft" is the built-in nftables firewall', async () => {
  assert.equal((await loadBackend('firewall', 'nft', context))?.name, 'nft');
});

test('"dnsmasq" is the built-in DNS', async () => {
  assert.equal((await loadBackend('dns', 'dnsmasq', context))?.name, 'dnsmasq');
});

test('"iptables" is the built-in iptables firewall', async () => {
  assert.equal((await loadBackend('firewall', 'iptables', context))?.name, 'iptables');
});

test('a plugin module is imported by absolute path and created with the context', async () => {
  const backend = (await loadBackend('firewall', recordingPath, context)) as RecordingFirewall;
  assert.equal(backend.name, 'recording');
  assert.equal(backend.context, context);
});

test('a relative path is resolved against the working directory', async () => {
  const path = `./${relative(process.cwd(), recordingPath)}`;
  assert.equal((await loadBackend('firewall', path, context))?.name, 'recording');
});

test('a package name is imported as it is', async () => {
  const asked: string[] = [];
  const backend = await loadBackend('firewall', '@example/firewall-plugin', context, async (specifier) => {
    asked.push(specifier);
    return import(recordingPath);
  });
  assert.deepEqual(asked, ['@example/firewall-plugin']);
  assert.equal(backend?.name, 'recording');
});

test('an unknown name is an error listing the known ones', async () => {
  await assert.rejects(loadBackend('firewall', 'pf', context), {
    message: 'unknown firewall backend "pf": known ones are none, nft, iptables, or a module whose default export is a firewall plugin',
  });
  await assert.rejects(loadBackend('dns', '', context), {
    message: 'unknown dns backend "": known ones are none, dnsmasq, or a module whose default export is a dns plugin',
  });
});

test('a module of the other kind is refused', async () => {
  await assert.rejects(loadBackend('dns', recordingPath, context), {
    message: `module ${JSON.stringify(recordingPath)} is not a dns plugin: its default export must be { kind: 'dns', name, create(context) }`,
  });
});

test('a module that fails to load says so', async () => {
  await assert.rejects(loadBackend('firewall', brokenPath, context), {
    message: `loading firewall plugin ${JSON.stringify(brokenPath)}: this plugin cannot load here`,
  });
});
