// Adds up every test tier of a `make test` run and prints the closing line
// `N passed, N failed`: the TAP files each package's tests wrote
// (test-results/node.tap), the helper-VM run's own closing line, and any
// step that failed without counting its tests (a broken build counts as one
// failure, so a run can never look green by testing nothing).
import { existsSync, globSync, readFileSync } from 'node:fs';

const [failedStepsFile, vmLog] = process.argv.slice(2);
let passed = 0;
let failed = 0;

for (const file of globSync('{packages,test,bench}/*/test-results/node.tap').sort()) {
  const tap = readFileSync(file, 'utf8');
  const pass = Number(/^# pass (\d+)$/m.exec(tap)?.[1] ?? 0);
  const fail = Number(/^# fail (\d+)$/m.exec(tap)?.[1] ?? 0);
  console.log(`${file}: ${pass} passed, ${fail} failed`);
  passed += pass;
  failed += fail;
}

if (vmLog !== undefined && existsSync(vmLog)) {
  const counts = [...readFileSync(vmLog, 'utf8').matchAll(/^(\d+) passed, (\d+) failed$/gm)].at(-1);
  if (counts) {
    console.log(`helper VM: ${counts[1]} passed, ${counts[2]} failed`);
    passed += Number(counts[1]);
    failed += Number(counts[2]);
  }
}

const failedSteps = failedStepsFile !== undefined && existsSync(failedStepsFile)
  ? readFileSync(failedStepsFile, 'utf8').split('\n').filter(Boolean)
  : [];
for (const step of failedSteps) {
  console.log(`step failed: ${step}`);
}
failed += failedSteps.length;

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
