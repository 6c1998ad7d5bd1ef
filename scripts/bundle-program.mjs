// Bundles one compiled program (an ESM entry point and everything it
// imports from node_modules) into a single `.mjs` file that runs on the
// pinned Node with no node_modules next to it. The only things a bundle may
// still load at run time are Node's builtins and native addons (`*.node`),
// which deployments copy next to the bundle; anything else fails the build.
import { readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const repoRoot = dirname(dirname(fileURLToPath(import.meta.url)));

// CommonJS dependencies (grpc-js, protobufjs) call `require` for builtins;
// an ESM bundle has none, so it gets a real one. esbuild renames any
// `require` the sources declare themselves, so this name cannot collide.
const requireShim =
  "import { createRequire as __bundleCreateRequire } from 'node:module';\n" +
  'const require = __bundleCreateRequire(import.meta.url);';

/** The Node version pinned in the root package.json (devEngines.runtime). */
export function pinnedNodeVersion() {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  const version = pkg.devEngines?.runtime?.version;
  if (typeof version !== 'string' || !/^\d+\.\d+\.\d+$/.test(version)) {
    throw new Error('package.json: devEngines.runtime.version must be an exact version like 26.10.0');
  }
  return version;
}

/**
 * Bundles `entry` into `outfile`. Throws when the entry point does not exist
 * (with `missingHint` saying how to build it) or when the bundle would load
 * anything at run time besides builtins and `.node` addons.
 *
 * @param {{ entry: string, outfile: string, missingHint: string }} program
 * @returns {Promise<void>}
 */
export async function bundleProgram({ entry, outfile, missingHint }) {
  try {
    readFileSync(entry);
  } catch {
    throw new Error(`${relative(repoRoot, entry)} not found: ${missingHint}`);
  }
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${pinnedNodeVersion()}`,
    banner: { js: requireShim },
    // Addons are loaded from next to the bundle at run time.
    external: ['*.node'],
    // Module paths in comments are relative to the repository, so the
    // output does not depend on where the checkout lives.
    absWorkingDir: repoRoot,
    metafile: true,
    logLevel: 'silent',
    // A require() of a computed name cannot be bundled and would fail at run time.
    logOverride: { 'unsupported-require-call': 'error' },
  });
  const loadedAtRunTime = Object.values(result.metafile.outputs)
    .flatMap((output) => output.imports)
    .filter((imported) => imported.external)
    .map((imported) => imported.path)
    .filter((path) => !isBuiltin(path) && !path.endsWith('.node'));
  if (loadedAtRunTime.length > 0) {
    throw new Error(
      `${relative(repoRoot, outfile)} would load modules outside the bundle at run time: ` +
        [...new Set(loadedAtRunTime)].sort().join(', '),
    );
  }
}
