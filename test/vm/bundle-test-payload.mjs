// bundle-test-payload.mjs --artifacts DIR --out DIR
//
// Builds the helper VM's test payload (installed at /opt/router-service-test
// next to the artifacts at /opt/router-service), all of it runnable with the
// artifacts' node and no node_modules:
//
//   vm-driver.mjs              the scenario driver (test/vm), run by /init
//   dns-tool.js                the DNS tool of test-support, which the driver
//                              runs in namespaces (it finds it next to itself)
//   package.json               marks the .js files as ES modules
//   suites/<name>/*.test.mjs   node:test files, each bundled on its own
//                              (compiled *.test.js, or *.test.ts sources)
//   proto/router.proto         for the suites that build a client from it
//   env                        KEY=VALUE lines the driver gives the suites
//
// Every directory holding bundles also gets the vsock addon, which the
// vsock wrapper loads from next to the running module.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bundleProgram, repoRoot } from '../../scripts/bundle-program.mjs';

const installDir = '/opt/router-service-test';
const artifactsInstallDir = '/opt/router-service';

const driver = {
  entry: 'test/vm/dist/src/main.js',
  missingHint: 'build the scenario driver first: pnpm --filter @router-service/vm-test run build',
};

// test-support's DNS_TOOL_SCRIPT is ./dns-tool.js next to the module that
// imports it, which in the payload is vm-driver.mjs.
const dnsTool = {
  entry: 'test/support/dist/src/dns-tool.js',
  outfile: 'dns-tool.js',
  missingHint: 'build it first: pnpm --filter @router-service/test-support run build',
};

const suites = [
  {
    name: 'vsock',
    dir: 'packages/vsock/dist/vm-test',
    missingHint: 'build it first: pnpm --filter @router-service/vsock run build',
  },
  {
    name: 'transport',
    dir: 'packages/transport/dist/vm-test',
    missingHint: 'build it first: pnpm --filter @router-service/transport run build',
  },
  {
    name: 'integration',
    dir: 'test/integration/dist/test',
    missingHint: 'build it first: pnpm --filter @router-service/integration-tests run build',
  },
  {
    // The shared firewall behaviour suite against each backend, SCTP packets
    // included. Bundled from source: its entry points import the backends'
    // compiled test adapters by path, which holds only from the source.
    name: 'firewall',
    dir: 'test/vm/vm-test',
    suffix: '.test.ts',
    missingHint: 'restore test/vm/vm-test; its imports need the backends built: pnpm --filter "@router-service/vm-test..." run build',
  },
];

const suiteEnv = {
  ROUTER_PROTO: `${installDir}/proto/router.proto`,
  ROUTER_SERVICE_BIN: `${artifactsInstallDir}/bin/router-service`,
  ROUTERCTL_BIN: `${artifactsInstallDir}/bin/routerctl`,
  // The firewall suite's clients each start node, which takes seconds under
  // emulation when a check starts several at once.
  ROUTER_SERVICE_PROBE_TIMEOUT_MS: '4000',
};

function fail(message) {
  console.error(`bundle-test-payload: ${message}`);
  process.exit(1);
}

function suiteFiles(suite) {
  const dir = join(repoRoot, suite.dir);
  const suffix = suite.suffix ?? '.test.js';
  const files = existsSync(dir) ? readdirSync(dir).filter((file) => file.endsWith(suffix)).sort() : [];
  if (files.length === 0) {
    fail(`no *${suffix} in ${suite.dir}: ${suite.missingHint}`);
  }
  return files.map((file) => join(dir, file));
}

async function bundlePayload(artifacts, out) {
  const addon = join(artifacts, 'vsock.node');
  if (!existsSync(addon)) {
    fail(`${addon} not found: build the artifacts first (node scripts/build-artifacts.mjs --arch amd64)`);
  }
  for (const program of [driver, dnsTool]) {
    if (!existsSync(join(repoRoot, program.entry))) {
      fail(`${program.entry} not found: ${program.missingHint}`);
    }
  }
  const suiteEntries = suites.map((suite) => ({ suite, files: suiteFiles(suite) }));
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  await bundleProgram({
    entry: join(repoRoot, driver.entry),
    outfile: join(out, 'vm-driver.mjs'),
    missingHint: driver.missingHint,
  });
  await bundleProgram({
    entry: join(repoRoot, dnsTool.entry),
    outfile: join(out, dnsTool.outfile),
    missingHint: dnsTool.missingHint,
  });
  writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type: 'module' })}\n`);
  copyFileSync(addon, join(out, 'vsock.node'));
  for (const { suite, files } of suiteEntries) {
    const suiteDir = join(out, 'suites', suite.name);
    mkdirSync(suiteDir, { recursive: true });
    for (const file of files) {
      await bundleProgram({
        entry: file,
        outfile: join(suiteDir, `${basename(file, extname(file))}.mjs`),
        missingHint: suite.missingHint,
      });
    }
    copyFileSync(addon, join(suiteDir, 'vsock.node'));
  }
  mkdirSync(join(out, 'proto'));
  copyFileSync(join(repoRoot, 'packages/proto/proto/router/router.proto'), join(out, 'proto', 'router.proto'));
  writeFileSync(join(out, 'env'), Object.entries(suiteEnv).map(([key, value]) => `${key}=${value}\n`).join(''));
  console.log(`bundle-test-payload: wrote ${out} (` +
    suiteEntries.map(({ suite, files }) => `${suite.name}: ${files.length} files`).join(', ') + ')');
}

const usage = 'usage: bundle-test-payload.mjs --artifacts DIR --out DIR';
let values;
try {
  ({ values } = parseArgs({ options: { artifacts: { type: 'string' }, out: { type: 'string' } } }));
} catch (error) {
  fail(`${error.message}\n${usage}`);
}
if (values.artifacts === undefined || values.out === undefined) {
  fail(usage);
}
try {
  await bundlePayload(resolve(values.artifacts), resolve(values.out));
} catch (error) {
  fail(error.message);
}
