import assert from 'node:assert/strict';
import { after, afterEach, describe, test } from 'node:test';
import type { FirewallBackend, FirewallState } from '../src/backends.js';
import type { PortMapping } from '../src/model.js';
import type { Store } from '../src/store.js';
import type { AddPortMappingRequest } from '../src/router.js';
import { assertRouterError, portMapping } from './helpers.js';
import { create, newHarness, removeStateDirs, type Harness } from './router-harness.js';

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop();
});
after(removeStateDirs);

/**
 * A firewall that counts the transactions it is asked for, takes a turn of
 * the event loop for each as a kernel round trip does, and refuses the
 * states for which `refuse` gives a reason.
 */
class CountingFirewall implements FirewallBackend {
  readonly name = 'counting';
  applies = 0;
  /** The port mappings of the last state it accepted. */
  applied: readonly PortMapping[] = [];
  refuse: (state: FirewallState) => string | undefined = () => undefined;

  async sync(state: FirewallState): Promise<void> {
    await this.#apply(state);
  }

  async update(_previous: FirewallState, next: FirewallState): Promise<void> {
    await this.#apply(next);
  }

  async drift(): Promise<string> {
    return '';
  }

  async teardown(): Promise<void> {
    this.applied = [];
  }

  async #apply(state: FirewallState): Promise<void> {
    this.applies++;
    await new Promise((resolve) => setImmediate(resolve));
    const reason = this.refuse(state);
    if (reason !== undefined) throw new Error(`Could not process rule: ${reason}`);
    this.applied = structuredClone(state.portMappings);
  }
}

/** A harness with VLAN 100 (172.18.0.0/16) and VLAN 200 (172.19.0.0/16). */
async function withNetworks(firewall?: FirewallBackend): Promise<Harness> {
  const h = await newHarness(firewall === undefined ? {} : { firewall });
  harnesses.push(h);
  await h.router.createNetwork(create(100, '172.18.0.0/16'));
  await h.router.createNetwork(create(200, '172.19.0.0/16'));
  return h;
}

function portRequest(fields: Partial<AddPortMappingRequest>): AddPortMappingRequest {
  return { containerIp: '172.18.0.2', containerPort: 80, hostPort: 8080, protocol: 'tcp', vlan: 100, hostIp: '', ...fields };
}

async function mappings(h: Harness): Promise<PortMapping[]> {
  return (await h.router.getState(0)).portMappings;
}

describe('Router port ranges, sources and sctp', () => {
  test('add, repeat, refuse overlaps and remove by the first port', async () => {
    const h = await withNetworks();
    const range = portRequest({ hostPort: 8000, hostPortEnd: 8010, containerPort: 9000 });
    for (let i = 0; i < 2; i++) await h.router.addPortMapping(range);
    await h.router.addPortMapping(portRequest({ hostPort: 8011, containerIp: '172.18.0.3' }));
    await h.router.addPortMapping(portRequest({ hostPort: 8005, protocol: 'SCTP', containerIp: '172.18.0.4' }));
    await h.router.addPortMapping(
      portRequest({ hostPort: 9000, containerIp: '172.19.0.2', vlan: 200, sources: ['192.0.2.9', '192.0.2.0/24', '10.1.2.3'] }),
    );
    const want: PortMapping[] = [
      portMapping('sctp', '', 8005, 100, '172.18.0.4'),
      portMapping('tcp', '', 8000, 100, '172.18.0.2', { hostPortEnd: 8010, containerPort: 9000 }),
      portMapping('tcp', '', 8011, 100, '172.18.0.3'),
      portMapping('tcp', '', 9000, 200, '172.19.0.2', { sources: ['10.1.2.3/32', '192.0.2.0/24'] }),
    ];
    assert.deepEqual(await mappings(h), want);
    assert.deepEqual(h.store.load().portMappings, want);

    const rangeTaken = 'host ports *:8000-8010/tcp are already published to 172.18.0.2:9000-9010 (VLAN 100): remove that mapping first';
    const refusals: Array<{ name: string; req: AddPortMappingRequest; message: string }> = [
      { name: 'a port inside the range', req: portRequest({ hostPort: 8005, containerIp: '172.18.0.9' }), message: rangeTaken },
      { name: 'a range over its start', req: portRequest({ hostPort: 7990, hostPortEnd: 8000 }), message: rangeTaken },
      { name: 'the same start, a shorter range', req: { ...range, hostPortEnd: 8009 }, message: rangeTaken },
      { name: 'the same range to another port', req: { ...range, containerPort: 9001 }, message: rangeTaken },
      { name: 'the same range for some sources', req: { ...range, sources: ['10.0.0.0/8'] }, message: rangeTaken },
      { name: 'a specific address inside the range', req: portRequest({ hostPort: 8001, hostIp: '127.0.0.1' }), message: rangeTaken },
      {
        name: 'the same port for every source',
        req: portRequest({ hostPort: 9000, containerIp: '172.19.0.2', vlan: 200 }),
        message: 'host port *:9000/tcp is already published to 172.19.0.2:80 (VLAN 200) from 10.1.2.3/32, 192.0.2.0/24',
      },
    ];
    for (const r of refusals) {
      await assertRouterError(() => h.router.addPortMapping(r.req), 'already-exists', r.message);
      assert.deepEqual(await mappings(h), want, `${r.name} changed the mappings`);
    }
    // The same sources in another spelling are the same mapping.
    await h.router.addPortMapping(portRequest({ hostPort: 9000, containerIp: '172.19.0.2', vlan: 200, sources: ['10.1.2.3/32', '192.0.2.0/24'] }));

    const invalids: Array<[AddPortMappingRequest, string]> = [
      [portRequest({ hostPort: 8000, hostPortEnd: 7000 }), 'below host_port'],
      [portRequest({ hostPort: 65000, hostPortEnd: 65010, containerPort: 65530 }), 'past 65535'],
      [portRequest({ sources: ['192.0.2.1/24'] }), 'did you mean 192.0.2.0/24?'],
      // Invalid on its own, whatever the state: the absent VLAN is not reported.
      [portRequest({ vlan: 300, sources: ['nowhere'] }), 'allowed_sources entry "nowhere"'],
    ];
    for (const [req, message] of invalids) {
      await assertRouterError(() => h.router.addPortMapping(req), 'invalid', message);
      assert.deepEqual(await mappings(h), want);
    }

    await assertRouterError(
      () => h.router.removePortMapping({ protocol: 'tcp', hostIp: '', hostPort: 8005 }),
      'precondition',
      'host ports *:8000-8010/tcp are published as one range: remove it by its first port 8000',
    );
    await assertRouterError(
      () => h.router.removePortMapping({ protocol: 'tcp', hostIp: '', hostPort: 8000, hostPortEnd: 8005 }),
      'precondition',
      'not as 8000-8005',
    );
    assert.deepEqual(await mappings(h), want);
    for (let i = 0; i < 2; i++) await h.router.removePortMapping({ protocol: 'tcp', hostIp: '', hostPort: 8000, hostPortEnd: 8010 });
    await h.router.removePortMapping({ protocol: 'sctp', hostIp: '', hostPort: 8005 });
    assert.deepEqual(await mappings(h), [want[2], want[3]]);
    // The freed ports can be published again, differently.
    await h.router.addPortMapping(portRequest({ hostPort: 8005, containerIp: '172.18.0.9' }));
  });

  test('a 10,000-port range in one call leaves single ports beside it to be added', async () => {
    const h = await withNetworks();
    await h.router.addPortMapping(portRequest({ hostPort: 10000, hostPortEnd: 19999, containerPort: 20000 }));
    await h.router.addPortMapping(portRequest({ hostPort: 20000 }));
    await h.router.addPortMapping(portRequest({ hostPort: 9999 }));
    await assertRouterError(() => h.router.addPortMapping(portRequest({ hostPort: 15000 })), 'already-exists', 'host ports *:10000-19999/tcp');
    assert.deepEqual((await mappings(h)).map((m) => [m.hostPort, m.hostPortEnd]), [[9999, 9999], [10000, 19999], [20000, 20000]]);
    await h.router.deleteNetwork(100);
    assert.deepEqual(await mappings(h), []);
  });
});

describe('Router port calls arriving together', () => {
  const hostPorts = Array.from({ length: 32 }, (_, i) => 8080 + i);
  const request = (port: number) => portRequest({ hostPort: port, containerIp: `172.18.1.${port - 8000}` });

  test('32 concurrent adds are committed in far fewer kernel transactions', async () => {
    const firewall = new CountingFirewall();
    const h = await withNetworks(firewall);
    const before = firewall.applies;
    // The first call starts a turn alone; the others arrive while it is applied.
    const first = h.router.addPortMapping(request(8080));
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all([first, ...hostPorts.slice(1).map((port) => h.router.addPortMapping(request(port)))]);
    assert.ok(firewall.applies - before <= 3, `${firewall.applies - before} kernel transactions for 32 adds`);
    assert.deepEqual(h.store.load().portMappings.map((m) => m.hostPort), hostPorts);
    assert.deepEqual(firewall.applied.map((m) => m.hostPort), hostPorts);
    assert.equal(h.log.lines.filter((l) => l.message === 'port mapping added').length, 32);
  });

  test('calls arriving in one turn of the event loop, each from its own callback, are one transaction', async () => {
    const firewall = new CountingFirewall();
    const h = await withNetworks(firewall);
    const before = firewall.applies;
    // As a server calls it: each request in its own callback, all read in one turn.
    const arriving = (port: number) => new Promise<void>((resolve, reject) => setImmediate(() => h.router.addPortMapping(request(port)).then(resolve, reject)));
    await Promise.all(hostPorts.map(arriving));
    assert.equal(firewall.applies - before, 1, `${firewall.applies - before} kernel transactions for 32 adds`);
    assert.deepEqual(firewall.applied.map((m) => m.hostPort), hostPorts);
  });

  test('each caller gets its own outcome: a conflict fails only its caller', async () => {
    const firewall = new CountingFirewall();
    const h = await withNetworks(firewall);
    const before = firewall.applies;
    const outcomes = await Promise.allSettled([
      h.router.addPortMapping(request(8080)),
      h.router.addPortMapping(portRequest({ hostPort: 8080, containerIp: '172.18.9.9' })),
      h.router.addPortMapping(request(8081)),
      h.router.addPortMapping(request(8081)),
      h.router.removePortMapping({ protocol: 'tcp', hostIp: '', hostPort: 8081 }),
      h.router.addPortMapping(portRequest({ hostPort: 8090, hostPortEnd: 8099 })),
      h.router.removePortMapping({ protocol: 'tcp', hostIp: '', hostPort: 8095 }),
      h.router.addPortMapping(request(8082)),
    ]);
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    await assertRouterError(() => Promise.reject((outcomes[1] as PromiseRejectedResult).reason), 'already-exists', '172.18.1.80:80');
    await assertRouterError(() => Promise.reject((outcomes[6] as PromiseRejectedResult).reason), 'precondition', 'remove it by its first port 8090');
    assert.deepEqual(h.store.load().portMappings.map((m) => m.hostPort), [8080, 8082, 8090]);
    assert.deepEqual(firewall.applied.map((m) => m.hostPort), [8080, 8082, 8090]);
    assert.equal(firewall.applies - before, 1, 'one transaction for every port call');
  });

  test('a mapping the kernel refuses fails only its caller, named; the others are stored and applied', async () => {
    const firewall = new CountingFirewall();
    const h = await withNetworks(firewall);
    firewall.refuse = (state) => (state.portMappings.some((m) => m.hostPort === 8085) ? 'port 8085 refused' : undefined);
    const outcomes = await Promise.allSettled(hostPorts.map((port) => h.router.addPortMapping(request(port))));
    const failed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [hostPorts[i]] : []));
    assert.deepEqual(failed, [8085]);
    await assertRouterError(
      () => Promise.reject((outcomes[5] as PromiseRejectedResult).reason),
      'internal',
      'publishing tcp *:8085 -> 172.18.1.85:80 (VLAN 100): applying the counting firewall: Could not process rule: port 8085 refused',
    );
    const rest = hostPorts.filter((port) => port !== 8085);
    assert.deepEqual(h.store.load().portMappings.map((m) => m.hostPort), rest);
    assert.deepEqual((await mappings(h)).map((m) => m.hostPort), rest);
    assert.deepEqual(firewall.applied.map((m) => m.hostPort), rest);
  });

  test('a refused removal is named too, and the mapping stays', async () => {
    const firewall = new CountingFirewall();
    const h = await withNetworks(firewall);
    await h.router.addPortMapping(portRequest({ hostPort: 8000, hostPortEnd: 8001 }));
    firewall.refuse = (state) => (state.portMappings.length === 0 ? 'table busy' : undefined);
    await assertRouterError(
      () => h.router.removePortMapping({ protocol: 'tcp', hostIp: '', hostPort: 8000 }),
      'internal',
      'unpublishing tcp *:8000-8001 -> 172.18.0.2:80-81 (VLAN 100): applying the counting firewall',
    );
    assert.deepEqual(h.store.load().portMappings.map((m) => m.hostPort), [8000]);
    assert.deepEqual(firewall.applied.map((m) => m.hostPort), [8000]);
  });

  test('port calls never overtake a call queued before them', async () => {
    const firewall = new CountingFirewall();
    const h = await withNetworks(firewall);
    const first = h.router.addPortMapping(request(8080));
    const network = h.router.createNetwork(create(300, '10.30.0.0/16'));
    const onNewNetwork = h.router.addPortMapping(portRequest({ hostPort: 8081, containerIp: '10.30.0.2', vlan: 300 }));
    const state = h.router.getState(0);
    const last = h.router.addPortMapping(request(8082));
    await Promise.all([first, network, onNewNetwork, last]);
    assert.deepEqual((await state).portMappings.map((m) => m.hostPort), [8080, 8081]);
    assert.deepEqual((await mappings(h)).map((m) => m.hostPort), [8080, 8081, 8082]);
  });
});

describe('Router port changes: store and kernel together', () => {
  /** Makes the store's next `failures` updates after the next `skip` throw, as a full disk does. */
  function failStoreUpdates(store: Store, failures: number, skip = 0): void {
    const update = store.update.bind(store);
    let skipped = 0;
    let left = failures;
    store.update = (change) => {
      if (skipped < skip) skipped++;
      else if (left > 0) {
        left--;
        throw new Error('database or disk is full');
      }
      update(change);
    };
  }

  test('the store commits while the kernel transaction is in flight, and the call waits for both', async () => {
    let store: Store | undefined;
    const seen: string[] = [];
    const stored = (): string => `stored ${store?.load().portMappings.length ?? 0}`;
    const firewall = new CountingFirewall();
    const h = await withNetworks(firewall);
    store = h.store;
    const sync = firewall.sync.bind(firewall);
    const slowly = async (next: FirewallState): Promise<void> => {
      seen.push(`kernel begins, ${stored()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen.push(`kernel ends, ${stored()}`);
      await sync(next);
    };
    firewall.sync = slowly;
    firewall.update = (_previous, next) => slowly(next);
    await h.router.addPortMapping(portRequest({}));
    seen.push('call returns');
    assert.deepEqual(seen, ['kernel begins, stored 0', 'kernel ends, stored 1', 'call returns']);
  });

  test('a store that fails leaves the kernel, memory and store without the mapping, and names it', async () => {
    const firewall = new CountingFirewall();
    const h = await withNetworks(firewall);
    await h.router.addPortMapping(portRequest({ hostPort: 8000 }));
    failStoreUpdates(h.store, 1);
    const before = firewall.applies;
    await assertRouterError(
      () => h.router.addPortMapping(portRequest({ hostPort: 8080 })),
      'internal',
      'publishing tcp *:8080 -> 172.18.0.2:80 (VLAN 100): database or disk is full',
    );
    assert.equal(firewall.applies - before, 2, 'the change, then its undoing');
    assert.deepEqual(firewall.applied.map((m) => m.hostPort), [8000]);
    assert.deepEqual((await mappings(h)).map((m) => m.hostPort), [8000]);
    assert.deepEqual(h.store.load().portMappings.map((m) => m.hostPort), [8000]);
    await h.router.addPortMapping(portRequest({ hostPort: 8080 }));
    assert.deepEqual(firewall.applied.map((m) => m.hostPort), [8000, 8080]);
  });

  test('a removal whose store commit fails never reaches the kernel: its connections stay', async () => {
    const firewall = new CountingFirewall();
    const h = await withNetworks(firewall);
    await h.router.addPortMapping(portRequest({ hostPort: 8080 }));
    failStoreUpdates(h.store, 1);
    const before = firewall.applies;
    await assertRouterError(
      () => h.router.removePortMapping({ protocol: 'tcp', hostIp: '', hostPort: 8080 }),
      'internal',
      'unpublishing tcp *:8080 -> 172.18.0.2:80 (VLAN 100): database or disk is full',
    );
    assert.equal(firewall.applies - before, 0, 'no kernel transaction');
    assert.deepEqual(firewall.applied.map((m) => m.hostPort), [8080]);
    assert.deepEqual((await mappings(h)).map((m) => m.hostPort), [8080]);
    assert.deepEqual(h.store.load().portMappings.map((m) => m.hostPort), [8080]);
  });

  test('a refused removal whose undoing cannot be stored leaves memory as the store holds it', async () => {
    const firewall = new CountingFirewall();
    const h = await withNetworks(firewall);
    await h.router.addPortMapping(portRequest({ hostPort: 8080 }));
    firewall.refuse = () => 'Device or resource busy';
    // The removal's commit goes through; the commit undoing it fails.
    failStoreUpdates(h.store, 1, 1);
    await assertRouterError(() => h.router.removePortMapping({ protocol: 'tcp', hostIp: '', hostPort: 8080 }), 'internal', 'Device or resource busy');
    assert.deepEqual(h.store.load().portMappings, []);
    assert.deepEqual(await mappings(h), [], 'memory and store disagree');
    firewall.refuse = () => undefined;
    await h.router.resync();
    assert.deepEqual(firewall.applied, [], 'the resync applies what the store holds');
  });

  test('refused removals made together whose undoing cannot be stored fail, each named, rather than pass as done', async () => {
    const firewall = new CountingFirewall();
    const h = await withNetworks(firewall);
    await Promise.all([8080, 8081].map((port) => h.router.addPortMapping(portRequest({ hostPort: port }))));
    firewall.refuse = () => 'Device or resource busy';
    failStoreUpdates(h.store, 1, 1);
    const outcomes = await Promise.allSettled([8080, 8081, 9999].map((port) => h.router.removePortMapping({ protocol: 'tcp', hostIp: '', hostPort: port })));
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).message : 'ok')),
      [
        'unpublishing tcp *:8080 -> 172.18.0.2:80 (VLAN 100): applying the counting firewall: Could not process rule: Device or resource busy',
        'unpublishing tcp *:8081 -> 172.18.0.2:80 (VLAN 100): applying the counting firewall: Could not process rule: Device or resource busy',
        'ok',
      ],
    );
    assert.deepEqual(await mappings(h), h.store.load().portMappings);
  });

  test('a batch whose store commit fails is committed one call at a time', async () => {
    const firewall = new CountingFirewall();
    const h = await withNetworks(firewall);
    failStoreUpdates(h.store, 1);
    const hostPorts = [8080, 8081, 8082];
    await Promise.all(hostPorts.map((port) => h.router.addPortMapping(portRequest({ hostPort: port }))));
    assert.deepEqual(h.store.load().portMappings.map((m) => m.hostPort), hostPorts);
    assert.deepEqual(firewall.applied.map((m) => m.hostPort), hostPorts);
  });
});
