/**
 * Crash scenarios as they happen: a small module written to a temp dir, a driver that calls it with the
 * crashing input under the real interpreter (python3, node), the real traceback or stack it prints fed to
 * intake and the template strategy, and each proposal's patched module run again with the same input.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { DEFAULT_LIMITS, type ServiceConfig } from '../../src/config/service.ts';
import { templateProposals } from '../../src/diagnose/strategies/template/index.ts';
import { PythonParser } from '../../src/diagnose/strategies/template/python/helper.ts';
import type { Proposal } from '../../src/diagnose/strategies/types.ts';
import type { RepairContext } from '../../src/diagnose/types.ts';
import { buildIncident } from '../../src/incident/intake.ts';
import { tempDir } from '../helpers/repo.ts';

export interface Scenario {
  language: 'python' | 'node';
  /** The repo's files (path → source). */
  files: Record<string, string>;
  /** A driver outside the repo (driver.py / driver.mjs) that calls into it with the crashing input. */
  driver: string;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function write(dir: string, files: Record<string, string>): void {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
}

/** Runs the driver against `files` in a fresh directory. */
export async function run(s: Scenario, files: Record<string, string> = s.files): Promise<Run> {
  const dir = tempDir('suture-scenario-');
  const driver = s.language === 'python' ? 'driver.py' : 'driver.mjs';
  write(dir, { ...files, [driver]: s.driver });
  const cmd = s.language === 'python' ? 'python3' : process.execPath;
  const r = await execa(cmd, [driver], {
    cwd: dir,
    reject: false,
    timeout: 20_000,
    env: { PYTHONDONTWRITEBYTECODE: '1' },
  });
  return { code: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export const config = (language: 'python' | 'node'): ServiceConfig => ({
  service: 'svc',
  language,
  image: 'suture-sandbox:bookworm',
  install: '',
  test: language === 'python' ? 'python3 -m pytest -q' : 'node --test',
  start: language === 'python' ? 'python3 app.py' : 'node server.js',
  port: 8080,
  health: '/healthz',
  limits: DEFAULT_LIMITS,
});

export function contextFor(language: 'python' | 'node', files: Record<string, string>, logs: string): RepairContext {
  const incident = buildIncident({ kind: 'crash', service: 'svc', logs, requests: [] }, Object.keys(files));
  return {
    incident,
    config: config(language),
    evidence: { frames: [], excerpts: [], commits: [], logs, redactions: 0 },
    repoFiles: Object.keys(files),
    readFile: async (p) => files[p],
  };
}

let parser: PythonParser | undefined;
/** One helper process for the whole test file (closed by `closeParser`). */
export function sharedParser(): PythonParser {
  parser ??= new PythonParser();
  return parser;
}
export function closeParser(): void {
  parser?.close();
  parser = undefined;
}

export interface Crash {
  trace: string;
  proposals: Proposal[];
  notes: string[];
}

/** Crashes the scenario for real and asks the templates for proposals on the trace it printed. */
export async function crash(s: Scenario): Promise<Crash> {
  const base = await run(s);
  if (base.code === 0) throw new Error(`the scenario does not crash:\n${base.stdout}`);
  const ctx = contextFor(s.language, s.files, base.stderr);
  const { proposals, notes } = await templateProposals(ctx, sharedParser);
  return { trace: base.stderr, proposals, notes };
}

/** The files after a proposal's edits. */
export function patched(s: Scenario, p: Proposal): Record<string, string> {
  const out = { ...s.files };
  for (const e of p.edits) out[e.path] = e.after;
  return out;
}

/** The proposal whose strategy ends with `variant` (`guard`, `validate`, …), or the fault-site one. */
export function variant(c: Crash, v: string): Proposal | undefined {
  return c.proposals.find((p) => p.strategy.endsWith(`:${v}`));
}

/** Lines a proposal adds to one file (for reading failures). */
export function added(p: Proposal): string[] {
  return p.edits.flatMap((e) => {
    const before = new Set((e.before ?? '').split('\n'));
    return e.after.split('\n').filter((l) => !before.has(l));
  });
}
