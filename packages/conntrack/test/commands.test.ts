// What the tracker asks of conntrack, checked without root: argv rendering,
// the batch text, parsing of listings and the choice between deleting port
// by port and listing first.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mustParseIPv4Prefix, silentLogger, type ConnectionRemovals, type PortMapping } from '@router-service/core';
import {
  ConntrackTracker,
  DIRECT_DELETE_LIMIT,
  batchText,
  deleteDnatedCommand,
  deleteFlowCommand,
  deleteMappingCommands,
  deleteSubnetCommands,
  deleteUntranslatedCommand,
  dnatedBy,
  execaConntrackRunner,
  explains,
  listCommand,
  listNatCommand,
  parseEntries,
  parseLocalRoutes,
  shadows,
  type ConntrackEntry,
  type ConntrackResult,
  type ConntrackRunner,
} from '../src/index.js';

function mapping(fields: Partial<PortMapping> = {}): PortMapping {
  return { protocol: 'tcp', hostIp: '', hostPort: 8080, hostPortEnd: 8080, containerIp: '172.18.0.2', containerPort: 80, vlan: 100, sources: [], ...fields };
}

/** The router's own addresses in these tests, as the local routing table would list them. */
const LOCAL = ['127.0.0.0/8', '192.168.64.2/32', '192.168.64.3/32'];

/** A tracker on `run` whose router has the LOCAL addresses. */
function trackerOn(run: ConntrackRunner): ConntrackTracker {
  return new ConntrackTracker(run, async () => LOCAL.map(mustParseIPv4Prefix), silentLogger);
}

/** A forget's removals: those given, nothing else. */
function removals(fields: Partial<ConnectionRemovals>): ConnectionRemovals {
  return { portMappings: [], subnets: [], published: [], strays: undefined, ...fields };
}

/** A runner that records every call and answers from a script. */
function scriptedRunner(answer: (args: readonly string[]) => Partial<ConntrackResult> = () => ({})) {
  const calls: Array<{ args: readonly string[]; input: string | undefined }> = [];
  const run = async (args: readonly string[], input?: string): Promise<ConntrackResult> => {
    calls.push({ args, input });
    return { exitCode: 0, stdout: '', stderr: '', ...answer(args) };
  };
  return { calls, run };
}

describe('commands', () => {
  test('a mapping on every address: one delete per host port, reply from the matching container port', () => {
    assert.deepEqual(deleteMappingCommands([mapping({ protocol: 'udp', hostPort: 53, hostPortEnd: 54, containerPort: 5353 })]), [
      ['-D', '-f', 'ipv4', '-p', 'udp', '--orig-port-dst', '53', '--reply-src', '172.18.0.2', '--reply-port-src', '5353', '--dst-nat'],
      ['-D', '-f', 'ipv4', '-p', 'udp', '--orig-port-dst', '54', '--reply-src', '172.18.0.2', '--reply-port-src', '5354', '--dst-nat'],
    ]);
  });

  test('a mapping on one host address matches that original destination only', () => {
    assert.deepEqual(deleteMappingCommands([mapping({ protocol: 'sctp', hostIp: '192.168.64.3' })]), [
      ['-D', '-f', 'ipv4', '-p', 'sctp', '--orig-dst', '192.168.64.3', '--orig-port-dst', '8080', '--reply-src', '172.18.0.2', '--reply-port-src', '80', '--dst-nat'],
    ]);
  });

  test('a subnet: entries from it and entries to it', () => {
    assert.deepEqual(deleteSubnetCommands('172.18.0.0/16'), [
      ['-D', '-f', 'ipv4', '--orig-src', '172.18.0.0/16'],
      ['-D', '-f', 'ipv4', '--orig-dst', '172.18.0.0/16'],
    ]);
  });

  test('the batch is one command per line, and a field with a blank is refused', () => {
    assert.equal(batchText([['-D', '-s', '10.0.0.0/8'], ['-D', '-d', '10.0.0.0/8']]), '-D -s 10.0.0.0/8\n-D -d 10.0.0.0/8\n');
    assert.throws(() => batchText([['-D', '-s', '10.0.0.0/8 -F']]), /holds a blank/);
    assert.throws(() => batchText([['-D', '']]), /empty/);
  });
});

describe('listings', () => {
  const untranslated =
    'udp      17 29 src=192.168.64.1 dst=192.168.64.2 sport=41000 dport=5353 [UNREPLIED] src=192.168.64.2 dst=192.168.64.1 sport=5353 dport=41000 mark=0 use=1\n';
  const listing = [
    'tcp      6 431999 ESTABLISHED src=192.168.64.1 dst=192.168.64.2 sport=40000 dport=8083 src=172.18.0.2 dst=192.168.64.1 sport=83 dport=40000 [ASSURED] mark=0 use=1',
    'udp      17 29 src=192.168.64.1 dst=192.168.64.3 sport=5000 dport=8084 src=172.18.0.2 dst=192.168.64.1 sport=84 dport=5000 mark=0 use=1',
    'icmp     1 29 src=172.18.0.2 dst=8.8.8.8 type=8 code=0 id=7 src=8.8.8.8 dst=192.168.64.2 type=0 code=0 id=7 mark=0 use=1',
    '',
  ].join('\n');

  test('parses the original and reply tuples and skips entries without ports', () => {
    assert.deepEqual(parseEntries(listing), [
      {
        protocol: 'tcp',
        original: { src: '192.168.64.1', dst: '192.168.64.2', sport: 40000, dport: 8083 },
        reply: { src: '172.18.0.2', dst: '192.168.64.1', sport: 83, dport: 40000 },
        replied: true,
      },
      {
        protocol: 'udp',
        original: { src: '192.168.64.1', dst: '192.168.64.3', sport: 5000, dport: 8084 },
        reply: { src: '172.18.0.2', dst: '192.168.64.1', sport: 84, dport: 5000 },
        replied: true,
      },
    ]);
    assert.equal(parseEntries(untranslated)[0]?.replied, false, '[UNREPLIED]');
  });

  test('an entry belongs to a mapping by protocol, port in range, container address and port, and host address', () => {
    const [tcp, udp] = parseEntries(listing) as [ReturnType<typeof parseEntries>[number], ReturnType<typeof parseEntries>[number]];
    const range = mapping({ hostPort: 8080, hostPortEnd: 8089, containerPort: 80 });
    assert.equal(dnatedBy(range, tcp), true);
    assert.equal(dnatedBy({ ...range, protocol: 'udp' }, tcp), false);
    assert.equal(dnatedBy({ ...range, hostPortEnd: 8082 }, tcp), false);
    assert.equal(dnatedBy({ ...range, containerIp: '172.18.0.3' }, tcp), false);
    assert.equal(dnatedBy({ ...range, containerPort: 90 }, tcp), false);
    assert.equal(dnatedBy({ ...range, protocol: 'udp', hostIp: '192.168.64.3' }, udp), true);
    assert.equal(dnatedBy({ ...range, protocol: 'udp', hostIp: '192.168.64.2' }, udp), false);
  });

  test('an entry shadows a published mapping when it is unanswered, untranslated, allowed and to one of its ports on the router', () => {
    const [entry] = parseEntries(untranslated) as [ConntrackEntry];
    const dns = mapping({ protocol: 'udp', hostPort: 5353, hostPortEnd: 5353, containerPort: 53 });
    const local = (address: string) => address === '192.168.64.2';
    assert.equal(shadows(entry, dns, local), true);
    assert.equal(shadows(entry, dns, () => false), false, 'forwarded past the router: not addressed to it');
    assert.equal(shadows(entry, { ...dns, hostIp: '192.168.64.2' }, () => false), true, 'a host address is matched as it is');
    assert.equal(shadows(entry, { ...dns, hostIp: '192.168.64.3' }, local), false, 'another host address');
    assert.equal(shadows(entry, { ...dns, hostPort: 5350, hostPortEnd: 5352 }, local), false, 'another port');
    assert.equal(shadows(entry, { ...dns, protocol: 'tcp' }, local), false, 'another protocol');
    assert.equal(shadows(entry, { ...dns, sources: ['10.0.0.0/8'] }, local), false, 'a source the mapping does not let in');
    assert.equal(shadows(entry, { ...dns, sources: ['10.0.0.0/8', '192.168.64.0/24'] }, local), true);
    assert.equal(shadows({ ...entry, replied: true }, dns, local), false, 'answered: the router was serving it');
    const dnated = { ...entry, reply: { ...entry.reply, src: '172.18.0.2', sport: 53 } };
    assert.equal(shadows(dnated, dns, local), false, 'DNATed: a mapping already has it');
    const masqueraded = { ...entry, reply: { ...entry.reply, dst: '192.168.64.2', dport: 61000 } };
    assert.equal(shadows(masqueraded, dns, local), false, 'SNATed on the reply side');
  });

  test('a mapping explains a DNATed entry only from a source it lets in', () => {
    const [, udp] = parseEntries(listing) as [ConntrackEntry, ConntrackEntry];
    const m = mapping({ protocol: 'udp', hostPort: 8084, hostPortEnd: 8084, containerPort: 84 });
    assert.equal(explains(m, udp), true);
    assert.equal(explains({ ...m, sources: ['192.168.64.0/24'] }, udp), true);
    assert.equal(explains({ ...m, sources: ['10.0.0.0/8'] }, udp), false);
  });

  test('listings of one port, a protocol or every NATed flow; deletes of one flow, of a destination untranslated, of a destination DNATed', () => {
    assert.deepEqual(listCommand('udp', 5353), ['-L', '-f', 'ipv4', '-p', 'udp', '--orig-port-dst', '5353']);
    assert.deepEqual(listCommand('udp', undefined), ['-L', '-f', 'ipv4', '-p', 'udp']);
    assert.deepEqual(listNatCommand(undefined), ['-L', '-f', 'ipv4', '--dst-nat']);
    const [entry] = parseEntries(untranslated) as [ConntrackEntry];
    assert.deepEqual(deleteFlowCommand('udp', entry), [
      '-D', '-f', 'ipv4', '-p', 'udp', '--orig-dst', '192.168.64.2', '--orig-port-dst', '5353', '--reply-src', '192.168.64.2', '--reply-port-src', '5353',
      '--orig-src', '192.168.64.1', '--orig-port-src', '41000',
    ]);
    assert.deepEqual(deleteUntranslatedCommand('udp', entry.original), [
      '-D', '-f', 'ipv4', '-p', 'udp', '--orig-dst', '192.168.64.2', '--orig-port-dst', '5353', '--reply-src', '192.168.64.2', '--reply-port-src', '5353',
    ]);
    const [tcp] = parseEntries(listing) as [ConntrackEntry];
    assert.deepEqual(deleteDnatedCommand('tcp', tcp), [
      '-D', '-f', 'ipv4', '-p', 'tcp', '--orig-dst', '192.168.64.2', '--orig-port-dst', '8083', '--reply-src', '172.18.0.2', '--reply-port-src', '83', '--dst-nat',
    ]);
  });
});

describe('parseLocalRoutes', () => {
  test('takes the destinations of the local routes, a bare address as a /32', () => {
    const json = JSON.stringify([
      { type: 'local', dst: '127.0.0.0/8', dev: 'lo', prefsrc: '127.0.0.1' },
      { type: 'local', dst: '192.168.64.2', dev: 'eth0', prefsrc: '192.168.64.2' },
      { type: 'local', dst: 'default', dev: 'lo' },
      { type: 'local', dev: 'weird' },
    ]);
    assert.deepEqual(
      parseLocalRoutes(json),
      ['127.0.0.0/8', '192.168.64.2/32', '0.0.0.0/0'].map(mustParseIPv4Prefix),
      'a local default route (AnyIP) makes every address the router\'s',
    );
  });
});

describe('ConntrackTracker', () => {
  test('few ports: one batch of deletes, nothing listed', async () => {
    const { calls, run } = scriptedRunner();
    await trackerOn(run).forget(removals({ portMappings: [mapping()], subnets: ['172.19.0.0/16'] }));
    assert.deepEqual(calls, [
      {
        args: ['-R', '-'],
        input:
          '-D -f ipv4 --orig-src 172.19.0.0/16\n' +
          '-D -f ipv4 --orig-dst 172.19.0.0/16\n' +
          '-D -f ipv4 -p tcp --orig-port-dst 8080 --reply-src 172.18.0.2 --reply-port-src 80 --dst-nat\n',
      },
    ]);
  });

  test('many ports: one listing per protocol, then deletes for the ports that have entries only', async () => {
    const tcpEntry = (dport: number, container: string, cport: number) =>
      `tcp 6 100 ESTABLISHED src=192.168.64.1 dst=192.168.64.2 sport=40000 dport=${dport} src=${container} dst=192.168.64.1 sport=${cport} dport=40000 [ASSURED] mark=0 use=1\n`;
    const { calls, run } = scriptedRunner((args) =>
      args[0] === '-L' && args.includes('tcp')
        ? {
            stdout:
              tcpEntry(9005, '172.18.0.2', 9105) +
              tcpEntry(9005, '172.18.0.2', 9105).replace('sport=40000', 'sport=40001').replace('dport=40000', 'dport=40001') +
              tcpEntry(9500, '172.18.0.2', 80) +
              tcpEntry(9006, '172.18.0.9', 9106),
            stderr: 'conntrack v1.4.7 (conntrack-tools): 4 flow entries have been shown.\n',
          }
        : {},
    );
    const range = mapping({ hostPort: 9000, hostPortEnd: 9000 + DIRECT_DELETE_LIMIT, containerPort: 9100 });
    const dns = mapping({ protocol: 'udp', hostPort: 53, hostPortEnd: 53, containerPort: 53 });
    await trackerOn(run).forget(removals({ portMappings: [range, dns] }));
    assert.deepEqual(calls, [
      { args: ['-L', '-f', 'ipv4', '-p', 'tcp', '--dst-nat'], input: undefined },
      { args: ['-L', '-f', 'ipv4', '-p', 'udp', '--dst-nat'], input: undefined },
      { args: ['-R', '-'], input: '-D -f ipv4 -p tcp --orig-port-dst 9005 --reply-src 172.18.0.2 --reply-port-src 9105 --dst-nat\n' },
    ]);
  });

  test('published ports: one listing of the one port, or of the protocol; one delete per destination, per source, or per flow where some must stay', async () => {
    const udpEntry = (sport: number, dst: string, dport: number, unreplied: boolean, src = '192.168.64.1') =>
      `udp 17 29 src=${src} dst=${dst} sport=${sport} dport=${dport} ${unreplied ? '[UNREPLIED] ' : ''}` +
      `src=${dst} dst=${src} sport=${dport} dport=${sport} mark=0 use=1\n`;
    const listed =
      udpEntry(41000, '192.168.64.2', 5353, true) +
      udpEntry(41001, '192.168.64.2', 5353, false) + // answered by the router: stays, so this source's flows to 5353 go one by one...
      udpEntry(42000, '192.168.64.2', 5353, true, '192.168.64.5') +
      udpEntry(42001, '192.168.64.2', 5353, true, '192.168.64.5') + // ...and another source's together
      udpEntry(41002, '192.168.64.2', 6001, true) +
      udpEntry(41003, '192.168.64.2', 6001, true) + // two on 6001, all going: one delete
      udpEntry(41004, '192.168.64.3', 6001, true) + // another local address: its own delete
      udpEntry(41005, '8.8.8.8', 6002, true) + // forwarded, not to the router: stays
      udpEntry(41006, '192.168.64.2', 7000, true) + // no mapping
      udpEntry(41007, '192.168.64.2', 6003, true).replace(/dst=192.168.64.1 sport=6003/, 'dst=10.0.0.99 sport=6003') + // SNATed on the reply side: stays...
      udpEntry(41008, '192.168.64.2', 6003, true) + // ...so 6003's shadowing flow from the same source goes alone
      udpEntry(41009, '192.168.64.2', 6100, true) +
      udpEntry(41010, '192.168.64.2', 6100, true) + // on a port that lets in some sources only: their flows go by source...
      udpEntry(43000, '192.168.64.2', 6100, true, '10.9.9.9'); // ...as the others' stay
    const { calls, run } = scriptedRunner((args) => (args[0] === '-L' ? { stdout: listed } : {}));
    const tracker = trackerOn(run);
    const dns = mapping({ protocol: 'udp', hostPort: 5353, hostPortEnd: 5353, containerPort: 53 });
    await tracker.forget(removals({ published: [dns] }));
    const range = mapping({ protocol: 'udp', hostPort: 6000, hostPortEnd: 6009, containerPort: 7000 });
    const lan = mapping({ protocol: 'udp', hostPort: 6100, hostPortEnd: 6100, containerPort: 7100, sources: ['192.168.64.0/24'] });
    await tracker.forget(removals({ published: [dns, range, lan] }));
    const destinationLine = (dst: string, dport: number, rest = '') =>
      `-D -f ipv4 -p udp --orig-dst ${dst} --orig-port-dst ${dport} --reply-src ${dst} --reply-port-src ${dport}${rest}\n`;
    const flowLine = (sport: number, dport: number) => destinationLine('192.168.64.2', dport, ` --orig-src 192.168.64.1 --orig-port-src ${sport}`);
    const sourceLine = (dport: number, src: string) => destinationLine('192.168.64.2', dport, ` --orig-src ${src}`);
    assert.deepEqual(calls, [
      { args: ['-L', '-f', 'ipv4', '-p', 'udp', '--orig-port-dst', '5353'], input: undefined },
      // The scripted listing ignores the port filter: only the port's shadowing flows are deleted all the same.
      { args: ['-R', '-'], input: flowLine(41000, 5353) + sourceLine(5353, '192.168.64.5') },
      { args: ['-L', '-f', 'ipv4', '-p', 'udp'], input: undefined },
      {
        args: ['-R', '-'],
        input:
          flowLine(41000, 5353) +
          sourceLine(5353, '192.168.64.5') +
          destinationLine('192.168.64.2', 6001) +
          destinationLine('192.168.64.3', 6001) +
          flowLine(41008, 6003) +
          sourceLine(6100, '192.168.64.1'),
      },
    ]);
  });

  test('strays: one listing of every NATed flow, then deletes for the DNATed ones into the subnets that no mapping explains', async () => {
    const dnated = (protocol: string, sport: number, dport: number, container: string, cport: number) =>
      `${protocol} 6 100 ESTABLISHED src=192.168.64.1 dst=192.168.64.2 sport=${sport} dport=${dport} ` +
      `src=${container} dst=192.168.64.1 sport=${cport} dport=${sport} [ASSURED] mark=0 use=1\n`;
    const listed =
      dnated('tcp', 40000, 8080, '172.18.0.2', 80) + // explained by web
      dnated('tcp', 40001, 8081, '172.18.0.2', 80) + // a stray: no mapping on 8081
      dnated('tcp', 40002, 8081, '172.18.0.2', 80) + // the same destination and target: one delete for both
      dnated('udp', 40003, 8080, '172.18.0.2', 80) + // a stray: web is TCP
      dnated('tcp', 40004, 8082, '172.18.0.4', 80) + // a stray: onlyFromLan does not let 192.168.64.1 in...
      dnated('tcp', 40005, 8082, '172.18.0.4', 80).replace('src=192.168.64.1 dst=192.168.64.2', 'src=10.1.0.9 dst=192.168.64.2') + // ...but 10.1.0.9
      dnated('tcp', 40006, 8080, '10.20.0.2', 80) + // DNATed outside our subnets: not ours
      dnated('dccp', 40007, 8083, '172.18.0.3', 80) + // no mapping has this protocol: not ours
      dnated('tcp', 40008, 8084, '172.18.0.5', 80) + // a stray, but onlyFromLan2 DNATs the same way: goes with its source only...
      dnated('tcp', 40010, 8084, '172.18.0.5', 80) + // ...one delete for both
      dnated('tcp', 40009, 8085, '172.18.0.6', 80).replace('dst=192.168.64.2', 'dst=203.0.113.7'); // not addressed to the router: not ours
    const { calls, run } = scriptedRunner((args) => (args[0] === '-L' ? { stdout: listed } : {}));
    const web = mapping();
    const onlyFromLan = mapping({ hostPort: 8082, hostPortEnd: 8082, containerIp: '172.18.0.4', sources: ['10.0.0.0/8'] });
    const onlyFromLan2 = { ...onlyFromLan, hostPort: 8084, hostPortEnd: 8084, containerIp: '172.18.0.5' };
    await trackerOn(run).forget(removals({ strays: { subnets: ['172.18.0.0/16'], portMappings: [web, onlyFromLan, onlyFromLan2] } }));
    assert.deepEqual(calls, [
      { args: ['-L', '-f', 'ipv4', '--dst-nat'], input: undefined },
      {
        args: ['-R', '-'],
        input:
          '-D -f ipv4 -p tcp --orig-dst 192.168.64.2 --orig-port-dst 8081 --reply-src 172.18.0.2 --reply-port-src 80 --dst-nat\n' +
          '-D -f ipv4 -p tcp --orig-dst 192.168.64.2 --orig-port-dst 8082 --reply-src 172.18.0.4 --reply-port-src 80 --dst-nat --orig-src 192.168.64.1\n' +
          '-D -f ipv4 -p tcp --orig-dst 192.168.64.2 --orig-port-dst 8084 --reply-src 172.18.0.5 --reply-port-src 80 --dst-nat --orig-src 192.168.64.1\n' +
          '-D -f ipv4 -p udp --orig-dst 192.168.64.2 --orig-port-dst 8080 --reply-src 172.18.0.2 --reply-port-src 80 --dst-nat\n',
      },
    ]);
  });

  test('nothing to forget runs nothing', async () => {
    const { calls, run } = scriptedRunner();
    await trackerOn(run).forget(removals({}));
    await trackerOn(run).forget(removals({ portMappings: [mapping({ hostPort: 1, hostPortEnd: 100 })] }));
    await trackerOn(run).forget(removals({ published: [mapping({ protocol: 'udp' })] }));
    await trackerOn(run).forget(removals({ strays: { subnets: ['172.18.0.0/16'], portMappings: [] } }));
    await trackerOn(run).forget(removals({ strays: { subnets: [], portMappings: [] } }));
    assert.deepEqual(calls.map((c) => c.args[0]), ['-L', '-L', '-L'], 'a listing without entries deletes nothing; no network, no listing');
  });

  test('"0 flow entries have been deleted" with exit status 1 is success; other failures name what failed', async () => {
    const nothing = scriptedRunner(() => ({ exitCode: 1, stderr: 'conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n' }));
    await trackerOn(nothing.run).forget(removals({ portMappings: [mapping()] }));
    const denied = scriptedRunner(() => ({ exitCode: 1, stderr: 'conntrack v1.4.7 (conntrack-tools): Operation failed: Operation not permitted\n' }));
    await assert.rejects(trackerOn(denied.run).forget(removals({ portMappings: [mapping()] })), {
      message: 'conntrack: deleting flows: exit status 1: conntrack v1.4.7 (conntrack-tools): Operation failed: Operation not permitted',
    });
    await assert.rejects(
      trackerOn(denied.run).forget(removals({ portMappings: [mapping({ hostPortEnd: 9000 })] })),
      { message: /^conntrack: listing tcp flows: exit status 1: .*Operation not permitted$/ },
    );
  });
});

describe('execaConntrackRunner', () => {
  test('runs the binary with the argv and the input on stdin', async () => {
    const echo = execaConntrackRunner({ conntrackPath: '/bin/echo', ipPath: '/usr/sbin/ip' });
    assert.deepEqual(await echo(['-D', '-s', '10.0.0.0/8']), { exitCode: 0, stdout: '-D -s 10.0.0.0/8', stderr: '' });
    const cat = execaConntrackRunner({ conntrackPath: '/bin/cat', ipPath: '/usr/sbin/ip' });
    assert.equal((await cat([], '-D -s 10.0.0.0/8\n')).stdout, '-D -s 10.0.0.0/8');
  });

  test('in a namespace, through ip netns exec', async () => {
    const echo = execaConntrackRunner({ conntrackPath: '/usr/sbin/conntrack', netns: 'router', ipPath: '/bin/echo' });
    assert.equal((await echo(['-R', '-'])).stdout, 'netns exec router /usr/sbin/conntrack -R -');
  });

  test('a binary that cannot run is unavailable, naming it', async () => {
    const missing = execaConntrackRunner({ conntrackPath: '/nonexistent/conntrack', ipPath: '/usr/sbin/ip' });
    await assert.rejects(missing(['-L']), (err: Error & { kind?: string }) => {
      assert.equal(err.kind, 'unavailable');
      assert.match(err.message, /^cannot run \/nonexistent\/conntrack -L: /);
      return true;
    });
  });
});
