/**
 * Real packets for the firewall checks, sent and answered by socat (the
 * only tool in the image that speaks SCTP, and one that starts fast under
 * emulation). A probe server answers every TCP or SCTP connection and every
 * UDP datagram with socat's environment, which names the address and port
 * the server saw the client come from and the local port it was reached on,
 * so a check can tell what NAT did.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { netnsExecArgv, type Argv } from '@router-service/test-support';
import { run, succeeds } from './command.js';

const socatBin = '/usr/bin/socat';
/** busybox's env applet: prints its environment, which socat fills with the peer's address. */
const envBin = '/bin/env';
const pingBin = '/bin/ping';

/** The router's own namespace, where the driver itself runs. */
export const routerNamespace = '';

export type ProbeProtocol = 'tcp' | 'udp' | 'sctp';

/** What a probe server reported back: who it saw and on which of its ports. */
export interface Answer {
  /** The source address the server saw. */
  readonly peer: string;
  /** The server's local port (TCP and SCTP only: socat does not report it for UDP). */
  readonly port: number | undefined;
}

/** How long a probe waits for an answer; it is judged lost after that. */
const answerTimeoutMs = 4_000;
/** A probe that should be answered is sent this many times before it counts as lost (the first may wait for ARP). */
const answerAttempts = 3;

function argvIn(namespace: string, file: string, args: readonly string[]): Argv {
  return namespace === routerNamespace ? { file, args: [...args] } : netnsExecArgv(namespace, file, args);
}

function listenAddress(protocol: ProbeProtocol, port: number): string {
  switch (protocol) {
    case 'tcp':
      return `TCP4-LISTEN:${port},fork,reuseaddr`;
    case 'udp':
      return `UDP4-RECVFROM:${port},fork`;
    case 'sctp':
      return `SCTP4-LISTEN:${port},fork,reuseaddr`;
  }
}

/**
 * connectAddress is socat's client address. shut-none keeps the client's
 * end of the stream open after it has sent everything: an SCTP association
 * cannot half-close, so a shutdown would stop the server's answer.
 */
function connectAddress(protocol: ProbeProtocol, host: string, port: number, from: string | undefined, sourcePort: number | undefined): string {
  const options = [
    ...(from === undefined ? [] : [`bind=${from}`]),
    ...(sourcePort === undefined ? [] : [`sourceport=${sourcePort}`]),
  ];
  switch (protocol) {
    case 'tcp':
      options.push('shut-none');
      return `TCP4:${host}:${port},${options.join(',')}`;
    case 'sctp':
      options.push('shut-none');
      return `SCTP4-CONNECT:${host}:${port},${options.join(',')}`;
    case 'udp':
      return options.length === 0 ? `UDP4:${host}:${port}` : `UDP4:${host}:${port},${options.join(',')}`;
  }
}

/** ProbeServers are the probe servers the driver started, stopped together. */
export class ProbeServers {
  readonly #children: ChildProcess[] = [];
  /** Servers that could not be started at all. */
  readonly #failures: string[] = [];

  /** start runs a probe server on every address of the namespace, for the protocol and port. */
  start(namespace: string, protocol: ProbeProtocol, port: number): void {
    const argv = argvIn(namespace, socatBin, [listenAddress(protocol, port), `EXEC:${envBin}`]);
    // An empty environment, so that the answer holds socat's variables only.
    const child = spawn(argv.file, argv.args, { stdio: 'ignore', env: {} });
    child.on('error', (error) => this.#failures.push(`${argv.file} ${argv.args.join(' ')}: ${error.message}`));
    this.#children.push(child);
  }

  /** exited names the servers that failed to start or have ended, which no probe can then reach: [] while all run. */
  exited(): string[] {
    const ended = this.#children.filter((child) => child.exitCode !== null || child.signalCode !== null);
    return [...this.#failures, ...ended.map((child) => child.spawnargs.join(' '))];
  }

  /** stopAll ends every server this object started. */
  stopAll(): void {
    for (const child of this.#children) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
      }
    }
    this.#children.length = 0;
  }
}

/** ProbeOptions choose the client's own address and port. */
export interface ProbeOptions {
  /** Send from this address of the client's namespace. */
  readonly from?: string;
  /** Send from this port, so that a later probe belongs to the same tracked flow. */
  readonly sourcePort?: number;
}

/** parseAnswer reads socat's variables from a probe server's answer; undefined without a peer address. */
export function parseAnswer(text: string): Answer | undefined {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) {
      values.set(line.slice(0, eq), line.slice(eq + 1).trim());
    }
  }
  const peer = values.get('SOCAT_PEERADDR');
  if (peer === undefined || peer === '') {
    return undefined;
  }
  const port = values.get('SOCAT_SOCKPORT');
  return { peer, port: port === undefined ? undefined : Number(port) };
}

/**
 * sendOnce sends one probe from the namespace to host:port and resolves to
 * the server's answer, or undefined when none came within the timeout. A
 * UDP answer is one datagram, taken as soon as it arrives; a TCP or SCTP
 * answer ends when the server closes the connection.
 */
export function sendOnce(
  namespace: string,
  protocol: ProbeProtocol,
  host: string,
  port: number,
  options: ProbeOptions = {},
): Promise<Answer | undefined> {
  const address = connectAddress(protocol, host, port, options.from, options.sourcePort);
  const argv = argvIn(namespace, socatBin, ['-t', String(answerTimeoutMs / 1000), '-T', String(answerTimeoutMs / 1000), 'STDIO', address]);
  return new Promise((resolve) => {
    const child = spawn(argv.file, argv.args, { stdio: ['pipe', 'pipe', 'ignore'] });
    let output = '';
    let settled = false;
    const finish = (got: Answer | undefined): void => {
      if (settled) {
        return;
      }
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
      }
      resolve(got);
    };
    const timer = setTimeout(() => finish(parseAnswer(output)), answerTimeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (protocol === 'udp' && parseAnswer(output) !== undefined) {
        finish(parseAnswer(output));
      }
    });
    child.on('error', () => finish(undefined));
    child.on('close', () => finish(parseAnswer(output)));
    // A datagram needs a payload; a stream probe sends nothing and waits for the answer.
    child.stdin.on('error', () => undefined);
    child.stdin.end(protocol === 'udp' ? 'probe\n' : '');
  });
}

/**
 * answer sends the probe until it is answered, a few times at most, and
 * resolves to the answer or undefined; for checks that expect an answer.
 */
export async function answer(
  namespace: string,
  protocol: ProbeProtocol,
  host: string,
  port: number,
  options: ProbeOptions = {},
): Promise<Answer | undefined> {
  for (let attempt = 0; attempt < answerAttempts; attempt++) {
    const got = await sendOnce(namespace, protocol, host, port, options);
    if (got !== undefined) {
      return got;
    }
  }
  return undefined;
}

/** pingOnce reports whether one echo request from the namespace is answered within two seconds. */
export function pingOnce(namespace: string, dst: string): Promise<boolean> {
  const argv = argvIn(namespace, pingBin, ['-c', '1', '-W', '2', dst]);
  return succeeds(run(argv.file, argv.args));
}

/** describeAnswer shows an answer in a failure message. */
export function describeAnswer(got: Answer | undefined): string {
  if (got === undefined) {
    return 'no answer';
  }
  return got.port === undefined ? `answered, seeing ${got.peer}` : `answered on port ${got.port}, seeing ${got.peer}`;
}
