import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandError, runChecked, runProcess } from '../src/index.js';

const node = process.execPath;

test('arguments reach the program as given, with no shell in between', async () => {
  const result = await runProcess(node, ['--eval', 'process.stdout.write(process.argv[1])', '$HOME; echo "x" | *']);
  assert.deepEqual(result, { code: 0, signal: null, stdout: '$HOME; echo "x" | *', stderr: '', output: '$HOME; echo "x" | *' });
});

test('stdout and stderr are kept apart and, in output, in the order they came', async () => {
  const script = 'process.stdout.write("a"); setTimeout(() => process.stderr.write("b"), 50); setTimeout(() => { process.stdout.write("c"); process.exitCode = 3; }, 100);';
  const result = await runProcess(node, ['--eval', script]);
  assert.deepEqual(result, { code: 3, signal: null, stdout: 'ac', stderr: 'b', output: 'abc' });
});

test('a program that outlives its timeout is ended with SIGTERM', async () => {
  const result = await runProcess(node, ['--eval', 'setTimeout(() => {}, 60_000)'], { timeoutMs: 200 });
  assert.deepEqual([result.code, result.signal], [null, 'SIGTERM']);
});

test('runChecked names the command, how it ended and what it printed', async () => {
  assert.equal((await runChecked(node, ['--eval', 'console.log("fine")'])).stdout, 'fine\n');
  await assert.rejects(
    runChecked(node, ['--eval', 'console.error("broken"); process.exit(4)']),
    (error) => error instanceof CommandError && error.output === 'broken\n' && error.message === `${node} --eval console.error("broken"); process.exit(4): exit status 4: broken`,
  );
  await assert.rejects(
    runChecked('/nonexistent/program', ['x']),
    (error) => error instanceof CommandError && error.output === '' && /^\/nonexistent\/program x: .*ENOENT/.test(error.message),
  );
});
