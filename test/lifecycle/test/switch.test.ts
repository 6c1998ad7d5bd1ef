/**
 * Switching the firewall backend in the config file and restarting: the
 * previous backend's objects go, the new one converges to the same stored
 * state, the published port keeps answering, and objects that are not ours
 * survive every switch.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Daemon } from '@router-service/integration-tests/daemon';
import type { FirewallUnderTest } from '../src/firewall-under-test.js';
import { IPTABLES_FIREWALL } from '../src/iptables-firewall.js';
import { driftOf, readStoredState, type StoredState } from '../src/kernel-checks.js';
import { NFT_FIREWALL } from '../src/nft-firewall.js';
import { createNetworksAndPublish, createPublishingTopology, publishedPortAnswers } from '../src/published-port.js';
import { RouterHome, startHealthy, stopCleanly, withDaemonLogs } from '../src/router-daemon.js';

test('nft -> iptables -> nft: only the running backend has objects, converged, and foreign ones survive', async () => {
  const topology = await createPublishingTopology();
  const router = topology.router;
  const home = await RouterHome.create();
  const daemons: Daemon[] = [];
  const start = async (firewall: FirewallUnderTest): Promise<Daemon> => {
    const daemon = await startHealthy(router, home, { firewall: firewall.name, resyncInterval: '1h' });
    daemons.push(daemon);
    return daemon;
  };
  const foreignObjects = async (): Promise<string[]> => [await NFT_FIREWALL.foreign(router), await IPTABLES_FIREWALL.foreign(router)];
  /** The kernel with `running` in charge after a switch from `previous`. */
  const checkSwitched = async (running: FirewallUnderTest, previous: FirewallUnderTest, stored: StoredState, foreign: string[]) => {
    const step = `after switching from ${previous.name} to ${running.name}`;
    assert.equal(await previous.dump(router), '', `${previous.name} objects left ${step}`);
    assert.equal(await driftOf(running, router, stored.firewall), '', `${running.name} drift ${step}`);
    assert.deepEqual(await running.copies(router), [], `${running.name} copies ${step}`);
    assert.ok(await publishedPortAnswers(topology), `the published port does not answer ${step}`);
    assert.deepEqual(await foreignObjects(), foreign, `foreign objects ${step}`);
  };
  try {
    await withDaemonLogs(daemons, async () => {
      await NFT_FIREWALL.addForeign(router);
      await IPTABLES_FIREWALL.addForeign(router);
      const foreign = await foreignObjects();
      assert.ok(foreign.every((text) => text !== ''), `the foreign objects were not created: ${JSON.stringify(foreign)}`);

      const first = await start(NFT_FIREWALL);
      await createNetworksAndPublish(first.client);
      await stopCleanly(first);
      const stored = readStoredState(home.stateDir);
      assert.equal(await driftOf(NFT_FIREWALL, router, stored.firewall), '', 'nft drift before any switch');
      assert.ok(await publishedPortAnswers(topology), 'the published port does not answer before any switch');

      await stopCleanly(await start(IPTABLES_FIREWALL));
      await checkSwitched(IPTABLES_FIREWALL, NFT_FIREWALL, stored, foreign);

      await stopCleanly(await start(NFT_FIREWALL));
      await checkSwitched(NFT_FIREWALL, IPTABLES_FIREWALL, stored, foreign);
    });
  } finally {
    await topology.destroy().finally(() => home.remove());
  }
});
