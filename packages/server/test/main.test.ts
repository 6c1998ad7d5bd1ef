/**
 * The router-service program itself, run as operators run it: in a
 * throwaway network namespace whose eth0 is the parent, serving a unix
 * socket. Needs root.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Metadata } from '@grpc/grpc-js';
import type { HealthResponse } from '@router-service/proto';
import { createNetnsWithEth0, type Netns } from '@router-service/test-support';
import { createRouterClient } from '@router-service/transport';
import { rpc } from './harness.js';

const mainPath = fileURLToPath(new URL('../src/main.js', import.meta.url));

interface Daemon {
  child: ChildProcess;
  socket: string;
  output(): string;
  exited: Promise<number | null>;
}

function getHealth(socket: string): Promise<HealthResponse> {
  const client = createRouterClient(`unix://${socket}`);
  return rpc<HealthResponse>((done) => client.getHealth({ checkKernel: false }, new Metadata(), { deadline: Date.now() + 2000 }, done)).finally(() => client.close());
}

async function startDaemon(netns: Netns, dir: string, args: string[]): Promise<Daemon> {
  const socket = join(dir, 'router.sock');
  const argv = netns.execArgv(process.execPath, [mainPath, '--listen', `unix://${socket}`, ...args]);
  const child = spawn(argv.file, argv.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const daemon: Daemon = { child, socket, output: () => output, exited };
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (gone) assert.fail(`router-service exited early:\n${output}`);
    if (existsSync(socket)) {
      try {
        await getHealth(socket);
        return daemon;
      } catch {
        // not answering yet
      }
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      assert.fail(`router-service did not answer within 15s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stop(daemon: Daemon): Promise<number | null> {
  daemon.child.kill('SIGTERM');
  const timeout = setTimeout(() => daemon.child.kill('SIGKILL'), 15_000);
  const code = await daemon.exited;
  clearTimeout(timeout);
  return code;
}

describe('router-service in a network namespace', () => {
  let netns: Netns;
  let dir: string;
  before(async () => {
    netns = await createNetnsWithEth0();
    dir = mkdtempSync(join(tmpdir(), 'router-service-main-'));
  });
  after(async () => {
    await netns?.delete();
    rmSync(dir, { recursive: true, force: true });
  });

  test('serves with a 0600 socket and forwarding on; SIGTERM stops it cleanly; a restart keeps the recorded parent', async () => {
    const stateDir = join(dir, 'state');
    const daemon = await startDaemon(netns, dir, ['--state-dir', stateDir, '--parent', 'eth0']);
    try {
      assert.equal(statSync(daemon.socket).mode & 0o777, 0o600);
      const health = await getHealth(daemon.socket);
      assert.equal(health.healthy, true, daemon.output());
      assert.equal(health.status, 'ok');
      assert.equal(await netns.sysctl('net', 'ipv4', 'ip_forward'), '1');
      assert.match(daemon.output(), / INFO serving .*listen=\["unix:\/\/.*router\.sock"\]/);
    } finally {
      assert.equal(await stop(daemon), 0, daemon.output());
    }
    assert.equal(existsSync(daemon.socket), false, 'socket left behind after shutdown');

    // No --parent, and no default route in the namespace: only the recorded parent can work.
    const again = await startDaemon(netns, dir, ['--state-dir', stateDir, '--log-format', 'json']);
    try {
      const serving = again
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((record) => record.msg === 'serving');
      assert.equal(serving?.parent, 'eth0', again.output());
    } finally {
      assert.equal(await stop(again), 0, again.output());
    }
  });

  const refusals: Array<[string[], number, string]> = [
    [['--log-format', 'xml'], 2, 'router-service: --log-format must be text or json, not "xml"'],
    [['--parent', 'eth0', '--listen', 'ftp://x'], 2, 'router-service: --listen: address "ftp://x": scheme must be vsock, unix or tcp'],
    [['--parent', 'missing0'], 1, 'parent interface missing0'],
    [['--parent', 'eth0', '--listen', 'tcp://0.0.0.0:50999'], 1, '--allow-remote-tcp'],
    [[], 1, 'name the parent interface with --parent'],
    [['--parent', 'eth0', '--config', '/nonexistent/router-service.json'], 2, 'router-service: --config /nonexistent/router-service.json: ENOENT'],
  ];
  for (const [args, code, message] of refusals) {
    test(`refuses ${args.join(' ') || 'to start with no parent and no default route'} (exit ${code})`, async () => {
      const stateDir = mkdtempSync(join(dir, 'refusal-'));
      const result = await netns.exec(process.execPath, [mainPath, '--state-dir', stateDir, '--listen', `unix://${join(stateDir, 's.sock')}`, ...args], {
        timeoutMs: 15_000,
      });
      assert.equal(result.code, code, result.stderr);
      assert.ok(result.stderr.includes(message), `stderr does not say ${JSON.stringify(message)}:\n${result.stderr}`);
    });
  }
});
