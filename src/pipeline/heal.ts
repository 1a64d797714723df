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
  checkOrigin,
  type DeliverContext,
  type Delivered,
  type Duplicate,
  deliver,
  existingDelivery,
  localFastForward,
  type OriginCheck,
  resumeDelivery,
} from '../gitops/deliver.ts';
import { Journal } from '../gitops/journal.ts';
import { codeOwnersFor, createProvider } from '../gitops/providers/index.ts';
import type { ProposalRef, Provider, Reviewers } from '../gitops/providers/types.ts';
import { changedPaths } from '../gitops/remote-info.ts';
import { commitPatch, listFiles, openRepo, repoKey, resolveIncidentRevision } from '../gitops/repo.ts';
import { shortFingerprint } from '../incident/fingerprint.ts';
import { describeHealthy, healthyOptions } from '../incident/healthy/index.ts';
import { buildIncidentFrom, normaliseIncidentInput, readIncidentFile } from '../incident/intake.ts';
import type { HealthySources, Incident } from '../incident/types.ts';
import { knowledgeRecord } from '../knowledge/record.ts';
import { recordHeal } from '../knowledge/store.ts';
import { writeReport } from '../report/markdown.ts';
import { renderPullRequestBody } from '../report/pull-request.ts';
import { installCleanupHandlers } from '../sandbox/docker.ts';
import { repoIdentity } from '../sandbox/prepare.ts';
import { exportTree, removeTree } from '../sandbox/trees.ts';
import { prepareBaseline, type Verdict, verifyCandidate } from '../sandbox/verify.ts';
import { AuditLog } from './audit.ts';
import { commitMessage, verdictTrailer } from './commit-message.ts';
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
  /**
   * Where the fix is proposed (and, in auto mode with policy allow, merged). Absent: the one the operator's
   * environment chooses (src/gitops/providers: local by default, whose merge is the local fast-forward only
   * with SUTURE_LOCAL_MERGE=fast-forward). Null: branch-only delivery (the branch is pushed, no proposal).
   */
  provider?: Provider | null;
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
  /** The provider's proposal (pull/merge request; for `local`, the rendered body file). */
  pullRequest: ProposalRef | null;
  /** When origin's default branch had advanced past the healed base: the fix rebased onto it, verified again. */
  rebased?: { onto: string; target: string; verdict: Verdict; policy: PolicyResult } | null;
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
    result.report = await writeReport(join(opts.stateDir, 'reports'), incident, result, evidence).catch(() => null);
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

  // Delivery state: the journal (observe mode delivers nothing and needs none), opened in the try below.
  let journal: Journal | null = null;
  let dctx: DeliverContext | null = null;
  const branch = `suture/${shortFingerprint(incident.fingerprint)}`;
  const finishDelivered = (out: Delivered | Duplicate, policy?: PolicyResult['decision']) => {
    result.pullRequest = out.proposal;
    if (out.kind === 'duplicate') {
      result.branch = out.branch;
      return finish('duplicate', out.reason);
    }
    const d = out.delivery;
    result.branch = d.branch;
    result.commit = d.commit;
    result.chosen ??= d.candidate;
    result.notes.push(...out.notes);
    const where = out.proposal ? out.proposal.url : d.branch;
    const was = out.resumed ? ' (delivery resumed from the journal)' : '';
    const decision = policy ?? d.decision;
    if (out.merge?.state === 'merged')
      return finish('fixed', `verified fix ${d.candidate} merged${was}: ${out.merge.detail}`);
    if (d.mode === 'auto' && decision !== 'allow') {
      return finish(
        'proposed',
        `verified fix ${d.candidate} on ${where}${was}: policy says ${decision}, so a human must approve even in auto mode`,
      );
    }
    if (out.merge?.state === 'queued') {
      return finish(
        'proposed',
        `verified fix ${d.candidate} on ${where}${was}; merges once its checks pass: ${out.merge.detail}`,
      );
    }
    if (out.merge)
      return finish('proposed', `verified fix ${d.candidate} on ${where}${was}; not merged yet: ${out.merge.detail}`);
    return finish('proposed', `verified fix ${d.candidate} on ${where}${was} (policy: ${decision}); awaiting review`);
  };

  try {
    if (opts.mode !== 'observe') {
      // The provider first: a bad provider setting (a missing token) stops the heal before any work.
      const provider =
        opts.provider !== undefined
          ? opts.provider
          : await createProvider({ repoDir: repo, stateDir: opts.stateDir, localMerge: localFastForward(repo) });
      journal = new Journal(opts.stateDir);
      dctx = { repo, journal, provider, progress: p };
    }
    p(`incident ${incident.id}: ${incident.summary}`);
    if (!incident.trace) return await finish('escalated', 'the incident carries no stack trace: a human must look');

    // Already delivered, being delivered, or killed half-way: decided before any costly stage runs.
    const delivering = dctx;
    if (delivering) {
      const key = {
        repoKey: await repoKey(repo),
        fingerprint: incident.fingerprint,
        branch,
        incident: { id: incident.id, detectedAt: incident.detectedAt },
      };
      const existing = await existingDelivery(delivering, key);
      if (existing.kind === 'duplicate') return await finishDelivered(existing);
      if (existing.kind === 'resume') {
        const resumed = await stage(
          ctx,
          'deliver',
          () => resumeDelivery(delivering, existing.delivery),
          describeDelivery,
        );
        if (resumed) return await finishDelivered(resumed);
      }
    }

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
        const i = candidates.indexOf(c);
        const message = commitMessage(incident, c, verdictTrailer(verdicts[i]!));
        const commit = await commitPatch({ repo, base, patch: c.patch, message });
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
        return { c, commit, policy, message };
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

    if (!delivering) throw new Error('internal: delivery without a journal');

    // Deliver: onto origin's default branch as it is now. When it has advanced past the healed base, the
    // fix is rebased onto it and verified and gated again there (at most twice), then delivered.
    let current = {
      base,
      commit: chosen.commit,
      policy: chosen.policy,
      verdict: verdicts[candidates.indexOf(chosen.c)]!,
    };
    let target: string | null = null;
    for (let rebases = 0; ; rebases++) {
      // Rebased twice and origin moved again: deliver on the last base verified; the provider shows it behind.
      const check: OriginCheck =
        rebases < 2
          ? await checkOrigin({
              repo,
              base: current.base,
              patch: chosen.c.patch,
              message: chosen.message,
              push: opts.push,
            })
          : {
              kind: 'current',
              target,
              note: 'origin kept moving during verification: the fix is delivered on the last base it verified on',
            };
      target = check.target;
      if (check.kind === 'rebased') {
        p(`origin/${check.target} advanced to ${check.onto.slice(0, 12)}: ${check.status}`);
        const again = await reverify(check.onto, chosen.c);
        if (again.verdict.verdict !== 'pass') {
          return await finish(
            'no-fix',
            `the fix no longer verifies on origin/${check.target} (${check.onto.slice(0, 12)}): ${again.verdict.reasons[0] ?? 'failed'}`,
          );
        }
        if (again.policy.decision === 'deny') {
          return await finish(
            'rejected',
            `on origin/${check.target} (${check.onto.slice(0, 12)}) the policy denies the fix`,
          );
        }
        current = { base: check.onto, commit: again.commit, policy: again.policy, verdict: again.verdict };
        result.rebased = { onto: check.onto, target: check.target, verdict: again.verdict, policy: again.policy };
        continue;
      }
      if (check.kind === 'conflict') {
        result.notes.push(
          `origin/${check.target} advanced to ${check.onto.slice(0, 12)} and the fix does not apply there (${check.detail}): it is delivered on ${current.base.slice(0, 12)}, a human must rebase it`,
        );
      } else if (check.note) result.notes.push(check.note);
      const body = renderPullRequestBody({
        incident,
        diagnosis: result.diagnosis,
        candidates: result.candidates,
        chosen: chosen.c.id,
        patch: chosen.c.patch,
        branch,
        commit: current.commit,
        mode: opts.mode as 'propose' | 'auto',
        // The canary plan is the whole loop's to fill in (src/canary) once a Rollout is configured.
        canary: null,
        ...(delivering.provider ? { maxChars: delivering.provider.bodyLimit } : {}),
      });
      const plan = {
        repo: await repoKey(repo),
        fingerprint: incident.fingerprint,
        incident: incident.id,
        branch,
        base: current.base,
        commit: current.commit,
        candidate: chosen.c.id,
        decision: current.policy.decision as 'allow' | 'review',
        mode: opts.mode as 'propose' | 'auto',
        push: opts.push,
        request: {
          title: chosen.message.split('\n')[0] ?? `fix(${incident.service})`,
          body,
          labels: ['suture', `policy:${current.policy.decision}`],
          reviewers: await reviewersFor(delivering.provider, repo, current.base, current.commit),
          draft: current.policy.decision !== 'allow',
          incident: { id: incident.id, detectedAt: incident.detectedAt },
        },
      };
      const out = await stage(ctx, 'deliver', () => deliver(delivering, plan, target), describeDelivery);
      return await finishDelivered(out, current.policy.decision);
    }

    /** The chosen fix verified and gated again on origin's newer tip; its commit there, with that verdict. */
    async function reverify(onto: string, c: Candidate) {
      const verdict = await stage(
        ctx,
        'reverify',
        async () => {
          const rebasedTree = await exportTree(repo, onto);
          try {
            const baseline = await prepareBaseline({
              tree: rebasedTree,
              config: loadServiceConfig(rebasedTree, opts.configFile),
              incident,
              candidates: [c],
              repoId: await repoIdentity(repo),
              progress: p,
            });
            return await verifyCandidate(baseline, c);
          } finally {
            await removeTree(rebasedTree);
          }
        },
        (v) => v.verdict,
      );
      const message = commitMessage(incident, c, verdictTrailer(verdict));
      const commit = await commitPatch({ repo, base: onto, patch: c.patch, message });
      const policy = await stage(
        ctx,
        'regate',
        () => gateCandidate({ repo, base: onto, head: commit, candidate: c, verdict, incident, mode: opts.mode }),
        (r) => r.decision,
      );
      return { verdict, commit, policy };
    }
  } finally {
    journal?.close();
    await removeTree(tree);
  }
}

/**
 * Who CODEOWNERS (read at the base revision) asks to review the change, for the platforms that have
 * reviewers. A CODEOWNERS suture cannot read costs the reviewers, not the delivery.
 */
async function reviewersFor(provider: Provider | null, repo: string, base: string, commit: string): Promise<Reviewers> {
  const none = { users: [], teams: [] };
  if (!provider || provider.name === 'local') return none;
  try {
    const paths = await changedPaths(repo, base, commit);
    return await codeOwnersFor({ repoDir: repo, base, paths, flavor: provider.name });
  } catch {
    return none;
  }
}

function describeDelivery(out: Delivered | Duplicate | null): string {
  if (!out) return 'nothing to resume';
  if (out.kind === 'duplicate') return `duplicate: ${out.reason}`;
  const d = out.delivery;
  return `${d.branch} at ${d.commit.slice(0, 12)}${out.proposal ? `, ${out.proposal.url}` : ''}${out.merge ? `, merge: ${out.merge.state}` : ''}${out.resumed ? ' (resumed)' : ''}`;
}
