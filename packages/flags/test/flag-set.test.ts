import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FlagError, FlagSet, HelpRequest, UsageError, parseBool, parseUint32, type FlagProblem } from '../src/index.js';

/** A set with one flag of each kind, as most tests need. */
function sample() {
  const flags = new FlagSet();
  return {
    flags,
    addr: flags.string('addr', 'vsock://1:50052'),
    json: flags.bool('json', false),
    nat: flags.bool('nat', true),
    mtu: flags.uint32('mtu', 0),
    timeout: flags.duration('timeout', 10_000),
    listen: flags.list('listen'),
  };
}

function refusal(args: readonly string[]): FlagError {
  const { flags } = sample();
  try {
    flags.parse(args);
  } catch (error) {
    assert.ok(error instanceof FlagError, String(error));
    return error;
  }
  assert.fail(`${args.join(' ')} was accepted`);
}

describe('FlagSet accepts', () => {
  test('single and double dashes alike', () => {
    for (const dash of ['-', '--']) {
      const { flags, addr, mtu } = sample();
      flags.parse([`${dash}addr`, 'unix:///x', `${dash}mtu`, '1400']);
      assert.equal(addr.value, 'unix:///x');
      assert.equal(mtu.value, 1400);
      assert.deepEqual(flags.positional, []);
    }
  });

  test('--name=value and -name=value', () => {
    const { flags, addr, timeout } = sample();
    flags.parse(['--addr=tcp://127.0.0.1:1', '-timeout=1m30s']);
    assert.equal(addr.value, 'tcp://127.0.0.1:1');
    assert.equal(timeout.value, 90_000);
  });

  test('a value may itself hold = or start with a dash', () => {
    const { flags, addr } = sample();
    flags.parse(['--addr', '-x=y']);
    assert.equal(addr.value, '-x=y');
    flags.parse(['--addr=a=b']);
    assert.equal(addr.value, 'a=b');
  });

  test('an empty value after =', () => {
    const { flags, addr } = sample();
    flags.parse(['--addr=']);
    assert.deepEqual(addr, { value: '', set: true });
  });

  test('unset flags keep their initial value and say so', () => {
    const { flags, addr, json, timeout } = sample();
    flags.parse([]);
    assert.deepEqual(addr, { value: 'vsock://1:50052', set: false });
    assert.deepEqual(json, { value: false, set: false });
    assert.deepEqual(timeout, { value: 10_000, set: false });
  });

  test('a boolean alone is true', () => {
    const { flags, json } = sample();
    flags.parse(['-json']);
    assert.deepEqual(json, { value: true, set: true });
  });

  for (const [text, want] of [
    ['1', true], ['t', true], ['T', true], ['TRUE', true], ['true', true], ['True', true],
    ['0', false], ['f', false], ['F', false], ['FALSE', false], ['false', false], ['False', false],
  ] as const) {
    test(`a boolean takes Go's spelling --json=${text}`, () => {
      const { flags, json, nat } = sample();
      flags.parse([`--json=${text}`, `-nat=${text}`]);
      assert.equal(json.value, want);
      assert.equal(nat.value, want);
    });
  }

  test('a boolean never takes the next argument', () => {
    const { flags, nat } = sample();
    flags.parse(['--nat', 'false', '--json']);
    assert.equal(nat.value, true);
    assert.deepEqual(flags.positional, ['false', '--json']);
  });

  test('parsing stops at the first positional argument', () => {
    const { flags, json, mtu } = sample();
    flags.parse(['--mtu', '9', 'vlan', 'create', '--json']);
    assert.equal(mtu.value, 9);
    assert.equal(json.set, false);
    assert.deepEqual(flags.positional, ['vlan', 'create', '--json']);
  });

  test('parsing stops at --, which is consumed', () => {
    const { flags, json } = sample();
    flags.parse(['--', '--json', 'x']);
    assert.equal(json.set, false);
    assert.deepEqual(flags.positional, ['--json', 'x']);
  });

  test('a lone dash and an empty argument are positional', () => {
    const { flags } = sample();
    flags.parse(['-', '--json']);
    assert.deepEqual(flags.positional, ['-', '--json']);
    flags.parse(['', '--json']);
    assert.deepEqual(flags.positional, ['', '--json']);
  });

  test('the last repeat wins', () => {
    const { flags, addr, json, mtu } = sample();
    flags.parse(['--addr', 'a', '-addr=b', '--json', '--json=false', '--mtu', '1', '--mtu', '2']);
    assert.equal(addr.value, 'b');
    assert.equal(json.value, false);
    assert.equal(mtu.value, 2);
  });

  test('a list collects every repeat, in order', () => {
    const { flags, listen } = sample();
    flags.parse(['--listen', 'a', '-listen=b', '--listen=', '-listen', 'c']);
    assert.deepEqual(listen, { value: ['a', 'b', '', 'c'], set: true });
  });

  test("a list's first repeat replaces its initial values", () => {
    const flags = new FlagSet();
    const cids = flags.list('cid', ['2']);
    flags.parse([]);
    assert.deepEqual(cids, { value: ['2'], set: false });
    flags.parse(['--cid', '3', '--cid', '4']);
    assert.deepEqual(cids, { value: ['3', '4'], set: true });
  });

  test('uint32 takes 0 and 2^32-1', () => {
    const { flags, mtu } = sample();
    flags.parse(['--mtu', '0']);
    assert.equal(mtu.value, 0);
    flags.parse(['--mtu=4294967295']);
    assert.equal(mtu.value, 4294967295);
  });

  test('-h and --help ask for help when the program defines no such flag', () => {
    for (const arg of ['-h', '--h', '-help', '--help', '--help=false']) {
      assert.throws(() => sample().flags.parse([arg]), HelpRequest);
    }
  });

  test('a defined help flag is an ordinary flag', () => {
    const flags = new FlagSet();
    const help = flags.bool('help', false);
    flags.parse(['--help=false']);
    assert.deepEqual(help, { value: false, set: true });
    assert.throws(() => flags.parse(['-h']), HelpRequest);
  });
});

describe('FlagSet refuses', () => {
  const cases: readonly (readonly [args: readonly string[], message: string, problem: FlagProblem])[] = [
    [['--bogus'], 'flag provided but not defined: -bogus', { kind: 'not-defined', name: 'bogus' }],
    [['-bogus=1'], 'flag provided but not defined: -bogus', { kind: 'not-defined', name: 'bogus' }],
    [['-1'], 'flag provided but not defined: -1', { kind: 'not-defined', name: '1' }],
    [['--addr'], 'flag needs an argument: -addr', { kind: 'needs-argument', name: 'addr' }],
    [['-json', '-listen'], 'flag needs an argument: -listen', { kind: 'needs-argument', name: 'listen' }],
    [['---addr', 'x'], 'bad flag syntax: ---addr', { kind: 'bad-syntax', arg: '---addr' }],
    [['-=x'], 'bad flag syntax: -=x', { kind: 'bad-syntax', arg: '-=x' }],
    [['--=x'], 'bad flag syntax: --=x', { kind: 'bad-syntax', arg: '--=x' }],
    [
      ['--json=yes'],
      'invalid boolean value "yes" for -json: parse error',
      { kind: 'invalid-value', name: 'json', value: 'yes', isBool: true, reason: 'parse error' },
    ],
    [
      ['-nat='],
      'invalid boolean value "" for -nat: parse error',
      { kind: 'invalid-value', name: 'nat', value: '', isBool: true, reason: 'parse error' },
    ],
    [
      ['--json=tRUE'],
      'invalid boolean value "tRUE" for -json: parse error',
      { kind: 'invalid-value', name: 'json', value: 'tRUE', isBool: true, reason: 'parse error' },
    ],
    [
      ['--timeout', 'soon'],
      'invalid value "soon" for flag -timeout: parse error',
      { kind: 'invalid-value', name: 'timeout', value: 'soon', isBool: false, reason: 'parse error' },
    ],
    [
      ['--mtu', '4294967296'],
      'invalid value "4294967296" for flag -mtu: "4294967296" is not a number from 0 to 4294967295',
      {
        kind: 'invalid-value',
        name: 'mtu',
        value: '4294967296',
        isBool: false,
        reason: '"4294967296" is not a number from 0 to 4294967295',
      },
    ],
    [
      ['--mtu=-5'],
      'invalid value "-5" for flag -mtu: "-5" is not a number from 0 to 4294967295',
      { kind: 'invalid-value', name: 'mtu', value: '-5', isBool: false, reason: '"-5" is not a number from 0 to 4294967295' },
    ],
  ];
  for (const [args, message, problem] of cases) {
    test(`${args.join(' ')} -> ${message}`, () => {
      const error = refusal(args);
      assert.ok(error instanceof UsageError);
      assert.equal(error.message, message);
      assert.deepEqual(error.problem, problem);
      assert.equal(error.showUsage, false);
    });
  }

  test('values are quoted as Go %q quotes them', () => {
    assert.equal(refusal(['--mtu', 'a\tb']).message, 'invalid value "a\\tb" for flag -mtu: "a\\tb" is not a number from 0 to 4294967295');
    assert.equal(refusal(['--json=\x01']).message, 'invalid boolean value "\\x01" for -json: parse error');
    assert.equal(refusal(['--timeout', '\u2028']).message, 'invalid value "\\u2028" for flag -timeout: parse error');
  });

  test('the first mistake is reported, and flags before it were already set', () => {
    const { flags, addr } = sample();
    assert.throws(() => flags.parse(['--addr', 'a', '--bogus', '--nope']), { message: 'flag provided but not defined: -bogus' });
    assert.equal(addr.value, 'a');
  });

  test('a flag defined twice is a mistake in the program', () => {
    const flags = new FlagSet();
    flags.string('addr', '');
    assert.throws(() => flags.bool('addr', false), { message: 'flag redefined: addr' });
  });
});

describe('parseUint32', () => {
  for (const [text, want] of [
    ['0', 0], ['42', 42], ['007', 7], ['4294967295', 4294967295],
    ['4294967296', undefined], ['-1', undefined], ['+1', undefined], ['1e3', undefined],
    ['0x10', undefined], [' 1', undefined], ['', undefined], ['99999999999999999999', undefined],
  ] as const) {
    test(`${JSON.stringify(text)} -> ${want}`, () => {
      assert.equal(parseUint32(text), want);
    });
  }
});

describe('parseBool', () => {
  for (const [text, want] of [
    ['1', true], ['t', true], ['T', true], ['TRUE', true], ['true', true], ['True', true],
    ['0', false], ['f', false], ['F', false], ['FALSE', false], ['false', false], ['False', false],
    ['yes', undefined], ['no', undefined], ['tRuE', undefined], ['', undefined], [' true', undefined], ['2', undefined],
  ] as const) {
    test(`${JSON.stringify(text)} -> ${want}`, () => {
      assert.equal(parseBool(text), want);
    });
  }
});
