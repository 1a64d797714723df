/**
 * Stage: deliver. The chosen fix onto origin's default branch as it is now, through the provider, exactly
 * once per fingerprint (the journal). When origin advanced past the healed base, the fix is rebased onto it
 * and verified and gated again there (at most twice), then delivered.
 */
import { canaryPlanFor } from '../../canary/stage.ts';
import { loadServiceConfig } from '../../config/service.ts';
import type { Candidate, Diagnosis } from '../../diagnose/index.ts';
import {
  checkOrigin,
  type DeliverContext,
  type Delivered,
  type Duplicate,
  deliver,
  existingDelivery,
  type OriginCheck,
  resumeDelivery,
} from '../../gitops/deliver.ts';
import { codeOwnersFor } from '../../gitops/providers/index.ts';
import type { Provider, Reviewers } from '../../gitops/providers/types.ts';
import { changedPaths } from '../../gitops/remote-info.ts';
import { commitPatch, repoKey } from '../../gitops/repo.ts';
import { renderPullRequestBody } from '../../report/pull-request.ts';
import { repoIdentity } from '../../sandbox/prepare.ts';
import { exportTree, removeTree } from '../../sandbox/trees.ts';
import { prepareBaseline, type Verdict, verifyCandidate } from '../../sandbox/verify.ts';
import { commitMessage, verdictTrailer } from '../commit-message.ts';
import type { Choice } from '../decide.ts';
import { gateCandidate, type PolicyResult } from '../gate.ts';
import { Halt } from '../halt.ts';
import { type Run, timed } from '../run.ts';
import type { CandidateResult, Mode } from '../types.ts';

function context(run: Run): DeliverContext {
  if (!run.delivery) throw new Error('internal: delivery without a journal');
  return { repo: run.repo, journal: run.delivery.journal, provider: run.delivery.provider, progress: run.progress };
}

/** Already delivered, being delivered, or killed half-way: decided before any costly stage runs. */
export async function priorDelivery(run: Run): Promise<Delivered | Duplicate | null> {
  if (!run.delivery) return null;
  const dctx = context(run);
  const existing = await existingDelivery(dctx, {
    repoKey: await repoKey(run.repo),
    fingerprint: run.incident.fingerprint,
    branch: run.branch,
    incident: { id: run.incident.id, detectedAt: run.incident.detectedAt },
  });
  if (existing.kind === 'duplicate') return existing;
  if (existing.kind !== 'resume') return null;
  return timed(run, 'deliver', () => resumeDelivery(dctx, existing.delivery), describeDelivery);
}

export interface DeliveredFix {
  out: Delivered | Duplicate;
  policy: PolicyResult['decision'];
  rebased: { onto: string; target: string; verdict: Verdict; policy: PolicyResult } | null;
  notes: string[];
}

export async function deliverFix(
  run: Run,
  choice: Choice,
  mode: Exclude<Mode, 'observe'>,
  report: { diagnosis: Diagnosis; candidates: CandidateResult[] },
): Promise<DeliveredFix> {
  const dctx = context(run);
  const { incident, repo, opts } = run;
  const { chosen } = choice;
  const c = chosen.candidate;
  const notes: string[] = [];
  let rebased: DeliveredFix['rebased'] = null;
  let current = { base: run.base, commit: chosen.commit, policy: chosen.policy };
  let target: string | null = null;
  for (let rebases = 0; ; rebases++) {
    // Rebased twice and origin moved again: deliver on the last base verified; the provider shows it behind.
    const check: OriginCheck =
      rebases < 2
        ? await checkOrigin({ repo, base: current.base, patch: c.patch, message: chosen.message, push: opts.push })
        : {
            kind: 'current',
            target,
            note: 'origin kept moving during verification: the fix is delivered on the last base it verified on',
          };
    target = check.target;
    if (check.kind === 'rebased') {
      run.progress(`origin/${check.target} advanced to ${check.onto.slice(0, 12)}: ${check.status}`);
      const again = await reverify(run, check.onto, c, mode);
      const at = `origin/${check.target} (${check.onto.slice(0, 12)})`;
      if (again.verdict.verdict !== 'pass')
        throw new Halt('no-fix', `the fix no longer verifies on ${at}: ${again.verdict.reasons[0] ?? 'failed'}`);
      if (again.policy.decision === 'deny') throw new Halt('rejected', `on ${at} the policy denies the fix`);
      current = { base: check.onto, commit: again.commit, policy: again.policy };
      rebased = { onto: check.onto, target: check.target, verdict: again.verdict, policy: again.policy };
      continue;
    }
    if (check.kind === 'conflict') {
      notes.push(
        `origin/${check.target} advanced to ${check.onto.slice(0, 12)} and the fix does not apply there (${check.detail}): it is delivered on ${current.base.slice(0, 12)}, a human must rebase it`,
      );
    } else if (check.note) notes.push(check.note);
    const decision = current.policy.decision as 'allow' | 'review';
    const body = renderPullRequestBody({
      incident,
      diagnosis: report.diagnosis,
      candidates: report.candidates,
      chosen: c.id,
      patch: c.patch,
      branch: run.branch,
      commit: current.commit,
      mode,
      canary: mode === 'auto' ? await canaryPlanFor(run.tree, run.config, opts.env) : null,
      ...(dctx.provider ? { maxChars: dctx.provider.bodyLimit } : {}),
    });
    const plan = {
      repo: await repoKey(repo),
      fingerprint: incident.fingerprint,
      incident: incident.id,
      branch: run.branch,
      base: current.base,
      commit: current.commit,
      candidate: c.id,
      decision,
      mode,
      push: opts.push,
      request: {
        title: chosen.message.split('\n')[0] ?? `fix(${incident.service})`,
        body,
        labels: ['suture', `policy:${decision}`],
        reviewers: await reviewersFor(dctx.provider, repo, current.base, current.commit),
        draft: decision !== 'allow',
        incident: { id: incident.id, detectedAt: incident.detectedAt },
      },
    };
    const out = await timed(run, 'deliver', () => deliver(dctx, plan, target), describeDelivery);
    return { out, policy: current.policy.decision, rebased, notes };
  }
}

/** The chosen fix verified and gated again on origin's newer tip; its commit there, with that verdict. */
async function reverify(run: Run, onto: string, c: Candidate, mode: Mode) {
  const { repo, incident, opts } = run;
  const verdict = await timed(
    run,
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
          progress: run.progress,
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
  const policy = await timed(
    run,
    'regate',
    () => gateCandidate({ repo, base: onto, head: commit, candidate: c, verdict, incident, mode }),
    (r) => r.decision,
  );
  return { verdict, commit, policy };
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
