import type { FirewallSuiteAdapter } from '@router-service/firewall-suite';

/** The adapter, saying that this kernel speaks SCTP, so that the suite checks it with packets too. */
export function withSctpPackets(adapter: FirewallSuiteAdapter): FirewallSuiteAdapter {
  return { ...adapter, capabilities: { ...adapter.capabilities, sctpPackets: true } };
}
