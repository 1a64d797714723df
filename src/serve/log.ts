/**
 * `suture serve`'s log: one JSON object per line on stderr, in pino's shape — `level`, `time` (Unix ms),
 * `msg`, then the bound fields (`incident` on every line of a heal) — so Loki, Elasticsearch, CloudWatch or
 * `pino-pretty` read it as they read pino. Not pino itself: the server logs a few dozen lines per heal, and
 * what matters here is that each line passes the redactor (messages quote incident text), which a ten-line
 * writer guarantees without another dependency. Levels are pino's labels (`"level":"info"`), as pino writes
 * them with `formatters.level`.
 */
import { redactDeep } from '../evidence/redact.ts';
import { safeLine } from '../incident/display.ts';

export type LogLevel = 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose every line carries `bindings` (e.g. `{incident}`). */
  child(bindings: LogFields): Logger;
}

export interface LoggerOptions {
  /** Receives each line, newline included; stderr by default. */
  write?: (line: string) => void;
  now?: () => number;
}

const RESERVED = new Set(['level', 'time', 'msg']);

export function jsonLogger(opts: LoggerOptions = {}, bindings: LogFields = {}): Logger {
  const write = opts.write ?? ((line: string) => void process.stderr.write(line));
  const now = opts.now ?? Date.now;
  const emit = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    const extra = Object.fromEntries(
      Object.entries({ ...bindings, ...fields }).filter(([k, v]) => !RESERVED.has(k) && v !== undefined),
    );
    // safeLine flattens and redacts the message; redactDeep masks fields by key (a `password` field) and text.
    write(`${JSON.stringify({ level, time: now(), msg: safeLine(msg, 2000), ...redactDeep(extra) })}\n`);
  };
  return {
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (more) => jsonLogger(opts, { ...bindings, ...more }),
  };
}

/** A logger that drops everything (tests, embedding). */
export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
