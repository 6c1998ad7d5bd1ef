/**
 * What each benchmarked way of publishing ports offers the measurements:
 * the daemon through gRPC, or the original approach through iptables.
 * Every mapping is TCP to the one container (topology.ts).
 */

/** Host ports hostPort..hostPortEnd to containerPort.. onward, one-to-one. */
export interface PublishedPorts {
  readonly hostPort: number;
  /** Equal to hostPort for a single port. */
  readonly hostPortEnd: number;
  readonly containerPort: number;
}

/** One published host port to containerPort. */
export function singlePort(hostPort: number, containerPort: number): PublishedPorts {
  return { hostPort, hostPortEnd: hostPort, containerPort };
}

export interface Publisher {
  /** How the report names it. */
  readonly name: string;
  /** Publishes `ports` as its caller would, in one request; timed. */
  add(ports: PublishedPorts): Promise<void>;
  /** Unpublishes `ports` as its caller would, in one request; timed. */
  remove(ports: PublishedPorts): Promise<void>;
  /** Publishes each of `mappings` from `clients` callers at once; timed as a whole. */
  addConcurrently(mappings: readonly PublishedPorts[], clients: number): Promise<void>;
  /**
   * Makes `count` calls that do no work from `clients` callers at once, as
   * addConcurrently makes its calls; timed as a whole. What the calls' way
   * in and out costs alone, for a publisher reached through one (the
   * original had none).
   */
  noWorkConcurrently?(count: number, clients: number): Promise<void>;
  /** Setup, not timed: publishes `mappings` by the fastest legitimate means. */
  addMany(mappings: readonly PublishedPorts[]): Promise<void>;
  /** Setup, not timed: unpublishes `mappings` by the fastest legitimate means. */
  removeMany(mappings: readonly PublishedPorts[]): Promise<void>;
  /**
   * Why a range published in one `add` would not be what was asked for,
   * or undefined when it is (checked after adding it).
   */
  rangeProblem(ports: PublishedPorts): Promise<string | undefined>;
  /** Stops what it started; the namespaces are the caller's. */
  close(): Promise<void>;
}
