import assert from 'node:assert/strict';
import { silentLogger } from '@router-service/core';
import { Iproute2VlanBackend } from '../src/backend.js';
import type { IpResult, IpRunner } from '../src/ip-runner.js';
import type { SysctlSetting } from '../src/sysctl.js';

/** One call the backend must make, in order, and what ip answers. */
export interface ExpectedCall {
  args: string[];
  input?: string;
  result?: Partial<IpResult>;
}

/** A runner that checks every argv and batch text against a script. */
export class ScriptedIp {
  readonly #calls: ExpectedCall[];
  /** Every ip call ("ip <args>") and sysctl write ("sysctl <path>=<value>") in order. */
  readonly events: string[] = [];

  constructor(calls: ExpectedCall[]) {
    this.#calls = [...calls];
  }

  readonly run: IpRunner = async (args, input) => {
    const expected = this.#calls.shift();
    this.events.push(`ip ${args.join(' ')}`);
    assert.ok(expected, `unexpected ip call: ${args.join(' ')} ${input ?? ''}`);
    assert.deepEqual({ args: [...args], input }, { args: expected.args, input: expected.input });
    return { exitCode: 0, stdout: '', stderr: '', ...expected.result };
  };

  assertDone(): void {
    assert.deepEqual(this.#calls, [], 'ip calls the backend did not make');
  }
}


/** A backend on `ip` whose settings writes are recorded in `ip.events`. */
export function fakeBackend(ip: ScriptedIp): Iproute2VlanBackend {
  const sysctl = async (settings: readonly SysctlSetting[]) => {
    ip.events.push(...settings.map((s) => `sysctl ${s.path.join('/')}=${s.value}`));
  };
  return new Iproute2VlanBackend({ run: ip.run, sysctl, netns: undefined, log: silentLogger });
}

export interface FakeLink {
  index: number;
  name: string;
  mtu?: number;
  up?: boolean;
  alias?: string;
  kind?: string;
  parent?: string;
  vlan?: number;
  /** Global IPv4 addresses with prefix length. */
  addresses?: string[];
}

/** What `ip -json -details address show dev X` prints for `link`. */
export function linkJson(link: FakeLink): string {
  const info =
    link.kind === 'vlan'
      ? { info_kind: 'vlan', info_data: { protocol: '802.1Q', id: link.vlan, flags: ['REORDER_HDR'] } }
      : link.kind === undefined
        ? undefined
        : { info_kind: link.kind };
  return JSON.stringify([
    {
      ifindex: link.index,
      ...(link.parent === undefined ? {} : { link: link.parent }),
      ifname: link.name,
      flags: link.up === true ? ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'] : ['BROADCAST', 'MULTICAST'],
      mtu: link.mtu ?? 1500,
      operstate: link.up === true ? 'UP' : 'DOWN',
      address: `52:54:00:00:00:${link.index.toString(16).padStart(2, '0')}`,
      ...(info === undefined ? {} : { linkinfo: info }),
      ...(link.alias === undefined ? {} : { ifalias: link.alias }),
      addr_info: (link.addresses ?? []).map((cidr) => {
        const [local, prefixlen] = cidr.split('/');
        return { family: 'inet', local, prefixlen: Number(prefixlen), scope: 'global', label: link.name };
      }),
    },
  ]);
}

/** The read of one link, answered with `link` or "does not exist". */
export function readLink(name: string, link: FakeLink | undefined, prefix: string[] = []): ExpectedCall {
  return {
    args: [...prefix, '-json', '-details', 'address', 'show', 'dev', name],
    result: link === undefined ? { exitCode: 1, stderr: `Device "${name}" does not exist.\n` } : { stdout: `${linkJson(link)}\n` },
  };
}

/** A `-batch -` call with these lines. */
export function batch(lines: string[], options: { force?: boolean; prefix?: string[]; result?: Partial<IpResult> } = {}): ExpectedCall {
  return {
    args: [...(options.prefix ?? []), ...(options.force === true ? ['-force'] : []), '-batch', '-'],
    input: `${lines.join('\n')}\n`,
    ...(options.result === undefined ? {} : { result: options.result }),
  };
}
