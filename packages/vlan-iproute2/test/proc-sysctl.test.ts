// Without a netns option, settings go to /proc/sys of the namespace the
// process runs in.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Netns } from '@router-service/test-support';
import { procSysctlWriter } from '../src/sysctl.js';

let ns: Netns;
before(async () => {
  ns = await Netns.create();
});
after(() => ns.delete());

test('a backend running inside a namespace isolates and forwards there', async () => {
  await ns.ip('link', 'add', 'b0.5', 'type', 'veth', 'peer', 'name', 'b1');
  const script = [
    'const { createIproute2VlanBackend } = await import(process.argv[1]);',
    'const backend = createIproute2VlanBackend();',
    'await backend.isolate(process.argv[2]);',
    'await backend.enableForwarding();',
  ].join('\n');
  const moduleUrl = new URL('../src/index.js', import.meta.url).href;
  const child = await ns.exec(process.execPath, ['--input-type=module', '-e', script, moduleUrl, 'b0.5']);
  assert.equal(child.code, 0, child.stderr);
  assert.equal(await ns.sysctl('net', 'ipv4', 'conf', 'b0.5', 'arp_ignore'), '1');
  assert.equal(await ns.sysctl('net', 'ipv4', 'conf', 'b0.5', 'arp_announce'), '2');
  assert.equal(await ns.sysctl('net', 'ipv4', 'conf', 'b0.5', 'rp_filter'), '1');
  assert.equal(await ns.sysctl('net', 'ipv4', 'ip_forward'), '1');
});

test('the /proc/sys writer writes only values that differ, dotted names as one segment', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sysctl-'));
  try {
    mkdirSync(join(root, 'net', 'ipv4', 'conf', 'eth0.100'), { recursive: true });
    writeFileSync(join(root, 'net', 'ipv4', 'conf', 'eth0.100', 'arp_ignore'), '1\n');
    writeFileSync(join(root, 'net', 'ipv4', 'conf', 'eth0.100', 'rp_filter'), '0\n');
    await procSysctlWriter(root)([
      { path: ['net', 'ipv4', 'conf', 'eth0.100', 'arp_ignore'], value: '1' },
      { path: ['net', 'ipv4', 'conf', 'eth0.100', 'rp_filter'], value: '1' },
    ]);
    assert.equal(readFileSync(join(root, 'net', 'ipv4', 'conf', 'eth0.100', 'arp_ignore'), 'utf8'), '1\n');
    assert.equal(readFileSync(join(root, 'net', 'ipv4', 'conf', 'eth0.100', 'rp_filter'), 'utf8'), '1');
    await assert.rejects(procSysctlWriter(root)([{ path: ['net', 'ipv4', 'conf', 'absent0', 'arp_ignore'], value: '1' }]), /ENOENT/);
    // A kernel booted without IPv6 has no net/ipv6: an optional setting is skipped, the next one still written.
    writeFileSync(join(root, 'net', 'ipv4', 'conf', 'eth0.100', 'rp_filter'), '0\n');
    await procSysctlWriter(root)([
      { path: ['net', 'ipv6', 'conf', 'eth0.100', 'disable_ipv6'], value: '1', optional: true },
      { path: ['net', 'ipv4', 'conf', 'eth0.100', 'rp_filter'], value: '1' },
    ]);
    assert.equal(readFileSync(join(root, 'net', 'ipv4', 'conf', 'eth0.100', 'rp_filter'), 'utf8'), '1');
  } finally {
    rmSync(root, { recursive: true });
  }
});
