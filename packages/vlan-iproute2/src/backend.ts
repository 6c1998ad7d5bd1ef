import { invalid, MAX_VLAN, MIN_VLAN, precondition } from '@router-service/core';
import type { LinkStatus, Logger, Uplink, VlanBackend, VlanLink } from '@router-service/core';
import { checkDeviceName, vlanLinkName } from './device-name.js';
import { batchFailures, classifyIpFailure } from './ip-errors.js';
import type { BatchFailure } from './ip-errors.js';
import { parseLinks, parseRoutes } from './ip-json.js';
import type { IpLinkRecord } from './ip-json.js';
import type { IpResult, IpRunner } from './ip-runner.js';
import { ipv4Network, parseIpv4Interface } from './ipv4.js';
import type { Ipv4Interface } from './ipv4.js';
import { ipForwardingSetting, ipv6OffSetting, isolationSettings, networkLinkSettings, promoteSecondariesSetting } from './sysctl.js';
import type { SysctlSetting, SysctlWriter } from './sysctl.js';

/** The ifalias that marks a link as created by router-service. */
export const OWNER_ALIAS = 'router-service';

/** What the backend drives the kernel with. */
export interface Iproute2Dependencies {
  run: IpRunner;
  sysctl: SysctlWriter;
  /** Every ip command runs as `ip -n <netns>`. */
  netns: string | undefined;
  log: Logger;
}

/** How often a listing the kernel interrupted is tried in all. */
const DUMP_ATTEMPTS = 5;

function checkVlanId(vlan: number): void {
  if (!Number.isInteger(vlan) || vlan < MIN_VLAN || vlan > MAX_VLAN) {
    throw invalid(`invalid VLAN id ${vlan}: use ${MIN_VLAN} to ${MAX_VLAN}`);
  }
}

function checkMtu(mtu: number): void {
  if (!Number.isInteger(mtu) || mtu < 0) {
    throw invalid(`invalid MTU ${mtu}: use a positive integer, or 0 for the parent's MTU`);
  }
}

function isOwned(link: IpLinkRecord): boolean {
  return link.alias === OWNER_ALIAS;
}

function isVlanOn(link: IpLinkRecord, parent: string, vlan: number): boolean {
  return (
    link.kind === 'vlan' &&
    link.lowerLink === parent &&
    link.vlan?.id === vlan &&
    (link.vlan.protocol === undefined || link.vlan.protocol === '802.1Q')
  );
}

function isAdminUp(link: IpLinkRecord): boolean {
  return link.flags.includes('UP');
}

/** Global IPv4 addresses with prefix length. */
function globalIpv4(link: IpLinkRecord): Ipv4Interface[] {
  return link.addresses
    .filter((a) => a.family === 'inet' && a.scope === 'global' && a.local !== '')
    .map((a) => ({ address: a.local, prefixLength: a.prefixLength }));
}

function cidr(a: Ipv4Interface): string {
  return `${a.address}/${a.prefixLength}`;
}

function toStatus(link: IpLinkRecord): LinkStatus {
  return {
    name: link.name,
    index: link.index,
    vlan: link.vlan?.id ?? 0,
    mac: link.mac,
    mtu: link.mtu,
    up: isAdminUp(link) && link.operstate !== 'DOWN' && link.operstate !== 'LOWERLAYERDOWN',
    owned: isOwned(link),
    addresses: globalIpv4(link).map(cidr),
  };
}

function commandError(what: string, args: readonly string[], result: IpResult): Error {
  return new Error(`${what}: ip ${args.join(' ')} failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
}

function batchError(what: string, lines: readonly string[], failures: readonly BatchFailure[]): Error {
  const details = failures.map((f) => `"${lines[f.index] ?? '?'}": ${f.stderr}`);
  return new Error(`${what}: ip -batch failed: ${details.join('; ')}`);
}

/** The desired state of an existing link that `#converge` applies. */
interface LinkSettings {
  mtu: number | undefined;
  address: Ipv4Interface;
  up: boolean;
}

/** A VlanBackend that drives iproute2's `ip`, with `-json` for reads and `-batch -` for changes. */
export class Iproute2VlanBackend implements VlanBackend {
  readonly name = 'iproute2';
  readonly #run: IpRunner;
  readonly #sysctl: SysctlWriter;
  readonly #netns: string | undefined;
  readonly #log: Logger;

  constructor(deps: Iproute2Dependencies) {
    this.#run = deps.run;
    this.#sysctl = deps.sysctl;
    this.#netns = deps.netns;
    this.#log = deps.log;
  }

  async defaultRouteInterface(): Promise<string> {
    const routes = parseRoutes(await this.#read(['-4', 'route', 'show', 'table', 'main', 'default'], 'listing IPv4 default routes'));
    // Multipath and blackhole routes name no single device: they cannot
    // tell which interface is the uplink.
    let best: { dev: string; metric: number } | undefined;
    for (const route of routes) {
      if (route.dev !== undefined && (best === undefined || route.metric < best.metric)) {
        best = { dev: route.dev, metric: route.metric };
      }
    }
    if (best === undefined) {
      throw precondition('no interface holds an IPv4 default route: name the parent interface with --parent');
    }
    return best.dev;
  }

  async uplink(name: string): Promise<Uplink> {
    const link = await this.#readLink(checkDeviceName(name));
    if (link === undefined) {
      throw precondition(`parent interface ${name} does not exist`);
    }
    return {
      name: link.name,
      mtu: link.mtu,
      prefixes: globalIpv4(link).map((a) => ipv4Network(a.address, a.prefixLength)),
    };
  }

  async ensureVlan(link: VlanLink): Promise<LinkStatus> {
    checkVlanId(link.vlan);
    checkMtu(link.mtu);
    const name = vlanLinkName(link.parent, link.vlan);
    const address = parseIpv4Interface(link.address);
    const parent = await this.#readLink(link.parent);
    if (parent === undefined) {
      throw precondition(`parent interface ${link.parent} does not exist`);
    }
    let current = await this.#readLink(name);
    if (current !== undefined && !isOwned(current)) {
      throw precondition(`interface ${name} exists and is not managed by router-service: remove or rename it`);
    }
    if (current !== undefined && !isVlanOn(current, parent.name, link.vlan)) {
      this.#log.info(
        { link: name, kind: current.kind, vlan: current.vlan?.id ?? 0, lowerLink: current.lowerLink ?? '' },
        'replacing a link of ours that is not the wanted VLAN',
      );
      await this.#deleteLink(name, `replacing drifted link ${name}`);
      current = undefined;
    }
    const mtu = link.mtu === 0 ? parent.mtu : link.mtu;
    if (current === undefined) {
      await this.#createVlan(name, parent.name, link.vlan, mtu);
      current = await this.#readLink(name);
      if (current === undefined) {
        throw new Error(`link ${name} vanished right after it was created`);
      }
    }
    // Harden the link before it gets an address, so that it never answers
    // for other VLANs, even briefly; and let it carry the router's own
    // connections to ports published on 127.0.0.1.
    await this.#applySysctl([...networkLinkSettings(name), promoteSecondariesSetting(name)], `isolating ${name}`);
    await this.#converge(current, { mtu, address, up: true });
    if (current.mtu !== mtu) await this.#applySysctl([ipv6OffSetting(name)], `switching IPv6 off on ${name}`);
    const status = await this.status(name);
    if (status === undefined) {
      throw new Error(`link ${name} vanished while it was configured`);
    }
    return status;
  }

  /**
   * Makes `address` the only global IPv4 address of the named link, adding
   * it before the stale ones are removed so that the gateway never
   * disappears while it changes.
   */
  async setAddress(name: string, address: string): Promise<void> {
    const want = parseIpv4Interface(address);
    const link = await this.#readLink(checkDeviceName(name));
    if (link === undefined) {
      throw precondition(`interface ${name} does not exist`);
    }
    await this.#applySysctl([promoteSecondariesSetting(name)], `setting the address of ${name}`);
    await this.#converge(link, { mtu: undefined, address: want, up: false });
  }

  async deleteVlan(name: string): Promise<void> {
    const link = await this.#readLink(checkDeviceName(name));
    if (link === undefined) return;
    if (!isOwned(link)) {
      throw precondition(`interface ${name} is not managed by router-service: leaving it alone`);
    }
    this.#log.info({ link: name }, 'deleting VLAN link');
    await this.#deleteLink(name, `deleting link ${name}`);
  }

  async status(name: string): Promise<LinkStatus | undefined> {
    const link = await this.#readLink(checkDeviceName(name));
    return link === undefined ? undefined : toStatus(link);
  }

  async owned(): Promise<LinkStatus[]> {
    const links = parseLinks(await this.#read(['-details', 'address', 'show'], 'listing links'));
    return links.filter(isOwned).map(toStatus);
  }

  async isolate(name: string): Promise<void> {
    const link = await this.#readLink(checkDeviceName(name));
    if (link === undefined) {
      throw precondition(`cannot isolate interface ${name}: it does not exist`);
    }
    // A link of ours is a network link; any other one (the parent) is not.
    const settings = isOwned(link) ? networkLinkSettings(name) : isolationSettings(name);
    await this.#applySysctl(settings, `isolating ${name}`);
  }

  async enableForwarding(): Promise<void> {
    await this.#applySysctl([ipForwardingSetting], 'enabling IPv4 forwarding');
  }

  #argv(args: readonly string[]): string[] {
    return this.#netns === undefined ? [...args] : ['-n', this.#netns, ...args];
  }

  async #exec(args: readonly string[], input?: string): Promise<{ argv: string[]; result: IpResult }> {
    const argv = this.#argv(args);
    this.#log.debug({ argv, ...(input === undefined ? {} : { input }) }, 'running ip');
    return { argv, result: await this.#run(argv, input) };
  }

  /**
   * Runs an `ip -json` listing, again when the kernel interrupted the dump
   * because the table changed underneath it: a partial answer is never used.
   */
  async #query(args: readonly string[]): Promise<{ argv: string[]; result: IpResult }> {
    for (let attempt = 1; ; attempt++) {
      const answer = await this.#exec(['-json', ...args]);
      if (attempt === DUMP_ATTEMPTS || classifyIpFailure(answer.result.stderr) !== 'dump-interrupted') {
        return answer;
      }
    }
  }

  /** Runs an `ip -json` listing and returns its stdout. */
  async #read(args: readonly string[], what: string): Promise<string> {
    const { argv, result } = await this.#query(args);
    if (result.exitCode !== 0) throw commandError(what, argv, result);
    return result.stdout;
  }

  /** The named link with its addresses, or undefined if there is none. */
  async #readLink(name: string): Promise<IpLinkRecord | undefined> {
    const { argv, result } = await this.#query(['-details', 'address', 'show', 'dev', name]);
    if (result.exitCode !== 0) {
      if (classifyIpFailure(result.stderr) === 'no-device') return undefined;
      throw commandError(`looking up link ${name}`, argv, result);
    }
    // One link, whose name may differ when `name` is an alternative name.
    const links = parseLinks(result.stdout);
    if (links.length !== 1) {
      throw new Error(`looking up link ${name}: ip ${argv.join(' ')} listed ${links.map((l) => l.name).join(', ') || 'nothing'}`);
    }
    return links[0];
  }

  /** Runs `lines` through `ip -batch -`; without `force` ip stops at the first failure. */
  async #batch(lines: readonly string[], force: boolean): Promise<BatchFailure[]> {
    const { result } = await this.#exec([...(force ? ['-force'] : []), '-batch', '-'], `${lines.join('\n')}\n`);
    if (result.exitCode === 0) return [];
    const failures = batchFailures(result.stderr);
    // Without a per-command report ip failed before running any command.
    return failures.length > 0 ? failures : [{ index: 0, stderr: result.stderr.trim() }];
  }

  async #deleteLink(name: string, what: string): Promise<void> {
    const { argv, result } = await this.#exec(['link', 'delete', 'dev', name]);
    if (result.exitCode !== 0 && classifyIpFailure(result.stderr) !== 'no-device') {
      throw commandError(what, argv, result);
    }
  }

  async #createVlan(name: string, parent: string, vlan: number, mtu: number): Promise<void> {
    this.#log.info({ link: name, parent, vlan, mtu }, 'creating VLAN link');
    const lines = [
      `link add link ${parent} name ${name} mtu ${mtu} type vlan protocol 802.1Q id ${vlan}`,
      `link set dev ${name} alias ${OWNER_ALIAS}`,
    ];
    const [failure] = await this.#batch(lines, false);
    if (failure === undefined) return;
    if (failure.index === 0) {
      switch (classifyIpFailure(failure.stderr)) {
        case 'unsupported':
          throw precondition(
            `creating VLAN link ${name}: the kernel has no 802.1Q support (load module 8021q): ${failure.stderr}`,
          );
        case 'exists':
          throw precondition(`VLAN ${vlan} already exists on ${parent} under another name: remove that link first`);
        default:
          throw batchError(`creating VLAN link ${name}`, lines, [failure]);
      }
    }
    // An untagged link of our name would be refused as foreign from now
    // on: take it away again.
    await this.#deleteLink(name, `removing untagged new link ${name}`);
    throw batchError(`tagging ${name} as ours`, lines, [failure]);
  }

  async #converge(link: IpLinkRecord, settings: LinkSettings): Promise<void> {
    const { name } = link;
    const want = cidr(settings.address);
    const have = globalIpv4(link).map(cidr);
    const additions: string[] = [];
    if (settings.mtu !== undefined && link.mtu !== settings.mtu) {
      additions.push(`link set dev ${name} mtu ${settings.mtu}`);
    }
    if (!have.includes(want)) {
      // As netlink clients do, give networks that have one a broadcast address.
      const broadcast = settings.address.prefixLength <= 30 ? ' broadcast +' : '';
      additions.push(`address replace ${want}${broadcast} dev ${name}`);
    }
    if (additions.length > 0) {
      const failures = await this.#batch(additions, false);
      if (failures.length > 0) throw batchError(`configuring ${name}`, additions, failures);
    }
    // Only once the new address is in place do the stale ones go; each is
    // tried even if another fails, and one already gone is fine.
    const removals = have.filter((a) => a !== want).map((a) => `address del ${a} dev ${name}`);
    if (settings.up && !isAdminUp(link)) {
      removals.push(`link set dev ${name} up`);
    }
    if (removals.length > 0) {
      const failures = (await this.#batch(removals, true)).filter(
        (f) => !(removals[f.index]?.startsWith('address del ') && classifyIpFailure(f.stderr) === 'address-not-found'),
      );
      if (failures.length > 0) throw batchError(`configuring ${name}`, removals, failures);
    }
  }

  async #applySysctl(settings: readonly SysctlSetting[], what: string): Promise<void> {
    this.#log.debug({ settings: settings.map((s) => `${s.path.join('/')}=${s.value}`) }, 'writing kernel settings');
    try {
      await this.#sysctl(settings);
    } catch (err) {
      throw new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
}
