// measure-artifacts.mjs [--dir DIR]
//
// Measures the amd64 artifacts (scripts/build-artifacts.mjs) on this
// machine and prints a markdown table: the size of every file and the
// total, the time from starting bin/router-service to its first answered
// gRPC health check, and its resident memory once it has served and then
// idled. Exits 1 when a goal is missed or a run fails.
//
// Each run starts the daemon with a fresh state directory inside a
// throwaway network namespace whose only link is a veth named eth0, and
// talks to it over a unix socket. Needs root (network namespaces).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync } from 'node:fs';
import { connect as connectHttp2 } from 'node:http2';
import { connect as connectUnix } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = resolve(fileURLToPath(import.meta.url), '..', '..');
const runs = 5;
const idleMs = 3000;
const startDeadlineMs = 15_000;
const stopDeadlineMs = 20_000;
const goals = { startMs: 1000, idleRssMiB: 80 };
const mib = 1024 * 1024;

function fail(message) {
  console.error(`measure-artifacts: ${message}`);
  process.exit(1);
}

/** Everything this script created, so that any exit path can remove it. */
const created = { namespace: '', tempDirs: [], daemons: new Set() };

function cleanUp() {
  for (const daemon of created.daemons) {
    daemon.kill('SIGKILL');
  }
  if (created.namespace !== '') {
    try {
      execFileSync('ip', ['netns', 'delete', created.namespace], { stdio: 'ignore' });
    } catch {
      // Already gone: nothing to delete.
    }
    created.namespace = '';
  }
  for (const dir of created.tempDirs.splice(0)) {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.once(signal, () => {
    cleanUp();
    process.exit(code);
  });
}

function ip(args) {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function createNamespace() {
  const name = `rs-measure-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
  ip(['netns', 'add', name]);
  created.namespace = name;
  ip(['-n', name, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0-peer']);
  ip(['-n', name, 'link', 'set', 'lo', 'up']);
  ip(['-n', name, 'link', 'set', 'eth0', 'up']);
  ip(['-n', name, 'link', 'set', 'eth0-peer', 'up']);
  return name;
}

/**
 * One grpc.health.v1.Health/Check for the whole server (service ""), spoken
 * directly over HTTP/2 so this script needs no gRPC library. Resolves true
 * only when the answer is SERVING; rejects when nothing answers.
 */
function checkHealth(socketPath) {
  return new Promise((resolvePromise, reject) => {
    const session = connectHttp2('http://localhost', { createConnection: () => connectUnix(socketPath) });
    session.on('error', (error) => {
      session.destroy();
      reject(error);
    });
    const request = session.request({
      ':method': 'POST',
      ':path': '/grpc.health.v1.Health/Check',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const chunks = [];
    let grpcStatus = '';
    request.on('response', (headers) => {
      grpcStatus = String(headers['grpc-status'] ?? grpcStatus);
    });
    request.on('trailers', (trailers) => {
      grpcStatus = String(trailers['grpc-status'] ?? grpcStatus);
    });
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('error', (error) => {
      session.destroy();
      reject(error);
    });
    request.on('end', () => {
      session.close();
      // A length-prefixed HealthCheckResponse: field 1 (status) = 1 (SERVING).
      const body = Buffer.concat(chunks);
      resolvePromise(grpcStatus === '0' && body.subarray(5).equals(Buffer.from([0x08, 0x01])));
    });
    // An empty HealthCheckRequest: uncompressed, zero length.
    request.end(Buffer.alloc(5));
  });
}

/** VmRSS and its two parts: the process's own memory and mapped files (mostly node's text). */
function residentMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => {
    const kib = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1];
    if (kib === undefined) {
      throw new Error(`no ${name} in /proc/${pid}/status`);
    }
    return Number(kib) / 1024;
  };
  return { rss: field('VmRSS'), anon: field('RssAnon'), file: field('RssFile') };
}

function waitForExit(daemon, ms) {
  if (daemon.exitCode !== null || daemon.signalCode !== null) {
    return Promise.resolve(true);
  }
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => resolvePromise(false), ms);
    daemon.once('exit', () => {
      clearTimeout(timer);
      resolvePromise(true);
    });
  });
}

/** Starts the daemon once; returns its start-to-serving time and idle RSS. */
async function measureOnce(dir, namespace) {
  const workDir = mkdtempSync(join(tmpdir(), 'rs-measure-'));
  created.tempDirs.push(workDir);
  const socketPath = join(workDir, 's.sock');
  const args = ['--parent', 'eth0', '--state-dir', join(workDir, 'state'), '--listen', `unix://${socketPath}`];
  const started = performance.now();
  const daemon = spawn('ip', ['netns', 'exec', namespace, join(dir, 'bin', 'router-service'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  created.daemons.add(daemon);
  let output = '';
  daemon.stdout.on('data', (chunk) => (output += chunk));
  daemon.stderr.on('data', (chunk) => (output += chunk));
  const failRun = (why) => new Error(`${why}; its output:\n${output.trimEnd() || '(none)'}`);
  try {
    let startMs = -1;
    while (startMs < 0) {
      if (daemon.exitCode !== null || daemon.signalCode !== null) {
        throw failRun(`router-service exited (${daemon.exitCode ?? daemon.signalCode}) before serving`);
      }
      if (performance.now() - started > startDeadlineMs) {
        throw failRun(`router-service did not answer a health check within ${startDeadlineMs} ms`);
      }
      const serving = await checkHealth(socketPath).catch(() => false);
      if (serving) {
        startMs = performance.now() - started;
      } else {
        await sleep(5);
      }
    }
    // `ip netns exec` and the launcher both exec, so the pid is Node's.
    const exe = readlinkSync(`/proc/${daemon.pid}/exe`);
    if (exe !== realpathSync(join(dir, 'node'))) {
      throw failRun(`process ${daemon.pid} runs ${exe}, not the artifact's node`);
    }
    await sleep(idleMs);
    const resident = residentMiB(daemon.pid);
    daemon.kill('SIGTERM');
    if (!(await waitForExit(daemon, stopDeadlineMs))) {
      throw failRun(`router-service did not stop within ${stopDeadlineMs} ms of SIGTERM`);
    }
    return { startMs, resident, exit: daemon.exitCode ?? daemon.signalCode };
  } finally {
    daemon.kill('SIGKILL');
    await waitForExit(daemon, stopDeadlineMs);
    created.daemons.delete(daemon);
  }
}

function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

function formatBytes(bytes) {
  if (bytes >= mib) {
    return `${(bytes / mib).toFixed(1)} MiB`;
  }
  return bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} B`;
}

/** Nearest-rank percentile of a non-empty list. */
function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

async function main() {
  const { values } = parseArgs({ options: { dir: { type: 'string' } } });
  const dir = resolve(values.dir ?? join(repoRoot, '.cache', 'artifacts', 'linux-amd64'));
  try {
    statSync(join(dir, 'bin', 'router-service'));
  } catch {
    fail(`${dir}/bin/router-service not found: build it with node scripts/build-artifacts.mjs --arch amd64`);
  }
  if (process.getuid?.() !== 0) {
    fail('needs root: each run starts the daemon in its own network namespace');
  }

  const files = filesUnder(dir).map((file) => ({ file, bytes: statSync(join(dir, file)).size }));
  const totalBytes = files.reduce((sum, { bytes }) => sum + bytes, 0);

  // Resident file pages depend on how the page cache holds the binary:
  // fault-around maps whole large folios, so a file just written by strip
  // or cp can count 30 MiB more than one loaded from disk the way a booted
  // machine loads it. Write each artifact back (dirty pages cannot be
  // evicted), then evict its cached pages (fadvise DONTNEED through dd) so
  // that every measurement starts from the same place.
  execFileSync('sync', files.map(({ file }) => join(dir, file)));
  for (const { file } of files) {
    execFileSync('dd', [`if=${join(dir, file)}`, 'iflag=nocache', 'count=0', 'status=none']);
  }

  const namespace = createNamespace();
  const results = [];
  for (let run = 1; run <= runs; run += 1) {
    const result = await measureOnce(dir, namespace);
    console.error(`measure-artifacts: run ${run}: serving after ${result.startMs.toFixed(0)} ms, ` +
      `idle RSS ${result.resident.rss.toFixed(1)} MiB (anonymous ${result.resident.anon.toFixed(1)}, ` +
      `file ${result.resident.file.toFixed(1)}), exit after SIGTERM: ${result.exit}`);
    results.push(result);
  }

  const start = results.map((result) => result.startMs);
  const rss = results.map((result) => result.resident.rss);
  const startMet = Math.max(...start) < goals.startMs;
  const rssMet = Math.max(...rss) < goals.idleRssMiB;
  const mibRow = (label, list, goal) =>
    `| ${label} | ${percentile(list, 0.5).toFixed(1)} MiB | ${Math.max(...list).toFixed(1)} MiB | ${goal} |`;
  const lines = [
    `## router-service artifacts: ${relative(repoRoot, dir) || dir}`,
    '',
    '| file | size |',
    '| --- | ---: |',
    ...files.map(({ file, bytes }) => `| ${file} | ${formatBytes(bytes)} |`),
    `| **total** | **${formatBytes(totalBytes)}** |`,
    '',
    `| measure (${runs} runs) | p50 | max | goal (every run) |`,
    '| --- | ---: | ---: | --- |',
    `| start to serving | ${percentile(start, 0.5).toFixed(0)} ms | ${Math.max(...start).toFixed(0)} ms ` +
      `| < ${goals.startMs} ms: ${startMet ? 'met' : 'MISSED'} |`,
    mibRow(`idle RSS after ${idleMs / 1000} s`, rss, `< ${goals.idleRssMiB} MiB: ${rssMet ? 'met' : 'MISSED'}`),
    // File pages depend on this host's page cache (e.g. large folios map
    // node's text in 2 MiB pieces), so the two parts are shown apart.
    mibRow('  of which anonymous', results.map((result) => result.resident.anon), ''),
    mibRow('  of which mapped files', results.map((result) => result.resident.file), ''),
  ];
  console.log(lines.join('\n'));
  return startMet && rssMet;
}

let goalsMet = false;
try {
  goalsMet = await main();
} catch (error) {
  console.error(`measure-artifacts: ${error.message}`);
} finally {
  cleanUp();
}
process.exit(goalsMet ? 0 : 1);
