/**
 * The node:test suites shipped in the image, run after the scenario: each
 * suite's tests count towards the totals like the scenario's checks.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { asError, type Checks } from './checks.js';

const payloadDir = '/opt/router-service-test';
const suitesDir = join(payloadDir, 'suites');
const envFile = join(payloadDir, 'env');
const suiteNames = ['vsock', 'transport', 'integration', 'firewall'] as const;
/** A hung test fails after this long instead of holding up the VM until its timeout. */
const testTimeoutMs = 120_000;
/**
 * The backstop for a suite whose runner never ends: it is stopped and counts
 * as failed. The firewall suite, two backends' worth of packets from Node
 * clients that each take seconds to start under emulation, is the longest.
 */
const suiteTimeoutMs = 1_200_000;

/** TapSummary holds the counts from the summary a TAP reporter prints last. */
export interface TapSummary {
  readonly pass: number;
  readonly fail: number;
  readonly cancelled: number;
}

export async function runSuites(checks: Checks): Promise<void> {
  let env: NodeJS.ProcessEnv;
  try {
    env = { ...process.env, ...parseEnvFile(await readFile(envFile, 'utf8')) };
  } catch (error) {
    checks.check('the suites\' environment is readable', asError(error));
    return;
  }
  for (const name of suiteNames) {
    await runSuite(checks, name, env);
  }
}

async function runSuite(checks: Checks, name: string, env: NodeJS.ProcessEnv): Promise<void> {
  const dir = join(suitesDir, name);
  let files: string[];
  try {
    files = (await readdir(dir)).filter((file) => file.endsWith('.test.mjs')).sort();
  } catch (error) {
    checks.check(`suite ${name}`, asError(error));
    return;
  }
  if (files.length === 0) {
    checks.check(`suite ${name}`, new Error(`${dir} holds no *.test.mjs files`));
    return;
  }
  console.log(`--- suite ${name}: ${files.join(' ')} ---`);
  let run: TestRun;
  try {
    run = await runTests(dir, files, env);
  } catch (error) {
    checks.check(`suite ${name}`, asError(error));
    return;
  }
  const { output, exitCode, timedOut } = run;
  console.log(`--- end of suite ${name} ---`);
  if (timedOut) {
    checks.check(`suite ${name}`, new Error(`did not finish within ${suiteTimeoutMs / 1000}s; stopped`));
    return;
  }
  const summary = parseTapSummary(output);
  if (summary === undefined) {
    checks.check(`suite ${name}`, new Error(`no TAP summary in its output (exit status ${exitCode})`));
    return;
  }
  // A cancelled test is one that never finished (a timeout, a crashed file): a failure.
  checks.add(summary.pass, summary.fail + summary.cancelled);
  console.log(`suite ${name}: ${summary.pass} passed, ${summary.fail} failed, ${summary.cancelled} cancelled`);
  if (exitCode !== 0 && summary.fail + summary.cancelled === 0) {
    checks.check(`suite ${name}`, new Error(`the test runner exited with status ${exitCode}`));
  }
}

interface TestRun {
  readonly output: string;
  readonly exitCode: number | string;
  readonly timedOut: boolean;
}

/**
 * runTests runs node's test runner on the files, echoing its output as it
 * comes. --test-force-exit ends a file whose tests are done even if a test
 * leaked a handle, which would otherwise keep it, and the VM, running.
 */
function runTests(
  dir: string,
  files: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<TestRun> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const args = ['--test', '--test-reporter=tap', `--test-timeout=${testTimeoutMs}`, '--test-force-exit', ...files];
    // Its own process group, so that the backstop also ends the runner's children.
    const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let timedOut = false;
    const backstop = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) {
          process.kill(-child.pid, 'SIGKILL');
        }
      } catch {
        // ESRCH: the group ended as the backstop fired; 'close' follows.
      }
    }, suiteTimeoutMs);
    const collect = (chunk: Buffer): void => {
      chunks.push(chunk);
      process.stdout.write(chunk);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => {
      clearTimeout(backstop);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(backstop);
      resolve({ output: Buffer.concat(chunks).toString('utf8'), exitCode: code ?? signal ?? 'unknown', timedOut });
    });
  });
}

/** parseTapSummary reads the `# pass N` / `# fail N` lines; undefined when the run printed none. */
export function parseTapSummary(output: string): TapSummary | undefined {
  const count = (label: string): number | undefined => {
    // The runner prints its summary last; an earlier line like it came from a test.
    const last = [...output.matchAll(new RegExp(`^# ${label} (\\d+)$`, 'gm'))].at(-1);
    return last?.[1] === undefined ? undefined : Number(last[1]);
  };
  const pass = count('pass');
  const fail = count('fail');
  if (pass === undefined || fail === undefined) {
    return undefined;
  }
  return { pass, fail, cancelled: count('cancelled') ?? 0 };
}

/** parseEnvFile reads KEY=VALUE lines; blank lines and # comments are ignored. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      continue;
    }
    const eq = trimmed.indexOf('=');
    if (eq <= 0) {
      throw new Error(`${envFile}: not a KEY=VALUE line: ${trimmed}`);
    }
    env[trimmed.slice(0, eq)] = trimmed.slice(eq + 1);
  }
  return env;
}
