/**
 * One heal's context: the validated inputs (intake), the audit log, the delivery adapters, and `timed`,
 * which runs a stage, records its duration and journals it to the audit log. Stages receive the run and
 * return their value; none writes into a shared result.
 */
import { releaseSettings } from '../canary/stage-config.ts';
import { loadServiceConfig, type ServiceConfig } from '../config/service.ts';
import { type RevertWindow, revertWindow } from '../diagnose/strategies/revert/index.ts';
import { localFastForward } from '../gitops/deliver.ts';
import { Journal } from '../gitops/journal.ts';
import { createProvider } from '../gitops/providers/index.ts';
import type { Provider } from '../gitops/providers/types.ts';
import { listFiles, openRepo, resolveIncidentRevision } from '../gitops/repo.ts';
import { shortFingerprint } from '../incident/fingerprint.ts';
import { describeHealthy, healthyOptions } from '../incident/healthy/index.ts';
import { buildIncidentFrom, normaliseIncidentInput, readIncidentFile } from '../incident/intake.ts';
import type { Incident } from '../incident/types.ts';
import { exportTree, removeTree } from '../sandbox/trees.ts';
import { AuditLog } from './audit.ts';
import type { Progress } from './progress.ts';
import type { HealOptions } from './types.ts';

export interface Run {
  opts: HealOptions;
  id: string;
  started: number;
  audit: AuditLog;
  progress: Progress;
  timings: Record<string, number>;
  /** The repository, the revision healed, its files and an exported copy of its tree. */
  repo: string;
  base: string;
  files: string[];
  tree: string;
  config: ServiceConfig;
  incident: Incident;
  window: RevertWindow;
  branch: string;
  /** Delivery adapters; null in observe mode (asked for), which delivers nothing. */
  delivery: { journal: Journal; provider: Provider | null } | null;
  close(): Promise<void>;
}

/** Stage: intake. The repo, the base revision, suture.yaml, the incident and the provider, all validated. */
export async function openRun(opts: HealOptions): Promise<Run> {
  const p = opts.progress;
  const input = normaliseIncidentInput(await readIncidentFile(opts.incidentFile));
  const repo = await openRepo(opts.repo);
  const started = performance.now();
  // The revision that crashed when the incident names one, else HEAD.
  const base = await resolveIncidentRevision(repo, input.revision);
  if (input.revision) p(`healing the incident's revision ${input.revision} (${base.slice(0, 12)})`);
  const files = await listFiles(repo, base);
  const tree = await exportTree(repo, base);
  let journal: Journal | null = null;
  try {
    const config = loadServiceConfig(tree, opts.configFile);
    // suture.yaml says how many healthy samples to keep and may name a capture of production traffic.
    const incident = buildIncidentFrom(input, files, healthyOptions(tree, config.differential));
    p(describeHealthy(incident.healthySources, incident.healthyRequests.length));
    if (config.service !== incident.service)
      p(`note: incident is for service ${incident.service}, suture.yaml says ${config.service}`);
    // The operator's revert window, which suture.yaml may shorten; a bad operator setting stops here.
    const window = revertWindow(process.env, config.repair?.revertWindowHours);
    // The canary's operator settings too (SUTURE_CANARY): a typo must stop the heal now, not after the merge.
    if (opts.mode === 'auto') releaseSettings(config, opts.env ?? process.env);
    // The provider before any work: a bad provider setting (a missing token) stops the heal here.
    let delivery: Run['delivery'] = null;
    if (opts.mode !== 'observe') {
      const provider =
        opts.provider !== undefined
          ? opts.provider
          : await createProvider({ repoDir: repo, stateDir: opts.stateDir, localMerge: localFastForward(repo) });
      journal = new Journal(opts.stateDir);
      delivery = { journal, provider };
    }
    const run: Run = {
      opts,
      id: `heal-${Date.now().toString(36)}`,
      started,
      audit: new AuditLog(opts.stateDir),
      progress: p,
      timings: {},
      repo,
      base,
      files,
      tree,
      config,
      incident,
      window,
      branch: `suture/${shortFingerprint(incident.fingerprint)}`,
      delivery,
      async close() {
        journal?.close();
        await removeTree(tree);
      },
    };
    run.timings.intake = Math.round(performance.now() - started);
    await run.audit.append(auditEntry(run, 'intake', 'ok', run.timings.intake, incident.summary));
    return run;
  } catch (err) {
    journal?.close();
    await removeTree(tree);
    throw err;
  }
}

function auditEntry(run: Run, stage: string, outcome: 'ok' | 'stop' | 'error', durationMs: number, detail?: string) {
  return {
    ts: new Date().toISOString(),
    run: run.id,
    incident: run.incident.id,
    fingerprint: run.incident.fingerprint,
    stage,
    outcome,
    durationMs,
    ...(detail !== undefined ? { detail } : {}),
  };
}

/** Runs one stage: its duration lands in the timings and, with a one-line description, in the audit log. */
export async function timed<T>(run: Run, name: string, fn: () => Promise<T>, describe?: (r: T) => string): Promise<T> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  try {
    const result = await fn();
    run.timings[name] = ms();
    await run.audit.append(auditEntry(run, name, 'ok', run.timings[name], describe?.(result)));
    return result;
  } catch (err) {
    run.timings[name] = ms();
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    await run.audit.append(auditEntry(run, name, 'error', run.timings[name], detail)).catch(() => undefined);
    throw err;
  }
}

/** Journals the heal's end. */
export function auditStop(run: Run, detail: string, durationMs: number): Promise<void> {
  return run.audit.append(auditEntry(run, 'result', 'stop', durationMs, detail));
}
