// Runs a package's compiled tests (dist/test/**/*.test.js) with Node's test
// runner: a readable report on stdout and a TAP copy in test-results/ that
// scripts/test-summary.mjs counts. A package with no test files fails.
import { spawnSync } from 'node:child_process';
import { mkdirSync, globSync } from 'node:fs';

const files = globSync('dist/test/**/*.test.js').sort();
if (files.length === 0) {
  console.error(`no compiled tests under ${process.cwd()}/dist/test: build first`);
  process.exit(1);
}
mkdirSync('test-results', { recursive: true });
const result = spawnSync(process.execPath, [
  '--test',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=tap', '--test-reporter-destination=test-results/node.tap',
  ...process.argv.slice(2),
  ...files,
], { stdio: 'inherit' });
process.exit(result.status ?? 1);
