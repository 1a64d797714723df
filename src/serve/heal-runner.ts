/**
 * One heal in its own process: the suture CLI (`heal --json`) run by the same Node, so a heal's CPU work
 * (redaction, parsing, git) never runs on the server's event loop, and a stuck or runaway heal can be
 * killed. The server reads the result from the child's stdout.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { readFile, stat, unlink } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Mode } from '../pipeline/heal.ts';
import { siblingModule } from './modules.ts';

export interface HealProcessOptions {
  repo: string;
  incidentFile: string;
  mode: Mode;
  stateDir: string;
  push: boolean;
  /** The heal is stopped (SIGTERM, then SIGKILL after `graceMs`) past this. */
  timeoutMs: number;
  graceMs?: number;
  /** Aborted when the server shuts down: the heal is stopped the same way. */
  signal?: AbortSignal;
  /** Each line the heal prints on stderr (its progress). */
  onLine?: (line: string) => void;
  /** Program and leading arguments the heal arguments follow; by default this Node running the suture CLI. */
  command?: string[];
}

export interface HealOutcome {
  /** A heal status (proposed, no-fix, …) or: bad_input, timeout, stopped, error. */
  status: string;
  detail: string;
  branch?: string | null;
  /** The canary's decision when the heal ran one (`abort`, `promote`, …). */
  canary?: string | null;
}

// The CLI entry: src/main.ts from source, dist/main.js once built.
const CLI = fileURLToPath(siblingModule(import.meta.url, '../main'));
const MAX_RESULT = 16 * 1024 * 1024;
/** Suffix of the file next to the incident file that receives the heal's stdout while it runs. */
export const RESULT_SUFFIX = '.out';
const MAX_LINE = 1000;

export function runHealProcess(opts: HealProcessOptions): Promise<HealOutcome> {
  const [program, ...args] = opts.command ?? [process.execPath, CLI];
  args.push('heal', '--repo', opts.repo, '--incident', opts.incidentFile, '--mode', opts.mode);
  args.push('--state', opts.stateDir, '--json', ...(opts.push ? [] : ['--no-push']));
  // The server's token authenticates callers of the server; a heal has no use for it.
  const { SUTURE_TOKEN: _, ...env } = process.env;
  // The result goes to a file, not a pipe: a process that exits right after writing to a pipe loses
  // what the pipe had no room for (results over 64 KiB arrived cut).
  const resultFile = `${opts.incidentFile}${RESULT_SUFFIX}`;
  const fd = openSync(
    resultFile,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  let child: ChildProcess;
  try {
    child = spawn(program!, args, { env, stdio: ['ignore', fd, 'pipe'] });
  } finally {
    closeSync(fd);
  }
  let lastLine = '';
  let partial = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    const lines = (partial + c).split('\n');
    partial = (lines.pop() ?? '').slice(0, MAX_LINE);
    for (const line of lines) {
      if (!line) continue;
      lastLine = printable(line);
      opts.onLine?.(lastLine);
    }
  });
  let ended: 'timeout' | 'stopped' | undefined;
  const stop = (why: 'timeout' | 'stopped') => {
    if (ended || child.exitCode !== null || child.signalCode !== null) return;
    ended = why;
    child.kill('SIGTERM');
    setTimeout(
      () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'),
      opts.graceMs ?? 10_000,
    ).unref();
  };
  const timer = setTimeout(() => stop('timeout'), opts.timeoutMs);
  const onAbort = () => stop('stopped');
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  return new Promise((resolve) => {
    child.on('error', (err) => {
      clearTimeout(timer);
      void unlink(resultFile).catch(() => undefined);
      resolve({ status: 'error', detail: `could not start the heal: ${err.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      void readResult(resultFile).then((stdout) =>
        resolve(
          healOutcome({ exitCode: code, ended, stdout, lastLine: partial || lastLine, timeoutMs: opts.timeoutMs }),
        ),
      );
    });
  });
}

/**
 * One line fit for the server's log: control characters (terminal escapes, carriage returns that would
 * overwrite what an operator sees) shown as `?`, and bounded.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g, '?').slice(0, MAX_LINE);
}

/** The heal's stdout, removed once read; empty when missing or larger than any result could be. */
async function readResult(path: string): Promise<string> {
  try {
    return (await stat(path)).size > MAX_RESULT ? '' : await readFile(path, 'utf8');
  } catch {
    return '';
  } finally {
    await unlink(path).catch(() => undefined);
  }
}

/** What a finished heal process amounts to, from its exit and its `--json` stdout. */
export function healOutcome(p: {
  exitCode: number | null;
  ended?: 'timeout' | 'stopped';
  stdout: string;
  lastLine: string;
  timeoutMs: number;
}): HealOutcome {
  if (p.ended === 'timeout') return { status: 'timeout', detail: `stopped after ${Math.round(p.timeoutMs / 1000)} s` };
  if (p.ended === 'stopped') return { status: 'stopped', detail: 'stopped: the server is shutting down' };
  const last = printable(p.lastLine.replace(/^suture: /, ''));
  if (p.exitCode === 2) return { status: 'bad_input', detail: last || 'heal refused its input' };
  if (p.exitCode !== 0) return { status: 'error', detail: last || `heal exited with ${p.exitCode}` };
  try {
    const r = JSON.parse(p.stdout) as { status?: unknown; reason?: unknown; branch?: unknown; canary?: unknown };
    if (typeof r.status !== 'string') throw new Error('no status');
    return {
      status: r.status,
      detail: typeof r.reason === 'string' ? printable(r.reason) : '',
      branch: typeof r.branch === 'string' ? r.branch : null,
      canary: canaryDecision(r.canary),
    };
  } catch {
    return { status: 'error', detail: 'the heal printed no readable result' };
  }
}

function canaryDecision(canary: unknown): string | null {
  if (canary === null || typeof canary !== 'object') return null;
  const d = (canary as { decision?: unknown }).decision;
  return typeof d === 'string' ? printable(d).slice(0, 40) : null;
}
