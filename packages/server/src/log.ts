/**
 * The daemon's logger: pino, writing to stderr either as JSON lines or, for
 * people reading a console, as `time LEVEL message key=value …` lines.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { LogFormat, LogLevel } from './config.js';

export type DaemonLogger = PinoLogger;

/** Fields pino adds to every line that the text form shows in its own place. */
const FIXED_FIELDS = new Set(['time', 'level', 'msg']);
const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

export function createLogger(format: LogFormat, level: LogLevel, write: (line: string) => void = writeStderr): DaemonLogger {
  const destination: DestinationStream = {
    write: format === 'json' ? write : (line: string) => write(textLine(line)),
  };
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label, number) => (format === 'json' ? { level: label } : { level: number }) },
    },
    destination,
  );
}

function writeStderr(line: string): void {
  // Synchronous for files and pipes, so the last lines survive process.exit.
  process.stderr.write(line);
}

/** One pino JSON line as a text line. */
export function textLine(jsonLine: string): string {
  const record = JSON.parse(jsonLine) as Record<string, unknown>;
  const level = LEVEL_NAMES[Number(record.level)] ?? String(record.level);
  const parts = [String(record.time), level, String(record.msg ?? '')];
  for (const [key, value] of Object.entries(record)) {
    if (!FIXED_FIELDS.has(key)) parts.push(`${key}=${textValue(value)}`);
  }
  return parts.join(' ') + '\n';
}

function textValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=\\]+$/u.test(value) ? value : JSON.stringify(value);
  if (value !== null && typeof value === 'object' && 'message' in value && typeof value.message === 'string') {
    // A serialized Error: its message is what a reader needs.
    return textValue(value.message);
  }
  return JSON.stringify(value) ?? String(value);
}
