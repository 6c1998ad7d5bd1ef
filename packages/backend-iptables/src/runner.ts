import { execa } from 'execa';
import { unavailable } from '@router-service/core';

/** What one run of iptables-save or iptables-restore produced. */
export interface IptablesResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The two programs the backend runs. */
export type IptablesTool = 'save' | 'restore';

/**
 * Runs iptables-save or iptables-restore with an argv (never a shell
 * string) and `input` on stdin. A non-zero exit is a result, not an
 * exception: the caller says what the command meant.
 */
export type IptablesRunner = (tool: IptablesTool, args: readonly string[], input?: string) => Promise<IptablesResult>;

/**
 * Which iptables: Debian's iptables-nft (the default, rules in nf_tables
 * through the xtables compatibility layer), iptables-legacy (the old
 * x_tables blobs), or whichever `/usr/sbin/iptables-restore` the
 * alternatives system points to.
 */
export type IptablesVariant = 'nft' | 'legacy' | 'auto';

/** The programs of each variant, by full path. */
export const VARIANT_TOOLS: { readonly [V in IptablesVariant]: { readonly [T in IptablesTool]: string } } = {
  nft: { save: '/usr/sbin/iptables-nft-save', restore: '/usr/sbin/iptables-nft-restore' },
  legacy: { save: '/usr/sbin/iptables-legacy-save', restore: '/usr/sbin/iptables-legacy-restore' },
  auto: { save: '/usr/sbin/iptables-save', restore: '/usr/sbin/iptables-restore' },
};

export interface IptablesRunnerOptions {
  variant: IptablesVariant;
  /** Run inside this named network namespace, through `ip netns exec`. */
  netns?: string;
  ipPath: string;
}

const IPTABLES_TIMEOUT_MS = 60_000;

/** An IptablesRunner that executes the variant's programs through execa. */
export function execaIptablesRunner(options: IptablesRunnerOptions): IptablesRunner {
  const tools = VARIANT_TOOLS[options.variant];
  return async (tool, args, input) => {
    const [file, argv] =
      options.netns === undefined ? [tools[tool], [...args]] : [options.ipPath, ['netns', 'exec', options.netns, tools[tool], ...args]];
    const result = await execa(file, argv, { input: input ?? '', reject: false, env: { LC_ALL: 'C' }, timeout: IPTABLES_TIMEOUT_MS });
    if (result.exitCode === undefined) {
      throw unavailable(`cannot run ${file} ${argv.join(' ')}: ${result.shortMessage ?? result.message}`, result.cause);
    }
    return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
  };
}
