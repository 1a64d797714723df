/**
 * The heal pipeline: intake → evidence → diagnose → verify → gate → deliver → learn. Each stage is a named
 * function with typed input and output; this orchestrator runs them in order, journals every step to the
 * audit log, and owns the decision to stop (escalate, duplicate, no-fix, rejected).
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { loadServiceConfig, type ServiceConfig } from '../config/service.ts';
import { type Candidate, type Diagnosis, diagnose } from '../diagnose/index.ts';
import { rankCandidates } from '../diagnose/rank.ts';
import { repairStrategies } from '../diagnose/strategies/index.ts';
import { exchangeAuditEntry } from '../diagnose/strategies/llm/index.ts';
import { type RevertWindow, revertWindow } from '../diagnose/strategies/revert/index.ts';
import { errorMessage } from '../errors.ts';
import { readRepoFile } from '../evidence/excerpts.ts';
import { type Evidence, gatherEvidence } from '../evidence/index.ts';
import { redactDeep } from '../evidence/redact.ts';
import {
  branchExists,
  commitPatch,
  createBranch,
  hasRemote,
  listFiles,
  mergeFix,
  openRepo,
  pushBranch,
  resolveIncidentRevision,
} from '../gitops/repo.ts';
import { shortFingerprint } from '../incident/fingerprint.ts';
import { describeHealthy, healthyOptions } from '../incident/healthy/index.ts';
import { buildIncidentFrom, normaliseIncidentInput, readIncidentFile } from '../incident/intake.ts';
import type { HealthySources, Incident } from '../incident/types.ts';
import { knowledgeRecord } from '../knowledge/record.ts';
import { recordHeal } from '../knowledge/store.ts';
import { writeReports } from '../report/html-write.ts';
import { installCleanupHandlers } from '../sandbox/docker.ts';
import { repoIdentity } from '../sandbox/prepare.ts';
import { exportTree, removeTree } from '../sandbox/trees.ts';
import { prepareBaseline, type Verdict, verifyCandidate } from '../sandbox/verify.ts';
import { AuditLog } from './audit.ts';
import { commitMessage } from './commit-message.ts';
import { gateCandidate, type PolicyResult } from './gate.ts';
import { mapLimit } from './limit.ts';
import type { Progress } from './progress.ts';

export type Mode = 'observe' | 'propose' | 'auto';
export type HealStatus =
  | 'observed'
  | 'proposed'
  | 'fixed'
  | 'rejected'
  | 'no-fix'
  | 'escalated'
  | 'duplicate'
  | 'aborted';

export interface HealOptions {
  repo: string;
  incidentFile: string;
  mode: Mode;
  configFile?: string;
  stateDir: string;
  push: boolean;
  progress: Progress;
  concurrency?: number;
}

export interface CandidateResult {
  id: string;
  strategy: string;
  summary: string;
  verdict: Verdict | null;
  policy: PolicyResult | null;
}

export interface HealResult {
  status: HealStatus;
  reason: string;
  incident: {
    id: string;
    fingerprint: string;
    service: string;
    signal: string;
    summary: string;
    /** Healthy samples gathered for differential replay, per source. */
    healthySources?: HealthySources;
    /** The revision the incident named (heal worked from it). */
    revision?: string;
  };
  diagnosis: Diagnosis | null;
  candidates: CandidateResult[];
  chosen: string | null;
  branch: string | null;
  commit: string | null;
  pullRequest: null | { number: number; url: string };
  canary: null | { decision: string; at: number; reason: string };
  report: string | null;
  timings: Record<string, number>;
  /** What the strategies and checks noted on the way (why a strategy proposed nothing, a trace/code mismatch). */
  notes: string[];
  /** The allowed and reviewed verified candidates, best first, with the keys that ordered them (diagnose/rank.ts). */
  ranking?: { id: string; keys: Record<string, number> }[];
}

interface Context {
  opts: HealOptions;
  audit: AuditLog;
  run: string;
  timings: Record<string, number>;
  incident?: Incident;
}

async function stage<T>(ctx: Context, name: string, fn: () => Promise<T>, describe?: (r: T) => string): Promise<T> {
  const started = performance.now();
  try {
    const result = await fn();
    const durationMs = Math.round(performance.now() - started);
    ctx.timings[name] = durationMs;
    await ctx.audit.append({
      ts: new Date().toISOString(),
      run: ctx.run,
      ...(ctx.incident ? { incident: ctx.incident.id, fingerprint: ctx.incident.fingerprint } : {}),
      stage: name,
      outcome: 'ok',
      durationMs,
      ...(describe ? { detail: describe(result) } : {}),
    });
    return result;
  } catch (err) {
    const durationMs = Math.round(performance.now() - started);
    ctx.timings[name] = durationMs;
    await ctx.audit
      .append({
        ts: new Date().toISOString(),
        run: ctx.run,
        ...(ctx.incident ? { incident: ctx.incident.id, fingerprint: ctx.incident.fingerprint } : {}),
        stage: name,
        outcome: 'error',
        durationMs,
        detail: err instanceof Error ? err.message.split('\n')[0] : String(err),
      })
      .catch(() => undefined);
    throw err;
  }
}

/** Stage: intake. The repo, the base revision, suture.yaml and the incident, all validated. */
async function intake(opts: HealOptions) {
  const input = normaliseIncidentInput(await readIncidentFile(opts.incidentFile));
  const repo = await openRepo(opts.repo);
  // The revision that crashed when the incident names one, else HEAD.
  const base = await resolveIncidentRevision(repo, input.revision);
  if (input.revision) opts.progress(`healing the incident's revision ${input.revision} (${base.slice(0, 12)})`);
  const files = await listFiles(repo, base);
  const tree = await exportTree(repo, base);
  let config: ServiceConfig;
  let incident: Incident;
  try {
    config = loadServiceConfig(tree, opts.configFile);
    // suture.yaml says how many healthy samples to keep and may name a capture of production traffic.
    incident = buildIncidentFrom(input, files, healthyOptions(tree, config.differential));
  } catch (err) {
    await removeTree(tree);
    throw err;
  }
  opts.progress(describeHealthy(incident.healthySources, incident.healthyRequests.length));
  if (config.service !== incident.service) {
    opts.progress(`note: incident is for service ${incident.service}, suture.yaml says ${config.service}`);
  }
  // The operator's revert window, which suture.yaml may shorten; a bad operator setting stops here.
  let window: RevertWindow;
  try {
    window = revertWindow(process.env, config.repair?.revertWindowHours);
  } catch (err) {
    await removeTree(tree);
    throw err;
  }
  return { repo, base, files, incident, tree, config, window };
}

function summaryOf(incident: Incident) {
  return {
    id: incident.id,
    fingerprint: incident.fingerprint,
    service: incident.service,
    signal: incident.signal,
    summary: incident.summary,
    ...(incident.healthySources ? { healthySources: incident.healthySources } : {}),
    ...(incident.revision ? { revision: incident.revision } : {}),
  };
}

export async function heal(opts: HealOptions): Promise<HealResult> {
  const started = performance.now();
  const audit = new AuditLog(opts.stateDir);
  const ctx: Context = { opts, audit, run: `heal-${Date.now().toString(36)}`, timings: {} };
  const p = opts.progress;
  installCleanupHandlers();

  const { repo, base, files, incident, tree, config, window } = await stage(
    ctx,
    'intake',
    async () => {
      const r = await intake(opts);
      ctx.incident = r.incident;
      return r;
    },
    (r) => r.incident.summary,
  );
  const result: HealResult = {
    status: 'no-fix',
    reason: '',
    incident: summaryOf(incident),
    diagnosis: null,
    candidates: [],
    chosen: null,
    branch: null,
    commit: null,
    pullRequest: null,
    canary: null,
    report: null,
    timings: ctx.timings,
    notes: [],
  };
  // Every candidate, with its patch, for the knowledge store; the evidence, for the report.
  let proposed: Candidate[] = [];
  let evidence: Evidence | undefined;
  const finish = async (status: HealStatus, reason: string): Promise<HealResult> => {
    result.status = status;
    result.reason = reason;
    result.timings.total = Math.round(performance.now() - started);
    result.report = await writeReports(join(opts.stateDir, 'reports'), incident, result, {
      evidence,
      candidates: proposed,
      audit: audit.path,
      run: ctx.run,
    }).catch(() => null);
    await audit.append({
      ts: new Date().toISOString(),
      run: ctx.run,
      incident: incident.id,
      fingerprint: incident.fingerprint,
      stage: 'result',
      outcome: 'stop',
      durationMs: result.timings.total,
      detail: `${status}: ${reason}`,
    });
    p(`${status}: ${reason}`);
    try {
      recordHeal(opts.stateDir, knowledgeRecord({ result, incident, base, candidates: proposed }));
    } catch (err) {
      p(`note: the knowledge store was not updated: ${errorMessage(err)}`);
    }
    // The result quotes the incident (root cause, reasons, test output) and leaves the process.
    return redactDeep(result);
  };

  try {
    p(`incident ${incident.id}: ${incident.summary}`);
    if (!incident.trace) return await finish('escalated', 'the incident carries no stack trace: a human must look');

    evidence = await stage(ctx, 'evidence', () =>
      gatherEvidence({ incident, treeDir: tree, repoDir: repo, rev: base }),
    );
    const repair = {
      incident,
      evidence,
      config,
      repoFiles: files,
      readFile: (path: string) => readRepoFile(tree, path),
    };
    const { diagnosis, candidates } = await stage(
      ctx,
      'diagnose',
      async () => {
        const repairing = repairStrategies({
          stateDir: opts.stateDir,
          repo,
          base,
          window,
          // Each LLM exchange (prompt and answer, redacted) is journaled as it completes.
          onExchange: (e) =>
            audit.append(
              exchangeAuditEntry(e, { run: ctx.run, incident: incident.id, fingerprint: incident.fingerprint }),
            ),
        });
        try {
          return await diagnose(repair, repairing.strategies);
        } finally {
          repairing.close();
        }
      },
      (r) => `${r.diagnosis.classification}, ${r.candidates.length} candidate(s)`,
    );
    result.notes.push(...(diagnosis.notes ?? []));
    proposed = candidates;
    result.diagnosis = diagnosis;
    result.candidates = candidates.map((c) => ({
      id: c.id,
      strategy: c.strategy,
      summary: c.summary,
      verdict: null,
      policy: null,
    }));
    for (const note of result.notes) p(`note: ${note}`);
    p(`diagnosis: ${diagnosis.rootCause} (${diagnosis.classification}, confidence ${diagnosis.confidence})`);
    if (diagnosis.classification !== 'code-defect') return await finish('escalated', diagnosis.rootCause);
    if (candidates.length === 0)
      return await finish('no-fix', 'no repair strategy produced a candidate for this crash');

    const branch = `suture/${shortFingerprint(incident.fingerprint)}`;
    if (opts.mode !== 'observe' && (await branchExists(repo, branch))) {
      result.branch = branch;
      return await finish('duplicate', `branch ${branch} already exists for this fingerprint`);
    }

    p(`verifying ${candidates.length} candidate(s) in the sandbox (${config.image})`);
    const verdicts = await stage(
      ctx,
      'verify',
      async () => {
        const baseline = await prepareBaseline({
          tree,
          config,
          incident,
          candidates,
          repoId: await repoIdentity(repo),
          progress: p,
        });
        void baseline.ready.then(() =>
          p(`base: ${baseline.reproduced ? 'crash reproduced' : 'crash not reproduced'} (${baseline.durationMs} ms)`),
        );
        const limit = opts.concurrency ?? availableParallelism();
        return mapLimit(candidates, limit, async (c) => {
          const v = await verifyCandidate(baseline, c);
          p(
            `candidate ${c.id} (${c.strategy}): ${v.verdict}${v.verdict === 'fail' ? ` — ${v.reasons[0]}` : ''} (${v.durationMs} ms)`,
          );
          return v;
        });
      },
      (vs) => vs.map((v) => v.verdict).join(','),
    );
    verdicts.forEach((v, i) => {
      result.candidates[i]!.verdict = v;
    });
    const verified = candidates.filter((_, i) => verdicts[i]!.verdict === 'pass');
    if (verified.length === 0) return await finish('no-fix', 'no candidate passed verification');

    // Gate: each verified candidate is committed (unreferenced) and judged by the policy.
    const gated = await stage(ctx, 'gate', () =>
      mapLimit(verified, 2, async (c: Candidate) => {
        const commit = await commitPatch({ repo, base, patch: c.patch, message: commitMessage(incident, c) });
        const i = candidates.indexOf(c);
        const policy = await gateCandidate({
          repo,
          base,
          head: commit,
          candidate: c,
          verdict: verdicts[i]!,
          incident,
          mode: opts.mode,
        });
        result.candidates[i]!.policy = policy;
        p(
          `policy on ${c.id}: ${policy.decision}${policy.violations.length ? ` (${policy.violations.map((v) => v.id).join(', ')})` : ''}`,
        );
        return { c, commit, policy };
      }),
    );
    const allowed = gated.filter((g) => g.policy.decision !== 'deny');
    if (allowed.length === 0) return await finish('rejected', 'every verified candidate was denied by policy');
    const ranked = rankCandidates(
      allowed.map((g) => {
        const v = verdicts[candidates.indexOf(g.c)]!;
        return {
          ...g.c,
          gated: g,
          policy: g.policy.decision as 'allow' | 'review',
          differential: { status: v.differential.status, mismatches: v.differential.mismatches.length },
          fixedStatusClass: v.fixedStatusClass,
        };
      }),
      candidates,
    );
    const chosen = ranked[0]!.candidate.gated;
    result.chosen = chosen.c.id;
    result.ranking = ranked.map((r) => ({ id: r.candidate.id, keys: r.keys }));

    if (opts.mode === 'observe') {
      return await finish(
        'observed',
        `candidate ${chosen.c.id} verified (${chosen.policy.decision}); observe mode makes no branch`,
      );
    }

    await stage(
      ctx,
      'deliver',
      async () => {
        await createBranch(repo, branch, chosen.commit);
        result.branch = branch;
        result.commit = chosen.commit;
        if (opts.push && (await hasRemote(repo))) {
          p(`pushing ${branch} to origin`);
          await pushBranch(repo, branch);
        }
      },
      () => `${branch} at ${chosen.commit.slice(0, 12)}`,
    );
    if (opts.mode === 'auto') {
      if (chosen.policy.decision !== 'allow') {
        return await finish(
          'proposed',
          `verified fix ${chosen.c.id} on ${branch}: policy says ${chosen.policy.decision}, so a human must approve even in auto mode`,
        );
      }
      const merged = await stage(
        ctx,
        'merge',
        () => mergeFix({ repo, base, commit: chosen.commit, push: opts.push }),
        (m) => m.detail,
      );
      if (merged.merged) return await finish('fixed', `verified fix ${chosen.c.id} merged: ${merged.detail}`);
      return await finish('proposed', `verified fix ${chosen.c.id} on ${branch}; not merged: ${merged.detail}`);
    }
    return await finish(
      'proposed',
      `verified fix ${chosen.c.id} on ${branch} (policy: ${chosen.policy.decision}); awaiting review`,
    );
  } finally {
    await removeTree(tree);
  }
}
