import { basename } from 'node:path';
import { CommandError, ipCmd, run, sleep } from './command.js';
import { dialVsock } from './client.js';
import { routerctlBin, startDaemon } from './daemon.js';
import { addContainer, buildFabric, net100, net200, setContainerAddr } from './topology.js';

/** runDemo narrates what router-service does, running the same commands an operator would. */
export async function runDemo(): Promise<void> {
  say('This is a helper VM booted for the demo: its eth0 is the trunk to the container VMs.');
  await buildFabric();
  for (const network of [net100, net200]) {
    await addContainer(network.container);
    await setContainerAddr(network.container, network.vlan, network.containerAddr);
  }
  say("Two container VMs are plugged into the same switch; each tags its traffic with its network's VLAN id.");
  const daemon = await startDaemon();
  try {
    (await dialVsock()).close();
    await narrate();
  } finally {
    await daemon.stop();
  }
}

async function narrate(): Promise<void> {
  say('router-service is up, listening on vsock port 50052 (and a unix socket for local tools).');
  await routerctl('health');

  say('The runtime creates two bridge networks, one VLAN each:');
  await routerctl('vlan', 'create', '100', '--subnet', '172.18.0.0/16', '--gateway', '172.18.0.1', '--name', 'frontend');
  await routerctl('vlan', 'create', '200', '--subnet', '172.19.0.0/16', '--gateway', '172.19.0.1', '--name', 'backend');
  await routerctl('vlan', 'list');
  say('The kernel now has one 802.1Q link per network, holding the gateway address:');
  await show(ipCmd, '-br', 'addr', 'show', 'type', 'vlan');

  say('A container on VLAN 100 reaches its gateway:');
  await show(ipCmd, 'netns', 'exec', 'c100', '/bin/ping', '-c', '2', '-W', '2', '172.18.0.1');
  say('...and one on VLAN 200 reaches its own:');
  await show(ipCmd, 'netns', 'exec', 'c200', '/bin/ping', '-c', '2', '-W', '2', '172.19.0.1');

  say('Publishing a port, masquerading, and naming containers are one call each:');
  await routerctl('port', 'add', '--vlan', '100', '--container-ip', '172.18.0.2', '--container-port', '80', '--host-port', '8080');
  await routerctl('dns', 'set', '100', '--domain', 'frontend', 'web=172.18.0.2');
  await routerctl('nat', 'remove', '200');
  await routerctl('status');

  say('Bad input gets an error that says what to change, and nothing changes:');
  await routerctl('vlan', 'create', '300', '--subnet', '172.18.5.0/24');
  await routerctl('port', 'add', '--vlan', '100', '--container-ip', '172.19.0.2', '--container-port', '80', '--host-port', '8081');

  say('Deleting network 200 removes its link; its container loses the gateway:');
  await routerctl('vlan', 'delete', '200');
  await routerctl('vlan', 'list');
  await show(ipCmd, 'netns', 'exec', 'c200', '/bin/ping', '-c', '1', '-W', '2', '172.19.0.1');
  say('Done.');
}

function say(message: string): void {
  console.log(`\n### ${message}`);
}

function routerctl(...args: string[]): Promise<void> {
  return show(routerctlBin, ...args);
}

/**
 * show prints a command as typed and then its output, failures included:
 * the demo shows what an operator would see.
 */
async function show(file: string, ...args: string[]): Promise<void> {
  console.log(`$ ${basename(file)} ${args.join(' ')}`);
  let output: string;
  try {
    output = await run(file, args);
  } catch (error) {
    output = error instanceof CommandError ? error.output : String(error);
  }
  process.stdout.write(output);
  await sleep(100);
}
