/**
 * The lines baseline-worker.js reads and writes, one JSON object each. The
 * worker runs inside the router's namespace, so that each iptables it
 * starts is a plain exec there, as in the original service (an
 * `ip netns exec` per command would cost more than iptables itself).
 */

/** One DNAT rule of the original approach: tcp host port -> container address and port. */
export interface BaselineRule {
  readonly hostPort: number;
  readonly containerPort: number;
}

export type BaselineRequest =
  /** `iptables -t nat -A CHAIN ...`: one exec. */
  | { readonly op: 'add'; readonly rule: BaselineRule }
  /** `iptables -t nat -L CHAIN --line-numbers`, then `-D CHAIN N`: two execs. */
  | { readonly op: 'remove'; readonly hostPort: number }
  /** Setup, not the original approach: the chain becomes exactly `rules` in one iptables-restore. */
  | { readonly op: 'load'; readonly rules: readonly BaselineRule[] };

export type BaselineReply = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** The chain every rule goes into, jumped to from PREROUTING. */
export const BASELINE_CHAIN = 'ORIGINAL-DNAT';
