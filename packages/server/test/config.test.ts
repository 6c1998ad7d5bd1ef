import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseEndpoint } from '@router-service/transport';
import { ConfigError, DEFAULT_CONNTRACK, DEFAULT_DNSMASQ, DEFAULT_STATE_DIR, describeConfig, parseConfig, type DaemonConfig } from '../src/config.js';

const defaults: DaemonConfig = {
  listen: [parseEndpoint('vsock://:50052')],
  vsockPort: 50052,
  vsockAllowCids: [],
  allowRemoteTcp: false,
  parent: '',
  stateDir: DEFAULT_STATE_DIR,
  resyncIntervalMs: 30_000,
  logFormat: 'text',
  logLevel: 'info',
  firewall: 'nft',
  dns: { backend: 'dnsmasq', upstreams: null, dnsmasqPath: DEFAULT_DNSMASQ },
  conntrack: DEFAULT_CONNTRACK,
};

const dnsDefaults = defaults.dns;

function noFile(path: string): string {
  throw new Error(`no file ${path} in this test`);
}

function config(args: string[], files: Record<string, string> = {}): DaemonConfig {
  const result = parseConfig(args, (path) => files[path] ?? noFile(path));
  assert.equal(result.kind, 'run');
  return result.config;
}

function configError(args: string[], files: Record<string, string> = {}): string {
  try {
    parseConfig(args, (path) => files[path] ?? noFile(path));
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail(`${args.join(' ')} was accepted`);
}

describe('flags', () => {
  const cases: Array<[string, string[], Partial<DaemonConfig>]> = [
    ['no flags: the defaults', [], {}],
    ['--listen is repeatable and replaces the vsock default', ['--listen', 'unix:///run/r.sock', '--listen=tcp://127.0.0.1:5000'], {
      listen: [parseEndpoint('unix:///run/r.sock'), parseEndpoint('tcp://127.0.0.1:5000')],
    }],
    ['--vsock-port moves the default listener', ['--vsock-port', '6000'], { vsockPort: 6000, listen: [parseEndpoint('vsock://:6000')] }],
    ['--vsock-allow-cid takes a list and repeats', ['--vsock-allow-cid', '2, 3', '--vsock-allow-cid=7'], { vsockAllowCids: [2, 3, 7] }],
    ['--allow-remote-tcp', ['--allow-remote-tcp'], { allowRemoteTcp: true }],
    ['--allow-remote-tcp=false', ['--allow-remote-tcp=false'], { allowRemoteTcp: false }],
    ['--parent', ['--parent', 'eth1'], { parent: 'eth1' }],
    ['--state-dir', ['--state-dir=/tmp/state'], { stateDir: '/tmp/state' }],
    ['--resync-interval 500ms', ['--resync-interval', '500ms'], { resyncIntervalMs: 500 }],
    ['--resync-interval 2s', ['--resync-interval', '2s'], { resyncIntervalMs: 2000 }],
    ['--resync-interval 1m', ['--resync-interval', '1m'], { resyncIntervalMs: 60_000 }],
    ['--resync-interval 1m30s', ['--resync-interval', '1m30s'], { resyncIntervalMs: 90_000 }],
    ['--resync-interval 1.5h', ['--resync-interval', '1.5h'], { resyncIntervalMs: 5_400_000 }],
    ['--log-format json', ['--log-format', 'json'], { logFormat: 'json' }],
    ['--log-level debug', ['--log-level', 'debug'], { logLevel: 'debug' }],
    ['the last of a repeated flag wins', ['--parent', 'a', '--parent', 'b'], { parent: 'b' }],
    // Go's flag rules, which init scripts and unit files written for the Go service rely on.
    ['-parent eth0: one dash as well as two', ['-parent', 'eth0'], { parent: 'eth0' }],
    ['-listen=unix:///x', ['-listen=unix:///x'], { listen: [parseEndpoint('unix:///x')] }],
    ['-listen repeats with one dash too', ['-listen', 'unix:///a', '--listen', 'unix:///b'], {
      listen: [parseEndpoint('unix:///a'), parseEndpoint('unix:///b')],
    }],
    ['-vsock-allow-cid=2 repeats with one dash too', ['-vsock-allow-cid=2', '-vsock-allow-cid', '3,4'], { vsockAllowCids: [2, 3, 4] }],
    ['--allow-remote-tcp=1', ['--allow-remote-tcp=1'], { allowRemoteTcp: true }],
    ['-allow-remote-tcp=f', ['--allow-remote-tcp', '-allow-remote-tcp=f'], { allowRemoteTcp: false }],
    ['-allow-remote-tcp', ['-allow-remote-tcp'], { allowRemoteTcp: true }],
    ['--allow-remote-tcp=T', ['--allow-remote-tcp=T'], { allowRemoteTcp: true }],
    ['--allow-remote-tcp=TRUE', ['--allow-remote-tcp=TRUE'], { allowRemoteTcp: true }],
    ['--allow-remote-tcp=True', ['--allow-remote-tcp=True'], { allowRemoteTcp: true }],
    ['--allow-remote-tcp=t', ['--allow-remote-tcp=t'], { allowRemoteTcp: true }],
    ['--allow-remote-tcp=0', ['--allow-remote-tcp', '--allow-remote-tcp=0'], { allowRemoteTcp: false }],
    ['--allow-remote-tcp=F', ['--allow-remote-tcp', '--allow-remote-tcp=F'], { allowRemoteTcp: false }],
    ['--allow-remote-tcp=FALSE', ['--allow-remote-tcp', '--allow-remote-tcp=FALSE'], { allowRemoteTcp: false }],
    ['--allow-remote-tcp=False', ['--allow-remote-tcp', '--allow-remote-tcp=False'], { allowRemoteTcp: false }],
    ['a trailing -- ends the flags', ['--parent', 'eth0', '--'], { parent: 'eth0' }],
    ['-state-dir and -resync-interval', ['-state-dir', '/tmp/s', '-resync-interval=2s'], { stateDir: '/tmp/s', resyncIntervalMs: 2000 }],
    ['--dns off selects no DNS backend', ['--dns', 'off'], { dns: { ...dnsDefaults, backend: 'none' } }],
    ['--dns none as well', ['--dns=none'], { dns: { ...dnsDefaults, backend: 'none' } }],
    ['--dns names a plugin module', ['--dns', './my-dns.js'], { dns: { ...dnsDefaults, backend: './my-dns.js' } }],
    ['--dns-upstream takes a list and repeats, ports after #', ['--dns-upstream', '192.0.2.53, 192.0.2.54#5353', '--dns-upstream=198.51.100.1#65535'], {
      dns: { ...dnsDefaults, upstreams: ['192.0.2.53', '192.0.2.54#5353', '198.51.100.1#65535'] },
    }],
    ['--dnsmasq', ['--dnsmasq', '/opt/dnsmasq/sbin/dnsmasq'], { dns: { ...dnsDefaults, dnsmasqPath: '/opt/dnsmasq/sbin/dnsmasq' } }],
  ];
  for (const [name, args, want] of cases) {
    test(name, () => {
      assert.deepEqual(config(args), { ...defaults, ...want });
    });
  }

  test('--help asks for the usage', () => {
    const result = parseConfig(['--help']);
    assert.equal(result.kind, 'help');
    assert.match(result.kind === 'help' ? result.text : '', /--listen URL[\s\S]*--resync-interval DURATION/);
  });

  test('-help, -h, --h and --help=1 ask for it too', () => {
    for (const args of [['-help'], ['-h'], ['--h'], ['--help=1'], ['--parent', 'eth0', '-h']]) {
      assert.equal(parseConfig(args).kind, 'help', args.join(' '));
    }
  });

  test('--help=false does not', () => {
    assert.deepEqual(config(['--help=false']), defaults);
  });

  test('-config names the file with one dash too', () => {
    assert.equal(config(['-config=r.json'], { 'r.json': '{"parent": "eth3"}' }).parent, 'eth3');
  });
});

describe('bad flags', () => {
  const cases: Array<[string[], string]> = [
    [['--log-format', 'xml'], '--log-format must be text or json, not "xml"'],
    [['--log-level', 'loud'], '--log-level must be debug, info, warn or error, not "loud"'],
    [['--listen', 'ftp://x'], '--listen: address "ftp://x": scheme must be vsock, unix or tcp'],
    [['--listen', 'unix://relative'], '--listen: address "unix://relative": write unix sockets as unix:///absolute/path'],
    [['--vsock-port', '0'], '--vsock-port 0 is out of range'],
    [['--vsock-port', '4294967295'], '--vsock-port 4294967295 is out of range'],
    [['--vsock-port', 'x'], '--vsock-port must be a number, not "x"'],
    [['--vsock-allow-cid', '2,x'], '--vsock-allow-cid: CID "x" is not a number'],
    [['--resync-interval', '0s'], '--resync-interval must be positive'],
    [['--resync-interval', '-1s'], '--resync-interval must be positive'],
    [['--resync-interval', '30'], '--resync-interval "30" is not a duration: write it as 500ms, 2s, 30s or 1m'],
    [['--resync-interval', '1d'], '--resync-interval "1d" is not a duration: write it as 500ms, 2s, 30s or 1m'],
    [['--resync-interval', '600h'], '--resync-interval must be at most 596h'],
    [['--bogus'], 'flag provided but not defined: --bogus'],
    [['-bogus'], 'flag provided but not defined: --bogus'],
    [['-parent'], 'flag needs an argument: --parent'],
    [['---parent', 'eth0'], 'bad flag syntax: ---parent'],
    [['--allow-remote-tcp=2'], '--allow-remote-tcp takes no value or =true/=false, not "2"'],
    [['-allow-remote-tcp='], '--allow-remote-tcp takes no value or =true/=false, not ""'],
    // A boolean never takes the next argument, so this `false` is positional.
    [['--allow-remote-tcp', 'false'], 'unexpected arguments: [false]'],
    // Parsing stops at the first positional argument, as Go's does.
    [['eth0', '--parent', 'eth1'], 'unexpected arguments: [eth0 --parent eth1]'],
    [['--', '--parent', 'eth1'], 'unexpected arguments: [--parent eth1]'],
    [['--parent'], 'flag needs an argument: --parent'],
    [['--allow-remote-tcp=yes'], '--allow-remote-tcp takes no value or =true/=false, not "yes"'],
    [['eth0'], 'unexpected arguments: [eth0]'],
    [['--parent', 'eth0', 'extra', 'args'], 'unexpected arguments: [extra args]'],
    [['--dnsmasq', 'dnsmasq'], '--dnsmasq must be the absolute path of the dnsmasq binary, not "dnsmasq"'],
    [['--dns-upstream', ''], '--dns-upstream "" is not an IPv4 address with an optional #PORT, such as 192.0.2.53 or 192.0.2.53#5353'],
    [['--dns-upstream', '192.0.2.53,'], '--dns-upstream "" is not an IPv4 address with an optional #PORT, such as 192.0.2.53 or 192.0.2.53#5353'],
    [['--dns-upstream', 'resolver.example'], '--dns-upstream "resolver.example" is not an IPv4 address with an optional #PORT, such as 192.0.2.53 or 192.0.2.53#5353'],
    [['--dns-upstream', '2001:db8::53'], '--dns-upstream "2001:db8::53" is not an IPv4 address with an optional #PORT, such as 192.0.2.53 or 192.0.2.53#5353'],
    [['--dns-upstream', '192.0.2.053'], '--dns-upstream "192.0.2.053" is not an IPv4 address with an optional #PORT, such as 192.0.2.53 or 192.0.2.53#5353'],
    [['--dns-upstream', '192.0.2.53:53'], '--dns-upstream "192.0.2.53:53" is not an IPv4 address with an optional #PORT, such as 192.0.2.53 or 192.0.2.53#5353'],
    [['--dns-upstream', '192.0.2.53#53#54'], '--dns-upstream "192.0.2.53#53#54" is not an IPv4 address with an optional #PORT, such as 192.0.2.53 or 192.0.2.53#5353'],
    [['--dns-upstream', '192.0.2.53\n--server=/x/1.2.3.4'], '--dns-upstream "192.0.2.53\\n--server=/x/1.2.3.4" is not an IPv4 address with an optional #PORT, such as 192.0.2.53 or 192.0.2.53#5353'],
    [['--dns-upstream', '192.0.2.53#0'], '--dns-upstream "192.0.2.53#0": the port must be 1 to 65535'],
    [['--dns-upstream', '192.0.2.53#65536'], '--dns-upstream "192.0.2.53#65536": the port must be 1 to 65535'],
    [['--dns-upstream', '192.0.2.53#053'], '--dns-upstream "192.0.2.53#053": the port must be 1 to 65535'],
    [['--dns-upstream', '192.0.2.53#'], '--dns-upstream "192.0.2.53#": the port must be 1 to 65535'],
  ];
  for (const [args, message] of cases) {
    test(`${args.join(' ')} -> ${message}`, () => {
      assert.equal(configError(args), message);
    });
  }
});

describe('--config file', () => {
  const file = JSON.stringify({
    listen: ['unix:///run/a.sock'],
    vsockPort: 6000,
    vsockAllowCid: [2, 3],
    allowRemoteTcp: true,
    parent: 'eth1',
    stateDir: '/srv/state',
    resyncInterval: '10s',
    logFormat: 'json',
    logLevel: 'warn',
    firewall: 'none',
    dns: { backend: 'dnsmasq', upstreams: ['192.0.2.53', '192.0.2.54#5353'], dnsmasq: '/opt/sbin/dnsmasq' },
    conntrack: 'none',
  });

  test('every setting, as camelCase keys', () => {
    assert.deepEqual(config(['--config', 'r.json'], { 'r.json': file }), {
      listen: [parseEndpoint('unix:///run/a.sock')],
      vsockPort: 6000,
      vsockAllowCids: [2, 3],
      allowRemoteTcp: true,
      parent: 'eth1',
      stateDir: '/srv/state',
      resyncIntervalMs: 10_000,
      logFormat: 'json',
      logLevel: 'warn',
      firewall: 'none',
      dns: { backend: 'dnsmasq', upstreams: ['192.0.2.53', '192.0.2.54#5353'], dnsmasqPath: '/opt/sbin/dnsmasq' },
      conntrack: 'none',
    });
  });

  test('dns as a name, or an object whose keys are each optional', () => {
    const dns = (value: unknown) => config(['--config', 'r.json'], { 'r.json': JSON.stringify({ dns: value }) }).dns;
    assert.deepEqual(dns('off'), { ...dnsDefaults, backend: 'none' });
    assert.deepEqual(dns('./my-dns-plugin.js'), { ...dnsDefaults, backend: './my-dns-plugin.js' });
    assert.deepEqual(dns({}), dnsDefaults);
    assert.deepEqual(dns({ backend: 'off' }), { ...dnsDefaults, backend: 'none' });
    assert.deepEqual(dns({ upstreams: null }), dnsDefaults);
    assert.deepEqual(dns({ upstreams: ['192.0.2.53'] }), { ...dnsDefaults, upstreams: ['192.0.2.53'] });
  });

  test('DNS flags override the file one setting at a time', () => {
    const got = config(['--config', 'r.json', '--dns-upstream', '198.51.100.7', '--dns', 'off'], { 'r.json': file });
    assert.deepEqual(got.dns, { backend: 'none', upstreams: ['198.51.100.7'], dnsmasqPath: '/opt/sbin/dnsmasq' });
  });

  test('flags override the file, wherever --config stands', () => {
    const got = config(['--parent', 'eth9', '--config=r.json', '--listen', 'tcp://127.0.0.1:1', '--allow-remote-tcp=false'], { 'r.json': file });
    assert.equal(got.parent, 'eth9');
    assert.deepEqual(got.listen, [parseEndpoint('tcp://127.0.0.1:1')]);
    assert.equal(got.allowRemoteTcp, false);
    assert.equal(got.stateDir, '/srv/state');
  });

  test('the file is validated like flags', () => {
    assert.equal(configError(['--config', 'r.json'], { 'r.json': '{"logFormat": "xml"}' }), '--log-format must be text or json, not "xml"');
    assert.equal(configError(['--config', 'r.json'], { 'r.json': '{"resyncInterval": "0s"}' }), '--resync-interval must be positive');
  });

  const bad: Array<[string, string]> = [
    ['{"listen": "unix:///x"}', '--config r.json: listen must be a list of strings, not "unix:///x"'],
    ['{"vsockPort": "6000"}', '--config r.json: vsockPort must be a number, not "6000"'],
    ['{"allowRemoteTcp": "yes"}', '--config r.json: allowRemoteTcp must be true or false, not "yes"'],
    ['{"vsockAllowCid": ["2"]}', '--config r.json: vsockAllowCid must be a list of numbers, not ["2"]'],
    ['{"resync": "30s"}', '--config r.json: unknown key "resync"; known keys: listen, vsockPort, vsockAllowCid, allowRemoteTcp, parent, stateDir, resyncInterval, logFormat, logLevel, firewall, dns, conntrack'],
    ['{"conntrack": "conntrack"}', 'conntrack must be the absolute path of the conntrack binary or "none", not "conntrack"'],
    ['{"dns": 1}', '--config r.json: dns must be a backend name or an object {"backend", "upstreams", "dnsmasq"}, not 1'],
    ['{"dns": ["dnsmasq"]}', '--config r.json: dns must be a backend name or an object {"backend", "upstreams", "dnsmasq"}, not ["dnsmasq"]'],
    ['{"dns": {"backend": null}}', '--config r.json: dns.backend must be a string, not null'],
    ['{"dns": {"upstreams": "192.0.2.53"}}', '--config r.json: dns.upstreams must be a list of strings or null, not "192.0.2.53"'],
    ['{"dns": {"upstreams": []}}', '--config r.json: dns.upstreams must name at least one resolver; leave it out to use those of /etc/resolv.conf'],
    ['{"dns": {"upstreams": ["192.0.2.53#99999"]}}', '--dns-upstream "192.0.2.53#99999": the port must be 1 to 65535'],
    ['{"dns": {"dnsmasq": 5}}', '--config r.json: dns.dnsmasq must be a string, not 5'],
    ['{"dns": {"dnsmasq": "bin/dnsmasq"}}', '--dnsmasq must be the absolute path of the dnsmasq binary, not "bin/dnsmasq"'],
    ['{"dns": {"upstream": ["192.0.2.53"]}}', '--config r.json: unknown key "upstream" in dns; known keys: backend, upstreams, dnsmasq'],
    ['[]', '--config r.json: must hold a JSON object of settings'],
  ];
  for (const [text, message] of bad) {
    test(`rejects ${text}`, () => {
      assert.equal(configError(['--config', 'r.json'], { 'r.json': text }), message);
    });
  }

  test('describeConfig shows the DNS settings, the router\'s resolv.conf when no upstream is configured', () => {
    assert.deepEqual(
      [describeConfig(defaults).dns, describeConfig(defaults).dns_upstreams, describeConfig(defaults).dnsmasq],
      ['dnsmasq', '/etc/resolv.conf', DEFAULT_DNSMASQ],
    );
    const configured = config(['--config', 'r.json'], { 'r.json': file });
    assert.deepEqual(describeConfig(configured).dns_upstreams, ['192.0.2.53', '192.0.2.54#5353']);
  });

  test('rejects a file that is not JSON', () => {
    assert.match(configError(['--config', 'r.json'], { 'r.json': '{listen' }), /^--config r\.json: not valid JSON: /);
  });

  test('rejects a file that cannot be read', () => {
    assert.equal(configError(['--config', 'missing.json']), '--config missing.json: no file missing.json in this test');
  });
});
