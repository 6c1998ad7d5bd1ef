/**
 * The kill -9 loop: on one state directory, again and again, start the
 * daemon, send it a random stream of calls (some concurrent), SIGKILL it at
 * a random moment of the stream, restart it until healthy, stop it (cleanly
 * or with another SIGKILL) and check, with no daemon running, that the
 * kernel is exactly the rendering of what the store holds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Daemon } from '@router-service/integration-tests/daemon';
import type { RouterClient } from '@router-service/integration-tests/router-client';
import { createRouterNs } from '@router-service/integration-tests/router-ns';
import type { FirewallUnderTest } from './firewall-under-test.js';
import { kernelProblems, readStoredState } from './kernel-checks.js';
import { randomOperation, STREAM_VLANS, streamAddressPrefix, unexpectedOutcome, type Operation } from './operations.js';
import { Random } from './random.js';
import { RouterHome, startHealthy, stopCleanly } from './router-daemon.js';

export interface KillLoopOptions {
  readonly iterations: number;
  readonly seed: number;
  /** The kill comes uniformly within this many milliseconds of the stream's start. */
  readonly streamMs: number;
  /** The daemon's --resync-interval. */
  readonly resyncInterval: string;
}

export interface KillLoopReport {
  readonly iterations: number;
  /** Calls sent in all. */
  readonly calls: number;
  /** Kills that came while at least one call was in flight. */
  readonly killsDuringCalls: number;
  readonly elapsedMs: number;
}

/** The networks of the stream by VLAN id, with the prefix of their addresses, for traces of deleted ones. */
const STREAM_NETWORKS: ReadonlyMap<number, string> = new Map(STREAM_VLANS.map((vlan) => [vlan, streamAddressPrefix(vlan)]));

/**
 * One random stream of calls, in batches of 1 to 3 concurrent ones, until
 * it is told it was killed; it keeps a log of its calls with their times.
 */
class CallStream {
  /** Each call sent and each answer, with its time since the start. */
  readonly log: string[] = [];
  /** Outcomes of calls that ended before the kill and were neither a success nor an expected refusal. */
  readonly unexpected: string[] = [];
  calls = 0;
  inFlight = 0;
  #killed = false;
  readonly #start = Date.now();

  /** Marks the kill: from now on failures are its doing. */
  kill(): void {
    this.#killed = true;
    this.note(`SIGKILL with ${this.inFlight} calls in flight`);
  }

  note(line: string): void {
    this.log.push(`+${String(Date.now() - this.#start).padStart(4)} ms ${line}`);
  }

  async run(client: RouterClient, random: Random): Promise<void> {
    while (!this.#killed) {
      const batch = Array.from({ length: random.int(1, 3) }, () => randomOperation(random));
      await Promise.all(batch.map((operation) => this.#send(client, operation)));
    }
  }

  async #send(client: RouterClient, operation: Operation): Promise<void> {
    this.note(`-> ${operation.label}`);
    this.calls++;
    this.inFlight++;
    const [outcome] = await Promise.allSettled([operation.send(client)]);
    this.inFlight--;
    if (outcome === undefined) throw new Error('allSettled lost an outcome');
    this.note(`<- ${operation.label}: ${outcome.status === 'fulfilled' ? 'ok' : String(outcome.reason)}`);
    const problem = this.#killed ? '' : unexpectedOutcome(outcome);
    if (problem !== '') this.unexpected.push(`${operation.label}: ${problem}`);
  }
}

/** Runs the loop in a fresh namespace and state directory; throws at the first iteration that goes wrong. */
export async function runKillLoop(firewall: FirewallUnderTest, options: KillLoopOptions): Promise<KillLoopReport> {
  const started = Date.now();
  const ns = await createRouterNs();
  const home = await RouterHome.create();
  const seeds = new Random(options.seed);
  const daemonOptions = { firewall: firewall.name, resyncInterval: options.resyncInterval };
  // Every daemon started, so that a failing iteration leaves none running.
  const daemons: Daemon[] = [];
  let callCount = 0;
  let killsDuringCalls = 0;
  try {
    for (let iteration = 1; iteration <= options.iterations; iteration++) {
      // Drawn before the stream, whose length depends on timing, so that a
      // seed replays the same calls, kill moment and way of stopping.
      const random = new Random(seeds.seed());
      const killAtMs = random.next() * options.streamMs;
      const stopsCleanly = random.chance(0.5);
      const where = `seed ${options.seed} (replay with LIFECYCLE_SEED=${options.seed}), iteration ${iteration}`;
      const victim = await startHealthy(ns, home, daemonOptions).catch((error: unknown) => {
        throw new Error(`${firewall.name} kill loop, ${where}: the daemon did not start healthy: ${String(error)}`);
      });
      daemons.push(victim);
      const calls = new CallStream();
      const fail = (what: string, logs: readonly string[]): Error =>
        new Error(`${firewall.name} kill loop, ${where}: ${what}\ncalls:\n${calls.log.join('\n')}\n${logs.join('\n')}`);
      const running = calls.run(victim.client, new Random(random.seed()));
      await sleep(killAtMs);
      if (calls.inFlight > 0) killsDuringCalls++;
      calls.kill();
      await victim.dispose();
      await running;
      callCount += calls.calls;
      if (calls.unexpected.length > 0) {
        throw fail(`calls failed unexpectedly before the kill:\n${calls.unexpected.join('\n')}`, [`killed daemon's log:\n${victim.output}`]);
      }

      const restarted = await startHealthy(ns, home, daemonOptions).catch((error: unknown) => {
        throw fail(`the restarted daemon did not get healthy: ${String(error)}`, [`killed daemon's log:\n${victim.output}`]);
      });
      daemons.push(restarted);
      if (stopsCleanly) await stopCleanly(restarted);
      else await restarted.dispose();

      const stored = readStoredState(home.stateDir);
      const problems = await kernelProblems(ns, firewall, stored, STREAM_NETWORKS);
      if (problems.length > 0) {
        throw fail(`the kernel is not the stored state:\n${problems.join('\n')}`, [
          `stored state: ${JSON.stringify(stored.desired)}`,
          `our ${firewall.name} objects:\n${await firewall.dump(ns)}`,
          `killed daemon's log:\n${victim.output}`,
          `restarted daemon's log:\n${restarted.output}`,
        ]);
      }
    }
  } finally {
    for (const daemon of daemons) await daemon.dispose();
    await ns.delete().finally(() => home.remove());
  }
  return { iterations: options.iterations, calls: callCount, killsDuringCalls, elapsedMs: Date.now() - started };
}
