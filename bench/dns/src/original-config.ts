/**
 * The dnsmasq configuration of the original approach: every name of the
 * network as an `address=` line, no upstream (`no-resolv`), rewritten whole
 * on each change. Rendering only; the names come from the bench itself.
 */
import type { NameRecord } from './names.js';

/** Where the original approach's dnsmasq listens and writes its pid. */
export interface OriginalSettings {
  readonly gateway: string;
  readonly pidFile: string;
}

/** The configuration file, one option per line. */
export function renderOriginalConfig(settings: OriginalSettings, records: readonly NameRecord[]): string {
  const lines = [
    'no-resolv',
    // Not in the original, which also read the router's /etc/hosts: left
    // out so that what answers does not depend on the machine.
    'no-hosts',
    `listen-address=${settings.gateway}`,
    'bind-interfaces',
    `pid-file=${settings.pidFile}`,
    // The bench reads dnsmasq's stderr; the original logged to syslog.
    'log-facility=-',
    ...records.map((r) => `address=/${r.name}/${r.address}`),
  ];
  return `${lines.join('\n')}\n`;
}
