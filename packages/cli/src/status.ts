/** `health` and `status`: how the service is doing and everything it holds. */
import type { GetStateResponse, HealthResponse } from '@router-service/proto';
import { call, callAndPrint } from './call.js';
import { commandFlags, noPositional, type CommandDefinition } from './command.js';
import { formatSeconds } from '@router-service/core';
import { UsageError } from './errors.js';
import { renderJson } from './json.js';
import { formatHosts } from './dns.js';
import { formatPorts } from './port.js';
import { formatTable } from './table.js';
import { dash, formatVlans } from './vlan.js';

/**
 * Whether the service reports its backends and the kernel: one that
 * predates those fields leaves them empty, and its kernel_in_sync false
 * means nothing.
 */
function reportsKernel(health: HealthResponse): boolean {
  return health.firewallBackend !== '';
}

/** "in sync", or "DRIFT" and what differs. */
function formatKernel(health: HealthResponse): string {
  return health.kernelInSync ? 'in sync' : `DRIFT ${health.kernelDrift}`;
}

export function formatHealth(health: HealthResponse): string {
  const rows: Array<[string, string]> = [
    ['healthy', String(health.healthy)],
    ['status', health.status],
    ['networks', String(health.activeVlans)],
    ['uptime', formatSeconds(health.uptimeSeconds)],
  ];
  if (reportsKernel(health)) {
    rows.push(['firewall', health.firewallBackend], ['dns', health.dnsBackend], ['kernel', formatKernel(health)]);
  }
  return formatTable(rows);
}

/** The status overview: a summary line, the backends and the kernel, the networks, their extra NAT and DNS, the port mappings. */
export function formatStatus(health: HealthResponse, state: GetStateResponse): string {
  let text =
    `health: ${health.status}, ${health.activeVlans} networks, ${state.portMappings.length} port mappings, ` +
    `up ${formatSeconds(health.uptimeSeconds)}\n`;
  if (reportsKernel(health)) {
    text += `backends: firewall ${health.firewallBackend}, dns ${health.dnsBackend}\n`;
    text += `kernel: ${formatKernel(health)}\n`;
  }
  text += '\n';
  text += formatVlans(state.networks.flatMap((network) => (network.vlan === undefined ? [] : [network.vlan])));
  for (const network of state.networks) {
    const vlanId = network.vlan?.vlanId ?? 0;
    if (network.natSources.length > 0) {
      text += `\nVLAN ${vlanId} also masquerades: ${network.natSources.join(', ')}\n`;
    }
    if (network.dns?.enabled === true) {
      text += `\nVLAN ${vlanId} DNS (domain ${dash(network.dns.domain)}):\n`;
      text += formatHosts(network.dns);
    }
  }
  if (state.portMappings.length > 0) text += '\n' + formatPorts(state.portMappings);
  return text;
}

/** routerctl shows whether the kernel matches the desired state, so it asks for the comparison. */
const HEALTH_REQUEST = { checkKernel: true };

const health: CommandDefinition = {
  name: 'health',
  parse(args, globalJson) {
    const { flags, json } = commandFlags(globalJson);
    flags.parse(args);
    if (flags.positional.length > 0) throw new UsageError('health takes no arguments');
    return {
      name: this.name,
      request: HEALTH_REQUEST,
      json: json.value,
      execute: async (session) => {
        const response = await callAndPrint(session, 'getHealth', HEALTH_REQUEST, formatHealth);
        if (!session.json && !response.healthy) throw new UsageError('service is unhealthy');
      },
    };
  },
};

const status: CommandDefinition = {
  name: 'status',
  parse(args, globalJson) {
    const { flags, json } = commandFlags(globalJson);
    flags.parse(args);
    noPositional(flags);
    return {
      name: this.name,
      request: HEALTH_REQUEST,
      json: json.value,
      execute: async (session) => {
        const healthResponse = await call(session, 'getHealth', HEALTH_REQUEST);
        const state = await call(session, 'getState', { vlanId: 0 });
        // --json prints the two responses one after the other.
        session.write(
          session.json ? renderJson(healthResponse) + renderJson(state) : formatStatus(healthResponse, state),
        );
      },
    };
  },
};

export const statusCommands: readonly CommandDefinition[] = [status, health];
