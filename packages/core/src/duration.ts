/**
 * Durations in the notation router-service's flags and routerctl's output
 * have always used (`500ms`, `2s`, `1m30s`, as Go's time.ParseDuration and
 * time.Duration.String write them).
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 micro sign
  'μs': 1e-3, // U+03BC Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Parses `300ms`, `1.5h`, `2h45m`, `-1s` or `0` into milliseconds; undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  const term = /^([0-9]*(?:\.[0-9]*)?)([^0-9.]+)/u;
  while (rest !== '') {
    const match = term.exec(rest);
    if (match === null) return undefined;
    const [whole, number = '', unit = ''] = match;
    if (number === '' || number === '.') return undefined;
    const scale = UNIT_MS[unit];
    if (scale === undefined) return undefined;
    total += Number(number) * scale;
    rest = rest.slice(whole.length);
  }
  return sign * total;
}

/** Formats whole seconds as Go prints a time.Duration of them: `0s`, `45s`, `1m5s`, `26h0m3s`. */
export function formatSeconds(seconds: number): string {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const secs = seconds % 60;
  if (hours > 0) return `${hours}h${minutes}m${secs}s`;
  if (minutes > 0) return `${minutes}m${secs}s`;
  return `${secs}s`;
}
