/**
 * A router with an uplink and two networks, wired from throwaway network
 * namespaces, and the means to send real packets through it:
 *
 *   outside eth0 192.168.64.1/24 (+ .100) ── eth0 router 192.168.64.2/24 (+ .3), default via .1
 *   c100 eth0 172.18.0.2/16 ─────── eth0.100 router 172.18.0.1/16
 *   c200 eth0 172.19.0.2/16 ─────── eth0.200 router 172.19.0.1/16
 *
 * The network links are veth pairs named as the VLAN links they stand for,
 * with route_localnet on as the VLAN backend sets it (publishing on
 * 127.0.0.1 needs it). The outside routes 172.16.0.0/12 through the router,
 * so that it can try to reach containers directly and answer un-NATed ones.
 * The router forwards and has reverse-path filtering off, so that whatever
 * it drops is dropped by the firewall under test.
 *
 * TCP and UDP are sent and answered by small node programs; SCTP by socat
 * (SCTP-LISTEN, SCTP-CONNECT), which can speak TCP too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Netns, vethArgs } from '@router-service/test-support';

export const UPLINK = 'eth0';
export const ROUTER_UPLINK_IP = '192.168.64.2';
/** A second uplink address, for ports published on one host address only. */
export const ROUTER_SECOND_IP = '192.168.64.3';
export const OUTSIDE_IP = '192.168.64.1';
/** A second address of the outside host, for checks of which sources a port answers. */
export const OUTSIDE_SECOND_IP = '192.168.64.100';
/** A loopback address other than 127.0.0.1, which a namespace can route away (see withLoopbackVia). */
export const LOOPBACK_PROBE_IP = '127.0.0.9';

export interface TestNetwork {
  readonly vlan: number;
  readonly interfaceName: string;
  readonly subnet: string;
  readonly gateway: string;
  readonly container: string;
}

export const NET100: TestNetwork = { vlan: 100, interfaceName: 'eth0.100', subnet: '172.18.0.0/16', gateway: '172.18.0.1', container: '172.18.0.2' };
export const NET200: TestNetwork = { vlan: 200, interfaceName: 'eth0.200', subnet: '172.19.0.0/16', gateway: '172.19.0.1', container: '172.19.0.2' };

export type Proto = 'tcp' | 'udp' | 'sctp';

/**
 * The program behind a probe: node for TCP and UDP, socat for SCTP. socat
 * may be asked for TCP too, to check the socat probes where the kernel has
 * no SCTP.
 */
export type ProbeTool = 'node' | 'socat';

const SOCAT = '/usr/bin/socat';
const PRINTENV = '/usr/bin/printenv';

/**
 * How long a client waits for an answer: the namespaces are local, so a
 * dropped packet is all that makes one late. An emulated machine, where
 * the clients of one check start node side by side for seconds, sets
 * ROUTER_SERVICE_PROBE_TIMEOUT_MS higher.
 */
const CLIENT_TIMEOUT_MS = Number(process.env.ROUTER_SERVICE_PROBE_TIMEOUT_MS ?? 1500);
const SERVER_READY_MS = 10_000;

// Answers every TCP connection or UDP datagram with the source address it
// saw, and prints that address, so both ends can tell what NAT did.
const SERVER_SCRIPT = `
const [proto, host, port] = process.argv.slice(1);
const seen = (a) => { const s = a.replace(/^::ffff:/, ''); process.stdout.write('from ' + s + '\\n'); return s + '\\n'; };
if (proto === 'tcp') {
  require('node:net').createServer((c) => { c.on('error', () => {}); c.end(seen(c.remoteAddress)); })
    .listen(Number(port), host, () => process.stdout.write('ready\\n'));
} else {
  const s = require('node:dgram').createSocket('udp4');
  s.on('message', (m, r) => s.send(seen(r.address), r.port, r.address));
  s.bind(Number(port), host, () => process.stdout.write('ready\\n'));
}`;

// Sends one request and prints the answer; exits 1 when none comes in time.
const CLIENT_SCRIPT = `
const [proto, host, port, ms, local, localPort] = process.argv.slice(1);
const fail = (why) => { process.stderr.write(why + '\\n'); process.exit(1); };
setTimeout(() => fail('no answer'), Number(ms));
const done = (text) => { process.stdout.write(text); process.exit(0); };
if (proto === 'tcp') {
  let data = '';
  const s = require('node:net').connect({ host, port: Number(port), localAddress: local || undefined, localPort: Number(localPort) || undefined });
  s.on('data', (d) => { data += d; });
  s.on('end', () => done(data));
  s.on('error', (e) => fail(e.message));
} else {
  const s = require('node:dgram').createSocket('udp4');
  s.on('message', (m) => done(m.toString()));
  s.on('error', (e) => fail(e.message));
  s.bind({ port: Number(localPort) || 0, address: local || undefined }, () => s.send('hello', Number(port), host));
}`;

const SYSCTL_SCRIPT = 'for (const [k, v] of process.argv.slice(1).map((a) => a.split("="))) require("node:fs").writeFileSync("/proc/sys/" + k, v)';

/** Writes `path/under/proc/sys=value` settings in the namespace. */
async function setSysctls(ns: Netns, settings: readonly string[]): Promise<void> {
  const result = await ns.exec(process.execPath, ['--eval', SYSCTL_SCRIPT, ...settings]);
  if (result.code !== 0) throw new Error(`setting ${settings.join(' ')} in ${ns.name}: ${result.output}`);
}

/** How a server program says it listens, and whom it accepted. */
interface ServerProgram {
  readonly argv: { readonly file: string; readonly args: string[] };
  /** The stream its announcements come on. */
  readonly stream: 'stdout' | 'stderr';
  isReady(line: string): boolean;
  /** The client's address when the line announces one. */
  client(line: string): string | undefined;
}

function nodeServer(ns: Netns, proto: 'tcp' | 'udp', host: string, port: number): ServerProgram {
  return {
    argv: ns.execArgv(process.execPath, ['--eval', SERVER_SCRIPT, proto, host, String(port)]),
    stream: 'stdout',
    isReady: (line) => line === 'ready',
    client: (line) => (line.startsWith('from ') ? line.slice('from '.length) : undefined),
  };
}

// socat -d -d logs "N listening on AF=2 0.0.0.0:80" and "N accepting
// connection from AF=2 192.168.64.1:40000 on ..."; each connection runs
// printenv, which answers with the peer address socat puts in its
// environment (not node, which takes longer to start under emulation than
// a client waits).
const SOCAT_ACCEPTED = / accepting connection from AF=2 ([0-9.]+):\d+ /;

function socatServer(ns: Netns, proto: 'tcp' | 'sctp', host: string, port: number): ServerProgram {
  const listen = `${proto.toUpperCase()}4-LISTEN:${port},bind=${host},fork,reuseaddr`;
  return {
    argv: ns.execArgv(SOCAT, ['-d', '-d', listen, `EXEC:${PRINTENV} SOCAT_PEERADDR`]),
    stream: 'stderr',
    isReady: (line) => line.includes(' listening on '),
    client: (line) => SOCAT_ACCEPTED.exec(line)?.[1],
  };
}

function serverProgram(ns: Netns, proto: Proto, host: string, port: number, tool: ProbeTool): ServerProgram {
  if (tool === 'socat' && proto !== 'udp') return socatServer(ns, proto, host, port);
  if (tool === 'node' && proto !== 'sctp') return nodeServer(ns, proto, host, port);
  throw new Error(`no ${tool} server for ${proto}`);
}

/** The default program for a protocol: node cannot speak SCTP. */
const defaultTool = (proto: Proto): ProbeTool => (proto === 'sctp' ? 'socat' : 'node');

/** A server started in a namespace: it answers with, and records, each client's source address. */
export class EchoServer {
  readonly #child: ChildProcess;
  /** Source addresses seen so far, in order. */
  readonly seen: string[] = [];

  private constructor(child: ChildProcess) {
    this.#child = child;
  }

  static start(ns: Netns, proto: Proto, host: string, port: number, tool: ProbeTool = defaultTool(proto)): Promise<EchoServer> {
    const program = serverProgram(ns, proto, host, port, tool);
    const child = spawn(program.argv.file, program.argv.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new EchoServer(child);
    let output = '';
    const what = `${proto} server (${tool}) on ${host}:${port} in ${ns.name}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`${what} not ready: ${output}`)), SERVER_READY_MS);
      const fail = (error: Error) => {
        clearTimeout(timer);
        child.kill();
        reject(error);
      };
      let buffered = '';
      const announcements = program.stream === 'stdout' ? child.stdout : child.stderr;
      child.stdout?.on('data', (chunk: Buffer) => {
        if (program.stream !== 'stdout') output += chunk.toString();
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      announcements?.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          const client = program.client(line);
          if (client !== undefined) {
            server.seen.push(client);
          } else if (program.isReady(line)) {
            clearTimeout(timer);
            resolve(server);
          }
        }
      });
      child.once('error', fail);
      child.once('exit', (code, signal) => fail(new Error(`${what} exited (${code ?? signal}): ${output}`)));
    });
  }

  /** Stops the server (the process this object started) and waits for it to end. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.kill();
    await exited;
  }
}

export interface ConnectOptions {
  /** Send from this local address (it must be configured in the namespace). */
  readonly from?: string;
  /** Send from this local port, so that UDP requests sent one after another are one flow. */
  readonly fromPort?: number;
  /** The client program; node for TCP and UDP, socat for SCTP unless given. */
  readonly tool?: ProbeTool;
}

/** The router, the outside host and one container per network. */
export class Topology {
  readonly router: Netns;
  readonly outside: Netns;
  readonly c100: Netns;
  readonly c200: Netns;
  readonly #servers: EchoServer[] = [];

  private constructor(router: Netns, outside: Netns, c100: Netns, c200: Netns) {
    this.router = router;
    this.outside = outside;
    this.c100 = c100;
    this.c200 = c200;
  }

  static async create(): Promise<Topology> {
    const created: Netns[] = [];
    try {
      for (let i = 0; i < 4; i++) created.push(await Netns.create());
      const [router, outside, c100, c200] = created as [Netns, Netns, Netns, Netns];
      const topology = new Topology(router, outside, c100, c200);
      await topology.#wire();
      return topology;
    } catch (error) {
      for (const ns of created) await ns.delete().catch(() => undefined);
      throw error;
    }
  }

  async #wire(): Promise<void> {
    const { router, outside } = this;
    await router.ip(...vethArgs({ name: UPLINK }, { name: 'eth0', netns: outside.name }));
    await router.ip('address', 'add', `${ROUTER_UPLINK_IP}/24`, 'dev', UPLINK);
    await router.ip('address', 'add', `${ROUTER_SECOND_IP}/24`, 'dev', UPLINK);
    await outside.ip('address', 'add', `${OUTSIDE_IP}/24`, 'dev', 'eth0');
    await outside.ip('address', 'add', `${OUTSIDE_SECOND_IP}/24`, 'dev', 'eth0');
    for (const [net, container] of [
      [NET100, this.c100],
      [NET200, this.c200],
    ] as const) {
      await router.ip(...vethArgs({ name: net.interfaceName }, { name: 'eth0', netns: container.name }));
      await router.ip('address', 'add', `${net.gateway}/16`, 'dev', net.interfaceName);
      await router.ip('link', 'set', net.interfaceName, 'up');
      await container.ip('address', 'add', `${net.container}/16`, 'dev', 'eth0');
      await container.ip('link', 'set', 'eth0', 'up');
      await container.ip('link', 'set', 'lo', 'up');
      await container.ip('route', 'add', 'default', 'via', net.gateway);
    }
    for (const ns of [router, outside]) {
      await ns.ip('link', 'set', 'eth0', 'up');
      await ns.ip('link', 'set', 'lo', 'up');
    }
    await router.ip('route', 'add', 'default', 'via', OUTSIDE_IP);
    await outside.ip('route', 'add', '172.16.0.0/12', 'via', ROUTER_UPLINK_IP);
    const sysctls = ['net/ipv4/ip_forward=1'];
    for (const name of ['all', 'default', UPLINK, NET100.interfaceName, NET200.interfaceName]) sysctls.push(`net/ipv4/conf/${name}/rp_filter=0`);
    for (const net of [NET100, NET200]) sysctls.push(`net/ipv4/conf/${net.interfaceName}/route_localnet=1`);
    await setSysctls(router, sysctls);
  }

  /**
   * Runs `use` while `ns` routes 127.0.0.0/8 (but 127.0.0.1) through its
   * eth0 to `gateway`, as a hostile neighbour may, and accepts loopback
   * sources in answers; then puts its routes back. Probes to
   * LOOPBACK_PROBE_IP then aim at the router's loopback.
   */
  async withLoopbackVia<T>(ns: Netns, gateway: string, use: () => Promise<T>): Promise<T> {
    await ns.ip('route', 'del', 'table', 'local', 'local', '127.0.0.0/8', 'dev', 'lo');
    try {
      await ns.ip('route', 'add', '127.0.0.0/8', 'via', gateway, 'dev', 'eth0');
      await setSysctls(ns, ['net/ipv4/conf/eth0/route_localnet=1']);
      return await use();
    } finally {
      await setSysctls(ns, ['net/ipv4/conf/eth0/route_localnet=0']);
      await ns.ip('route', 'flush', 'exact', '127.0.0.0/8', 'table', 'main');
      await ns.ip('route', 'add', 'table', 'local', 'local', '127.0.0.0/8', 'dev', 'lo', 'proto', 'kernel', 'scope', 'host', 'src', '127.0.0.1');
    }
  }

  /** Starts an echo server that `destroy` stops. */
  async serve(ns: Netns, proto: Proto, host: string, port: number, tool?: ProbeTool): Promise<EchoServer> {
    const server = await EchoServer.start(ns, proto, host, port, tool);
    this.#servers.push(server);
    return server;
  }

  /**
   * Sends one request from `ns` to host:port; the address the server saw
   * the request come from, or undefined when no answer came in time.
   */
  async connect(ns: Netns, proto: Proto, host: string, port: number, options: ConnectOptions = {}): Promise<string | undefined> {
    const tool = options.tool ?? defaultTool(proto);
    const run = { timeoutMs: CLIENT_TIMEOUT_MS + 10_000 };
    if (tool === 'socat' && proto !== 'udp') {
      const bind = options.from === undefined ? '' : `,bind=${options.from}`;
      const target = `${proto.toUpperCase()}4-CONNECT:${host}:${port},connect-timeout=${CLIENT_TIMEOUT_MS / 1000}${bind}`;
      // -T ends a connection that was accepted but never answers.
      const result = await ns.exec(SOCAT, ['-T', String(CLIENT_TIMEOUT_MS / 1000), '-u', target, 'STDOUT'], run);
      return result.code === 0 && result.stdout.trim() !== '' ? result.stdout.trim() : undefined;
    }
    if (tool === 'socat' || proto === 'sctp') throw new Error(`no ${tool} client for ${proto}`);
    const args = ['--eval', CLIENT_SCRIPT, proto, host, String(port), String(CLIENT_TIMEOUT_MS), options.from ?? '', String(options.fromPort ?? '')];
    const result = await ns.exec(process.execPath, args, run);
    return result.code === 0 ? result.stdout.trim() : undefined;
  }

  /** Whether one ICMP echo from `ns` to `host` is answered. */
  async ping(ns: Netns, host: string): Promise<boolean> {
    return (await ns.exec('/usr/bin/ping', ['-n', '-c', '1', '-W', '1', host])).code === 0;
  }

  /** Stops every server and deletes every namespace, even when some step fails. */
  async destroy(): Promise<void> {
    const errors: unknown[] = [];
    for (const server of this.#servers) await server.stop().catch((e: unknown) => errors.push(e));
    for (const ns of [this.router, this.outside, this.c100, this.c200]) await ns.delete().catch((e: unknown) => errors.push(e));
    if (errors.length > 0) throw new AggregateError(errors, 'tearing down the test topology');
  }
}
