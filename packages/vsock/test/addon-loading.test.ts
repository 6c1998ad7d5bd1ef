import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { vsockAddonPath } from '@router-service/vsock';

// A copy of the compiled package in a scratch directory loads as a separate
// module instance whose candidate paths point into that directory.
const compiledSources = fileURLToPath(new URL('../src', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'vsock-loading-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

type PackageModule = typeof import('@router-service/vsock');

function copyOfPackage(name: string): { sourceDir: string; load: () => Promise<PackageModule> } {
  const sourceDir = join(scratch, name, 'dist', 'src');
  cpSync(compiledSources, sourceDir, { recursive: true });
  return { sourceDir, load: () => import(pathToFileURL(join(sourceDir, 'index.js')).href) as Promise<PackageModule> };
}

test('an addon next to the running module is preferred', async () => {
  const { sourceDir, load } = copyOfPackage('bundled');
  copyFileSync(vsockAddonPath(), join(sourceDir, 'vsock.node'));
  const copy = await load();
  assert.equal(copy.vsockAddonPath(), join(sourceDir, 'vsock.node'));
});

test('a missing addon is a clear error naming every path tried', async () => {
  const { sourceDir, load } = copyOfPackage('unbuilt');
  const copy = await load();
  assert.throws(() => copy.vsockAddonPath(), (error: NodeJS.ErrnoException) => {
    assert.equal(error.code, 'ERR_VSOCK_ADDON');
    assert.ok(error.message.includes(join(sourceDir, 'vsock.node')), error.message);
    assert.ok(error.message.includes(join(scratch, 'unbuilt', 'build', 'Release', 'vsock.node')), error.message);
    return true;
  });
  await assert.rejects(copy.listenVsock({ port: 1024 }), { code: 'ERR_VSOCK_ADDON' });
});
