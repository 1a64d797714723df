/**
 * The delivery core: the chosen, verified, gated fix becomes suture's branch on origin and a proposal
 * through the configured provider, exactly once. Every step is journaled before the next begins
 * (journal.ts), so a heal killed half-way is resumed by the next one from where it stopped, and a second
 * heal of the same fingerprint finds the first's delivery and stops as a duplicate.
 *
 * Steps, in order: `committed` (the fix commit's objects enter the repository: until then they live in
 * suture's scratch store), `branched` (the local suture/<fp> ref), `pushed` (origin's suture/<fp>, created
 * under a lease, never overwriting a branch suture did not make), `proposed` (the provider's pull/merge
 * request, or none), `merged` (auto mode with policy allow, through the provider).
 *
 * Before any of it, `checkOrigin` looks at origin's default branch: when it advanced past the healed base,
 * the single fix commit is rebased onto it and the result is `rebased: needs re-verify`: the orchestrator
 * verifies and gates the rebased commit again before delivering it. A rebase that conflicts is reported and
 * the fix is delivered on the base it was verified on.
 *
 * Test hook (documented in README): SUTURE_TEST_CRASH_AT=after-commit|after-branch|after-push|after-propose
 * kills this process with SIGKILL right after that step is journaled, so tests can prove the resume.
 */
import { SutureError } from '../errors.ts';
import { parseTrailers, type Trailers } from '../pipeline/commit-message.ts';
import { type Delivery, type DeliveryPlan, type Journal, ownerAlive, phaseAtLeast } from './journal.ts';
import type { MergeOptions, MergeOutcome, ProposalRef, ProposeRequest, Provider } from './providers/types.ts';
import { describeGitFailure } from './remote.ts';
import {
  adoptCommit,
  branchExists,
  checkedOutBranch,
  commitPatch,
  createBranch,
  fetchOriginBranch,
  hasRemote,
  inRepository,
  isAncestor,
  localBranchTip,
  mergeFix,
  originHead,
  pushWithLease,
  readCommit,
  remoteTip,
  SUTURE_AUTHOR,
} from './repo.ts';

export type CrashPoint = 'after-commit' | 'after-branch' | 'after-push' | 'after-propose';

/** Test-only: dies here, as a crash would, when SUTURE_TEST_CRASH_AT names this point. */
function crashPoint(point: CrashPoint): void {
  if (process.env.SUTURE_TEST_CRASH_AT === point) process.kill(process.pid, 'SIGKILL');
}

/** The operator's switch for the local provider's merge (and the branch-only delivery's). */
export function localMergeAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.SUTURE_LOCAL_MERGE === 'fast-forward';
}

const LOCAL_MERGE_OFF =
  'there is no platform to merge through: suture merges locally only when the operator allows it (SUTURE_LOCAL_MERGE=fast-forward)';

/**
 * "Merging through the provider" for the local provider (hand it to localProvider as `merge`): with no
 * platform, a merge is a push to origin's default branch, so it happens only when the operator allows it
 * (SUTURE_LOCAL_MERGE=fast-forward), and then only as a fast-forward from the fix commit's parent (the base
 * it was verified on) under a lease: a default branch that moved on means no merge. Otherwise `blocked`:
 * the heal stays `proposed`.
 */
export function localFastForward(
  repo: string,
  env: NodeJS.ProcessEnv = process.env,
): (pr: ProposalRef, opts: MergeOptions) => Promise<MergeOutcome> {
  return async (pr, opts) => {
    if (!localMergeAllowed(env)) return { state: 'blocked', detail: LOCAL_MERGE_OFF };
    const sha = opts.sha ?? (await remoteTip(repo, pr.branch));
    if (!sha) return { state: 'blocked', detail: `origin has no ${pr.branch}` };
    const parent = (await readCommit(repo, sha))?.parents[0];
    if (!parent) return { state: 'blocked', detail: `${sha.slice(0, 12)} has no parent to fast-forward from` };
    const head = await originHead(repo).catch(() => null);
    const m = await mergeFix({
      repo,
      base: parent,
      commit: sha,
      push: true,
      ...(head ? { target: head.branch } : {}),
    });
    return { state: m.merged ? 'merged' : 'blocked', detail: m.detail };
  };
}

export interface DeliverContext {
  /** The repository's top level. */
  repo: string;
  journal: Journal;
  /** Null: branch-only delivery (the branch pushed, no proposal). */
  provider: Provider | null;
  progress: (line: string) => void;
}

export interface Delivered {
  kind: 'delivered';
  delivery: Delivery;
  pushed: boolean;
  proposal: ProposalRef | null;
  merge: MergeOutcome | null;
  /** The delivery was an earlier heal's, continued from the journal. */
  resumed: boolean;
  notes: string[];
}

export interface Duplicate {
  kind: 'duplicate';
  branch: string;
  reason: string;
  proposal: ProposalRef | null;
}

// ---------------------------------------------------------------------------------------------------------
// Pure decisions

export type BranchPush =
  | { action: 'create' }
  | { action: 'up-to-date' }
  | { action: 'replace'; lease: string }
  | { action: 'refuse'; reason: string };

/**
 * What to do with origin's `branch` before pushing `commit` there. A branch that is not there is created;
 * one already at `commit` is left alone. Any other tip is overwritten only when suture made it: its commit
 * carries suture's trailers for this fingerprint, is authored and committed by suture, and the journal
 * records suture creating it (trailers alone can be copied by anyone). Even then under a lease on that tip.
 */
export function decideBranchPush(input: {
  branch: string;
  commit: string;
  remoteTip: string | null;
  fingerprint: string;
  /** The remote tip's commit, when it could be read. */
  tip: { trailers: Trailers; authorEmail: string; committerEmail: string } | null;
  /** Commits the journal records suture creating for this fingerprint. */
  journaled: ReadonlySet<string>;
}): BranchPush {
  const { remoteTip, commit, branch } = input;
  if (remoteTip === null) return { action: 'create' };
  if (remoteTip === commit) return { action: 'up-to-date' };
  const t = input.tip;
  const marked =
    t !== null &&
    t.trailers['Suture-Fingerprint'] === input.fingerprint &&
    t.authorEmail === SUTURE_AUTHOR.email &&
    t.committerEmail === SUTURE_AUTHOR.email;
  if (marked && input.journaled.has(remoteTip)) return { action: 'replace', lease: remoteTip };
  return {
    action: 'refuse',
    reason: `origin's ${branch} is at ${remoteTip.slice(0, 12)}, which suture did not create: it is not overwritten`,
  };
}

/** How origin's default branch stands to the healed base. */
export function originMoved(input: {
  base: string;
  tip: string;
  tipIsAncestorOfBase: boolean;
  baseIsAncestorOfTip: boolean;
}): 'current' | 'advanced' | 'behind' | 'diverged' {
  if (input.tip === input.base) return 'current';
  if (input.tipIsAncestorOfBase) return 'behind';
  return input.baseIsAncestorOfTip ? 'advanced' : 'diverged';
}

// ---------------------------------------------------------------------------------------------------------
// Before verification: is this fingerprint already being, or already, delivered?

export type Existing =
  | { kind: 'none' }
  | Duplicate
  /** An unfinished delivery whose process is gone: continue it (resumeDelivery). */
  | { kind: 'resume'; delivery: Delivery };

/** Whether a finished delivery's branch or proposal is still open. */
async function stillOpen(ctx: DeliverContext, d: Delivery): Promise<{ open: boolean; proposal: ProposalRef | null }> {
  if (ctx.provider && d.proposal) {
    const proposal = await ctx.provider.findOpen(d.fingerprint, d.branch);
    return { open: proposal !== null, proposal };
  }
  return { open: await branchExists(ctx.repo, d.branch), proposal: null };
}

export async function existingDelivery(
  ctx: DeliverContext,
  key: { repoKey: string; fingerprint: string; branch: string; incident: { id: string; detectedAt: string } },
): Promise<Existing> {
  const open = ctx.journal.open(key.repoKey, key.fingerprint);
  if (open && !open.finished) {
    if (open.owner !== ctx.journal.owner && ownerAlive(open.owner, open.updatedAt)) {
      return {
        kind: 'duplicate',
        branch: open.branch,
        reason: `another heal is delivering ${open.branch} for this fingerprint`,
        proposal: null,
      };
    }
    return { kind: 'resume', delivery: open };
  }
  if (open) {
    const still = await stillOpen(ctx, open);
    if (still.open) {
      if (ctx.provider && still.proposal) {
        const counted = await ctx.provider
          .reoccurred(still.proposal, key.incident)
          .catch((err: Error) =>
            ctx.progress(`note: the re-occurrence was not counted on the proposal: ${err.message}`),
          );
        if (counted) still.proposal = counted;
      }
      return {
        kind: 'duplicate',
        branch: open.branch,
        reason: still.proposal
          ? `${still.proposal.url} is open for this fingerprint`
          : `branch ${open.branch} already exists for this fingerprint`,
        proposal: still.proposal,
      };
    }
    ctx.journal.closeDelivery(open, 'its branch or proposal is no longer open');
  }
  if (await branchExists(ctx.repo, key.branch)) {
    return {
      kind: 'duplicate',
      branch: key.branch,
      reason: `branch ${key.branch} already exists for this fingerprint`,
      proposal: null,
    };
  }
  return { kind: 'none' };
}

// ---------------------------------------------------------------------------------------------------------
// Origin moved: rebase the single commit

export type OriginCheck =
  | { kind: 'current'; target: string | null; note?: string }
  | { kind: 'rebased'; status: 'rebased: needs re-verify'; target: string; onto: string; commit: string }
  | { kind: 'conflict'; target: string; onto: string; detail: string };

/**
 * Where origin's default branch is relative to `base`. When it advanced past it, the fix (`patch`) is
 * committed again on top of origin's tip (objects fetched into suture's scratch store only).
 */
export async function checkOrigin(opts: Parameters<typeof commitPatch>[0] & { push: boolean }): Promise<OriginCheck> {
  const local = await checkedOutBranch(opts.repo);
  if (!opts.push || !(await hasRemote(opts.repo))) return { kind: 'current', target: local };
  // origin's default branch; when its HEAD names no branch there, the one checked out here.
  let target: string | null;
  let tip: string | null;
  try {
    target = (await originHead(opts.repo))?.branch ?? local;
    tip = target ? await remoteTip(opts.repo, target) : null;
  } catch (err) {
    return { kind: 'current', target: local, note: (err as Error).message };
  }
  if (!target || !tip) return { kind: 'current', target };
  if (tip === opts.base) return { kind: 'current', target };
  try {
    tip = await fetchOriginBranch(opts.repo, target);
  } catch (err) {
    return { kind: 'current', target, note: `origin was not compared: ${(err as Error).message}` };
  }
  const moved = originMoved({
    base: opts.base,
    tip,
    tipIsAncestorOfBase: await isAncestor(opts.repo, tip, opts.base),
    baseIsAncestorOfTip: await isAncestor(opts.repo, opts.base, tip),
  });
  if (moved === 'current' || moved === 'behind') return { kind: 'current', target };
  if (moved === 'diverged') {
    return {
      kind: 'current',
      target,
      note: `the healed base ${opts.base.slice(0, 12)} is not in origin/${target}'s history: the fix stays on it`,
    };
  }
  try {
    const commit = await commitPatch({ repo: opts.repo, base: tip, patch: opts.patch, message: opts.message });
    return { kind: 'rebased', status: 'rebased: needs re-verify', target, onto: tip, commit };
  } catch (err) {
    if (!(err instanceof SutureError) || err.code !== 'BAD_INPUT') throw err;
    return { kind: 'conflict', target, onto: tip, detail: err.message };
  }
}

// ---------------------------------------------------------------------------------------------------------
// The steps

/** Pushes the delivery's commit to origin's branch, never overwriting a branch suture did not create. */
async function pushFix(ctx: DeliverContext, d: Delivery): Promise<void> {
  const tip = await remoteTip(ctx.repo, d.branch);
  const tipCommit = tip && tip !== d.commit ? await readCommit(ctx.repo, tip) : null;
  const decision = decideBranchPush({
    branch: d.branch,
    commit: d.commit,
    remoteTip: tip,
    fingerprint: d.fingerprint,
    tip: tipCommit ? { ...tipCommit, trailers: parseTrailers(tipCommit.message) } : null,
    journaled: new Set(ctx.journal.commitsFor(d.repo, d.fingerprint)),
  });
  const fail = (why: string) => new SutureError('GIT', `created ${d.branch} but could not push it to origin: ${why}`);
  if (decision.action === 'refuse') throw fail(decision.reason);
  if (decision.action === 'up-to-date') return;
  const failure = await pushWithLease(
    ctx.repo,
    d.branch,
    d.commit,
    decision.action === 'replace' ? decision.lease : null,
  );
  if (failure) throw fail(describeGitFailure(failure));
}

function requestOf(d: Delivery, provider: Provider): ProposeRequest {
  const body =
    d.request.body.length > provider.bodyLimit ? d.request.body.slice(0, provider.bodyLimit) : d.request.body;
  return { ...d.request, body, fingerprint: d.fingerprint, branch: d.branch, base: d.target ?? 'main' };
}

async function runSteps(ctx: DeliverContext, start: Delivery, resumed: boolean): Promise<Delivered> {
  const { journal, repo, provider } = ctx;
  const notes: string[] = [];
  let d = start;
  if (!phaseAtLeast(d.phase, 'committed')) {
    await adoptCommit(repo, d.commit);
    d = journal.advance(d, 'committed', { detail: d.commit });
    crashPoint('after-commit');
  }
  if (!phaseAtLeast(d.phase, 'branched')) {
    const local = await localBranchTip(repo, d.branch);
    if (local === null) await createBranch(repo, d.branch, d.commit);
    else if (local !== d.commit) {
      throw new SutureError('GIT', `${d.branch} already exists at ${local.slice(0, 12)}: it is not overwritten`);
    }
    d = journal.advance(d, 'branched');
    crashPoint('after-branch');
  }
  const pushed = d.push && (await hasRemote(repo));
  if (!phaseAtLeast(d.phase, 'pushed')) {
    if (pushed) {
      ctx.progress(`pushing ${d.branch} to origin`);
      await pushFix(ctx, d);
    }
    d = journal.advance(d, 'pushed', { detail: pushed ? 'origin' : 'not pushed' });
    crashPoint('after-push');
  }
  let proposal = d.proposal;
  if (!phaseAtLeast(d.phase, 'proposed')) {
    if (provider && pushed) {
      const { action, notes: said, ...ref } = await provider.propose(requestOf(d, provider));
      ctx.progress(`${action} ${ref.url}`);
      notes.push(...said);
      proposal = ref;
    } else if (provider) notes.push('no proposal: the branch was not pushed');
    d = journal.advance(d, 'proposed', { proposal, detail: proposal?.url ?? 'no proposal' });
    crashPoint('after-propose');
  }
  let merge: MergeOutcome | null = null;
  if (d.mode === 'auto' && d.decision === 'allow' && !phaseAtLeast(d.phase, 'merged')) {
    merge = await mergeStep(ctx, d, proposal, pushed);
    if (merge.state === 'merged') d = journal.advance(d, 'merged', { detail: merge.detail });
  } else if (phaseAtLeast(d.phase, 'merged')) {
    merge = { state: 'merged', detail: 'merged (journaled)' };
  }
  d = journal.advance(d, d.phase, { finished: true });
  return { kind: 'delivered', delivery: d, pushed, proposal, merge, resumed, notes };
}

/**
 * Auto mode's merge: through the provider's proposal (the platform's auto-merge, or once checks pass),
 * pinned to the verified commit. Without a provider (branch-only delivery): the operator's local
 * fast-forward, as the local provider does, or nothing.
 */
async function mergeStep(
  ctx: DeliverContext,
  d: Delivery,
  proposal: ProposalRef | null,
  pushed: boolean,
): Promise<MergeOutcome> {
  if (ctx.provider) {
    if (!proposal) {
      return {
        state: 'blocked',
        detail: pushed
          ? 'there is no proposal to merge through'
          : 'no origin to merge into (or --no-push): the fix stays on its local branch',
      };
    }
    return ctx.provider.merge(proposal, { auto: true, sha: d.commit });
  }
  if (!localMergeAllowed()) return { state: 'blocked', detail: LOCAL_MERGE_OFF };
  const m = await mergeFix({
    repo: ctx.repo,
    base: d.base,
    commit: d.commit,
    push: pushed || d.push,
    ...(d.target ? { target: d.target } : {}),
  });
  return { state: m.merged ? 'merged' : 'blocked', detail: m.detail };
}

/**
 * Delivers a new fix: claims the fingerprint in the journal (atomically: of two heals delivering it at once,
 * one wins, the other is a duplicate), then runs the steps. A crashed earlier delivery found in the claim is
 * continued instead.
 */
export async function deliver(
  ctx: DeliverContext,
  plan: DeliveryPlan,
  target: string | null,
): Promise<Delivered | Duplicate> {
  for (;;) {
    const claim = ctx.journal.claim(plan);
    if (claim.kind === 'busy' || claim.kind === 'delivered') {
      return {
        kind: 'duplicate',
        branch: claim.delivery.branch,
        reason:
          claim.kind === 'busy'
            ? `another heal is delivering ${claim.delivery.branch} for this fingerprint`
            : `${claim.delivery.branch} was already delivered for this fingerprint`,
        proposal: claim.delivery.proposal,
      };
    }
    if (claim.kind === 'resume') {
      const resumed = await continueResumed(ctx, claim.delivery);
      if (resumed) return resumed;
      continue; // it was abandoned and closed: claim afresh
    }
    const d = target ? ctx.journal.advance(claim.delivery, 'claimed', { target }) : claim.delivery;
    return runSteps(ctx, d, false);
  }
}

/**
 * Continues an unfinished delivery whose process died (found before verification: heal skips straight to
 * here). Null when there was nothing to continue; the caller heals afresh.
 */
export async function resumeDelivery(ctx: DeliverContext, found: Delivery): Promise<Delivered | Duplicate | null> {
  const claim = ctx.journal.claim(found);
  // `fresh`: it was closed in between, and ours is a new claim of a commit not in the repository: given back.
  if (claim.kind === 'resume' || claim.kind === 'fresh') return continueResumed(ctx, claim.delivery);
  return {
    kind: 'duplicate',
    branch: found.branch,
    reason: `another heal is delivering ${found.branch} for this fingerprint`,
    proposal: claim.delivery.proposal,
  };
}

/**
 * One killed before its commit reached the repository left nothing to continue (the commit lived in that
 * process's scratch store): it is closed, and null says so.
 */
async function continueResumed(ctx: DeliverContext, d: Delivery): Promise<Delivered | null> {
  if (!phaseAtLeast(d.phase, 'committed') || !(await inRepository(ctx.repo, d.commit))) {
    ctx.journal.closeDelivery(d, 'abandoned: the process died before its commit reached the repository');
    return null;
  }
  ctx.progress(`resuming the delivery of ${d.branch} from the journal (it stopped after: ${d.phase})`);
  return runSteps(ctx, d, true);
}
