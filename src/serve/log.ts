/**
 * `suture serve`'s log: pino, one JSON object per line on stderr — `level` (pino's label, as
 * `formatters.level` writes it), `time` (Unix ms), `msg`, then the bound fields (`incident` on every line of
 * a heal) — so Loki, Elasticsearch, CloudWatch or `pino-pretty` read it as they read any pino service.
 *
 * Messages and fields quote incident text (a heal's progress lines, alert labels), so nothing reaches the
 * line unredacted: the message through `hooks.logMethod` (flattened to one line, then redacted — a forged
 * `\n{"level":…}` cannot start a line of its own), the call's fields through `formatters.log` and a child's
 * bindings before pino sees them (both `redactDeep`: masked by key, like a `password` field, and by
 * shape, like a token). A field cannot replace `level`, `time` or `msg`.
 */
import pino from 'pino';
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
  /** Receives each line, newline included; stderr (synchronously) by default. */
  write?: (line: string) => void;
  now?: () => number;
}

const RESERVED = new Set(['level', 'time', 'msg']);
const MAX_MSG = 2000;

/** The fields of one line: no reserved key, no undefined value, redacted. */
function clean(fields: LogFields | undefined): LogFields {
  return redactDeep(
    Object.fromEntries(Object.entries(fields ?? {}).filter(([k, v]) => !RESERVED.has(k) && v !== undefined)),
  );
}

export function jsonLogger(opts: LoggerOptions = {}): Logger {
  const now = opts.now ?? Date.now;
  const destination = opts.write
    ? { write: opts.write }
    : // Synchronous: a heal's last lines must not be lost when serve exits on SIGTERM.
      pino.destination({ fd: 2, sync: true });
  const base = pino(
    {
      base: undefined,
      messageKey: 'msg',
      timestamp: () => `,"time":${now()}`,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => clean(fields),
      },
      hooks: {
        // Every call is (fields, msg) below; the message is made one redacted line before pino sees it.
        logMethod(args, method) {
          const [fields, msg] = args as unknown as [LogFields, unknown];
          method.apply(this, [fields, safeLine(String(msg ?? ''), MAX_MSG)] as unknown as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
  return wrap(base);
}

function wrap(p: pino.Logger): Logger {
  return {
    info: (msg, fields = {}) => p.info(fields, msg),
    warn: (msg, fields = {}) => p.warn(fields, msg),
    error: (msg, fields = {}) => p.error(fields, msg),
    // pino's formatters.bindings sees only the root's bindings, never a child's: clean them here.
    child: (bindings) => wrap(p.child(clean(bindings))),
  };
}

/** A logger that drops everything (tests, embedding). */
export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
