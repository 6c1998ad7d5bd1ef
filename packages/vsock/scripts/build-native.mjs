// Builds the vsock addon with node-gyp against the headers of the Node that
// runs this script (never the machine's npm `nodedir` setting).
//
//   node scripts/build-native.mjs              -> build/Release/vsock.node
//   node scripts/build-native.mjs --arch arm64 -> prebuilds/linux-arm64/vsock.node
//
// binding.gyp lives in native/, not in the package root: a root binding.gyp
// makes package managers run `node-gyp rebuild` on install with whatever
// headers they find. node-gyp runs in a scratch copy of native/, so a cross
// build never touches the host build. Cross builds use Debian's toolchains.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));

// ELF e_machine values, to check that a build produced what was asked for.
const ELF_MACHINE = { x64: 62, arm64: 183 };

// Per cross target: the compiler, the Debian packages providing it and its libc headers.
const crossTargets = {
  arm64: { compiler: 'aarch64-linux-gnu-gcc', packages: 'gcc-aarch64-linux-gnu libc6-dev-arm64-cross' },
};

function fail(message) {
  console.error(`build-native: ${message}`);
  process.exit(1);
}

function parseArch(argv) {
  if (argv.length === 0) return undefined;
  if (argv.length === 2 && argv[0] === '--arch' && argv[1] in crossTargets) return argv[1];
  return fail(`usage: build-native.mjs [--arch ${Object.keys(crossTargets).join('|')}]`);
}

// The Node install that holds include/node. Official tarballs keep it at
// <prefix>/include next to <prefix>/bin/node; the `node` npm package puts its
// binary at <pkg>/bin/node but the headers in <pkg>/node_modules/node-<os>-<arch>.
function findNodeDir() {
  const prefix = dirname(dirname(process.execPath));
  const candidates = [prefix, join(prefix, 'node_modules', `node-${process.platform}-${process.arch}`)];
  const found = candidates.find((dir) => existsSync(join(dir, 'include', 'node', 'node_api.h')));
  return found ?? fail(`no Node headers (include/node/node_api.h) under ${candidates.join(' or ')}`);
}

function onPath(program) {
  return spawnSync('sh', ['-c', 'command -v "$1" >/dev/null', 'sh', program]).status === 0;
}

// e_machine of a little-endian ELF file, or undefined if it is not one.
function elfMachineOf(file) {
  const header = readFileSync(file).subarray(0, 20);
  const isElf = header.length === 20 && header.readUInt32BE(0) === 0x7f454c46 && header[5] === 1;
  return isElf ? header.readUInt16LE(18) : undefined;
}

function build({ arch, env, output }) {
  const nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  const scratch = mkdtempSync(join(tmpdir(), 'vsock-build-'));
  try {
    cpSync(join(packageDir, 'native'), scratch, { recursive: true });
    const args = [nodeGyp, 'rebuild', '--loglevel=warn', `--arch=${arch}`, `--nodedir=${findNodeDir()}`];
    const result = spawnSync(process.execPath, args, { cwd: scratch, env, stdio: 'inherit' });
    if (result.status !== 0) fail(`node-gyp failed (exit ${result.status ?? result.signal})`);
    mkdirSync(dirname(output), { recursive: true });
    copyFileSync(join(scratch, 'build', 'Release', 'vsock.node'), output);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const machine = elfMachineOf(output);
  if (machine !== ELF_MACHINE[arch]) fail(`${output} has ELF machine ${machine}, expected ${ELF_MACHINE[arch]} (${arch})`);
  console.log(`build-native: ${output}`);
}

const arch = parseArch(process.argv.slice(2));
if (arch === undefined) {
  if (process.platform !== 'linux' || !(process.arch in ELF_MACHINE)) fail(`unsupported host ${process.platform}-${process.arch}`);
  build({ arch: process.arch, env: process.env, output: join(packageDir, 'build', 'Release', 'vsock.node') });
} else {
  const { compiler, packages } = crossTargets[arch];
  if (!onPath(compiler)) fail(`${compiler} not found (apt-get install -y ${packages})`);
  const tools = { CC: compiler, CXX: compiler, LINK: compiler, AR: compiler.replace(/gcc$/, 'ar') };
  build({ arch, env: { ...process.env, ...tools }, output: join(packageDir, 'prebuilds', `linux-${arch}`, 'vsock.node') });
}
