/**
 * GitHub pull requests through @octokit/rest, with @octokit/plugin-retry (server errors, with backoff) and
 * @octokit/plugin-throttling (primary and secondary rate limits, honouring Retry-After and the reset time,
 * writes spaced as GitHub asks). One proposal per fingerprint: the open pull request is found by its head
 * branch in this repository AND the marker on its body's first line, then updated and commented on; a
 * create that loses a race (422, "already exists") turns into that update. In auto mode a fix merges
 * through its pull request: GitHub's auto-merge when the repository allows it, else a merge once the
 * required checks pass (polled, bounded), pinned to the verified head commit. Never a push to the base.
 *
 * The token comes from the operator's environment (config.ts), is handed to Octokit only, and never
 * appears in a message: errors are rebuilt from the status and GitHub's message (errors.ts).
 */
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { redact } from '../../evidence/redact.ts';
import { safeLine } from '../../incident/display.ts';
import { GITHUB_BODY_LIMIT } from '../../report/pull-request.ts';
import { ProviderError, providerError } from './errors.ts';
import { bodyWithMarker, markerLine, readMarker, reoccurrenceComment, withOccurrences } from './marker.ts';
import { proposeOnce } from './propose.ts';
import type { MergeOutcome, ProposalRef, ProposeRequest, ProposeResult, Provider } from './types.ts';

const SutureOctokit = Octokit.plugin(retry, throttling);
type Client = InstanceType<typeof SutureOctokit>;

export interface GitHubProviderOptions {
  apiUrl: string;
  token: string;
  owner: string;
  repo: string;
  /** Per request, retries included in neither (default 30 s). */
  requestTimeoutMs?: number;
  /** How long a merge waits for required checks (default 10 min), and how often it looks (default 15 s). */
  mergeWaitMs?: number;
  mergePollMs?: number;
  /** Longest rate-limit wait worth sleeping through (default 120 s); longer, the request fails. */
  maxRateLimitWaitS?: number;
  userAgent?: string;
  /** plugin-retry's backoff unit (default 1000 ms: waits of 1, 4, 9 s); tests shorten it. */
  retryBaseMs?: number;
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

// GitHub's REST merge methods, best first: a merge commit keeps the verified commit itself in history.
const METHODS = [
  ['merge', 'allow_merge_commit', 'MERGE'],
  ['squash', 'allow_squash_merge', 'SQUASH'],
  ['rebase', 'allow_rebase_merge', 'REBASE'],
] as const;

const AUTO_MERGE = `mutation($pullRequestId: ID!, $mergeMethod: PullRequestMergeMethod!, $expectedHeadOid: GitObjectID) {
  enablePullRequestAutoMerge(input: {pullRequestId: $pullRequestId, mergeMethod: $mergeMethod, expectedHeadOid: $expectedHeadOid}) {
    pullRequest { number autoMergeRequest { enabledAt } }
  }
}`;

interface RequestErrorLike {
  status?: number;
  message?: string;
  response?: { data?: unknown; headers?: Record<string, string | undefined> };
  errors?: { message?: string; type?: string }[];
}

function asProviderError(err: unknown, action: string): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = (err ?? {}) as RequestErrorLike;
  const data = (e.response?.data ?? {}) as { message?: unknown; errors?: unknown };
  const details = Array.isArray(data.errors)
    ? data.errors.map((d: { message?: string; code?: string; field?: string } | string) =>
        typeof d === 'string' ? d : [d.field, d.message || d.code].filter(Boolean).join(' '),
      )
    : Array.isArray(e.errors)
      ? e.errors.map((d) => d.message ?? '')
      : [];
  const message = typeof data.message === 'string' ? data.message : (e.message ?? String(err));
  // Octokit reports a failed fetch (refused, reset, timed out) as status 500 with no response.
  const answered = e.response !== undefined || (Array.isArray(e.errors) && e.errors.length > 0);
  return providerError({
    platform: 'GitHub',
    action,
    status: answered ? (e.status ?? 200) : null,
    message,
    details,
    envVar: 'GITHUB_TOKEN',
    rateLimited: e.response?.headers?.['x-ratelimit-remaining'] === '0',
  });
}

async function call<T>(action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asProviderError(err, action);
  }
}

const clean = (text: string) => redact(text).text;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export function githubProvider(opts: GitHubProviderOptions): Provider {
  const { owner, repo } = opts;
  const timeoutMs = opts.requestTimeoutMs ?? 30_000;
  const maxWait = opts.maxRateLimitWaitS ?? 120;
  const octokit: Client = new SutureOctokit({
    auth: opts.token,
    baseUrl: opts.apiUrl,
    userAgent: opts.userAgent ?? 'suture',
    log: quiet,
    request: {
      // A stalled connection must not hang a heal: every request has its own deadline.
      fetch: (url: string, init: RequestInit = {}) =>
        fetch(url, {
          ...init,
          signal: init.signal
            ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)])
            : AbortSignal.timeout(timeoutMs),
        }),
    },
    retry: { retries: 3, ...(opts.retryBaseMs === undefined ? {} : { retryAfterBaseValue: opts.retryBaseMs }) },
    throttle: {
      onRateLimit: (after: number, _o: unknown, _k: unknown, count: number) => count < 2 && after <= maxWait,
      onSecondaryRateLimit: (after: number, _o: unknown, _k: unknown, count: number) => count < 2 && after <= maxWait,
    },
  });
  const bodyLimit =
    GITHUB_BODY_LIMIT - markerLine({ fingerprint: '0'.repeat(16), occurrences: 999_999_999 }).length - 1;

  type Pull = Awaited<ReturnType<Client['rest']['pulls']['get']>>['data'];
  type ListedPull = Awaited<ReturnType<Client['rest']['pulls']['list']>>['data'][number];

  const refOf = (pr: Pull | ListedPull, occurrences: number): ProposalRef => ({
    number: pr.number,
    url: pr.html_url,
    branch: pr.head.ref,
    headSha: pr.head.sha,
    occurrences,
    draft: Boolean(pr.draft),
  });

  async function findOpen(fingerprint: string, branch: string): Promise<ProposalRef | null> {
    const pulls = await call('listing open pull requests', () =>
      octokit.rest.pulls.list({ owner, repo, state: 'open', head: `${owner}:${branch}`, per_page: 30 }),
    );
    for (const pr of pulls.data) {
      // Same repository only: a fork's branch of the same name is somebody else's.
      if (pr.head.ref !== branch || pr.head.repo?.full_name?.toLowerCase() !== `${owner}/${repo}`.toLowerCase())
        continue;
      const m = readMarker(pr.body);
      if (m?.fingerprint === fingerprint) return refOf(pr, m.occurrences);
    }
    return null;
  }

  async function comment(pr: ProposalRef, text: string): Promise<void> {
    await call('commenting', () =>
      octokit.rest.issues.createComment({ owner, repo, issue_number: num(pr), body: clean(text) }),
    );
  }

  async function label(pr: ProposalRef, labels: string[]): Promise<void> {
    const clean = [...new Set(labels.map((l) => safeLine(l, 50)).filter(Boolean))];
    if (clean.length === 0) return;
    await call('labelling', () => octokit.rest.issues.addLabels({ owner, repo, issue_number: num(pr), labels: clean }));
  }

  async function requestReviewers(pr: ProposalRef, req: ProposeRequest, notes: string[]): Promise<void> {
    const users = req.reviewers.users.slice(0, 15);
    // A team can review only in its own organisation: `org/team` → the slug, when org is the owner.
    const teams: string[] = [];
    for (const t of req.reviewers.teams) {
      const [org, slug] = t.split('/');
      if (org?.toLowerCase() === owner.toLowerCase() && slug) teams.push(slug);
      else notes.push(`team @${t} is not in ${owner}: not requested as a reviewer`);
    }
    if (users.length + teams.length === 0) return;
    try {
      await call('requesting reviewers', () =>
        octokit.rest.pulls.requestReviewers({
          owner,
          repo,
          pull_number: num(pr),
          reviewers: users,
          team_reviewers: teams.slice(0, 15 - users.length),
        }),
      );
    } catch (err) {
      // A code owner who cannot review (not a collaborator, the author) must not stop the proposal.
      if (err instanceof ProviderError && err.kind === 'validation') notes.push(err.message);
      else throw err;
    }
  }

  async function create(req: ProposeRequest): Promise<ProposeResult | null> {
    let created: Awaited<ReturnType<Client['rest']['pulls']['create']>>;
    try {
      created = await octokit.rest.pulls.create({
        owner,
        repo,
        head: req.branch,
        base: req.base,
        title: safeLine(req.title, 250),
        body: clean(bodyWithMarker({ fingerprint: req.fingerprint, occurrences: 1 }, req.body, GITHUB_BODY_LIMIT)),
        draft: req.draft,
      });
    } catch (err) {
      const e = asProviderError(err, 'opening the pull request');
      // Another run opened it first: update that one instead of failing.
      if (e.status === 422 && /already exists/i.test(e.platformMessage)) return null;
      throw e;
    }
    const ref = refOf(created.data, 1);
    const notes: string[] = [];
    await label(ref, req.labels);
    await requestReviewers(ref, req, notes);
    return { ...ref, action: 'created', notes };
  }

  async function update(existing: ProposalRef, req: ProposeRequest): Promise<ProposeResult> {
    const occurrences = existing.occurrences + 1;
    const updated = await call('updating the pull request', () =>
      octokit.rest.pulls.update({
        owner,
        repo,
        pull_number: num(existing),
        title: safeLine(req.title, 250),
        body: clean(bodyWithMarker({ fingerprint: req.fingerprint, occurrences }, req.body, GITHUB_BODY_LIMIT)),
      }),
    );
    await comment(existing, reoccurrenceComment({ fingerprint: req.fingerprint, occurrences }, req.incident, true));
    await label(existing, req.labels);
    return { ...refOf(updated.data, occurrences), action: 'updated', notes: [] };
  }

  async function checksDetail(sha: string): Promise<{ failed: string | null; pending: boolean }> {
    const [runs, status] = await Promise.all([
      call('reading check runs', () => octokit.rest.checks.listForRef({ owner, repo, ref: sha, per_page: 100 })),
      call('reading commit statuses', () => octokit.rest.repos.getCombinedStatusForRef({ owner, repo, ref: sha })),
    ]);
    const bad = new Set(['failure', 'timed_out', 'cancelled', 'action_required', 'startup_failure']);
    const failedRun = runs.data.check_runs.find((r) => r.status === 'completed' && bad.has(r.conclusion ?? ''));
    const failedStatus = status.data.statuses.find((s) => s.state === 'failure' || s.state === 'error');
    const failed = failedRun
      ? `check ${safeLine(failedRun.name, 100)} ${failedRun.conclusion}`
      : failedStatus
        ? `status ${safeLine(failedStatus.context, 100)} ${failedStatus.state}`
        : null;
    const pending =
      runs.data.check_runs.some((r) => r.status !== 'completed') ||
      status.data.statuses.some((s) => s.state === 'pending');
    return { failed, pending };
  }

  async function mergeNow(pr: ProposalRef, sha: string, method: 'merge' | 'squash' | 'rebase'): Promise<MergeOutcome> {
    try {
      const r = await octokit.rest.pulls.merge({ owner, repo, pull_number: num(pr), sha, merge_method: method });
      return r.data.merged
        ? { state: 'merged', detail: `merged (${method}) as ${r.data.sha.slice(0, 12)}` }
        : { state: 'blocked', detail: safeLine(r.data.message, 300) };
    } catch (err) {
      const e = asProviderError(err, 'merging the pull request');
      if ([405, 409, 422].includes(e.status ?? 0)) return { state: 'blocked', detail: e.message };
      throw e;
    }
  }

  async function merge(pr: ProposalRef, mopts: { auto: boolean; sha?: string }): Promise<MergeOutcome> {
    const settings = (await call('reading the repository', () => octokit.rest.repos.get({ owner, repo }))).data;
    const method = METHODS.find(([, allow]) => settings[allow] !== false);
    if (!method) return { state: 'blocked', detail: 'the repository allows no merge method' };
    const deadline = Date.now() + (opts.mergeWaitMs ?? 600_000);
    let triedAuto = false;
    for (;;) {
      const p = (
        await call('reading the pull request', () => octokit.rest.pulls.get({ owner, repo, pull_number: num(pr) }))
      ).data;
      if (p.merged)
        return {
          state: 'merged',
          detail: `already merged${p.merge_commit_sha ? ` as ${p.merge_commit_sha.slice(0, 12)}` : ''}`,
        };
      if (p.state !== 'open') return { state: 'blocked', detail: 'the pull request is closed' };
      if (p.draft) return { state: 'blocked', detail: 'the pull request is a draft: a human must mark it ready' };
      const sha = mopts.sha ?? p.head.sha;
      if (p.head.sha !== sha) {
        return {
          state: 'blocked',
          detail: `its head moved to ${p.head.sha.slice(0, 12)}, not the verified ${sha.slice(0, 12)}`,
        };
      }
      if (mopts.auto && settings.allow_auto_merge && !triedAuto) {
        triedAuto = true;
        try {
          await octokit.graphql(AUTO_MERGE, {
            pullRequestId: p.node_id,
            mergeMethod: method[2],
            expectedHeadOid: sha,
          });
          return {
            state: 'queued',
            detail: `auto-merge (${method[0]}) enabled: GitHub merges it when the required checks pass`,
          };
        } catch (err) {
          const e = asProviderError(err, 'enabling auto-merge');
          // Already mergeable ("clean status"): GitHub will not queue it; merge it now below.
          if (!/clean status|unstable status/i.test(e.platformMessage)) return { state: 'blocked', detail: e.message };
        }
      }
      const state = p.mergeable_state;
      if (state === 'clean' || state === 'unstable' || state === 'has_hooks') return mergeNow(pr, sha, method[0]);
      if (state === 'dirty') return { state: 'blocked', detail: `it conflicts with ${p.base.ref}` };
      if (state === 'behind')
        return { state: 'blocked', detail: `${p.base.ref} moved on and must be merged into the branch first` };
      if (state === 'blocked') {
        const checks = await checksDetail(sha);
        if (checks.failed) return { state: 'blocked', detail: `a required check failed: ${checks.failed}` };
        // Nothing pending: something else blocks it (a review); GitHub's refusal says what.
        if (!checks.pending) return mergeNow(pr, sha, method[0]);
      }
      if (Date.now() + (opts.mergePollMs ?? 15_000) > deadline) {
        return {
          state: 'blocked',
          detail: `required checks still pending after ${Math.round((opts.mergeWaitMs ?? 600_000) / 1000)} s; the pull request stays open`,
        };
      }
      await sleep(opts.mergePollMs ?? 15_000);
    }
  }

  return {
    name: 'github',
    bodyLimit,
    findOpen,
    propose: (req) =>
      proposeOnce(
        {
          findOpen,
          create,
          update,
          conflict: (r) =>
            new ProviderError(
              'conflict',
              422,
              'already exists',
              `GitHub: a pull request for ${r.branch} exists but is not suture's for this fingerprint`,
            ),
        },
        req,
      ),
    async reoccurred(pr, incident) {
      const p = (
        await call('reading the pull request', () => octokit.rest.pulls.get({ owner, repo, pull_number: num(pr) }))
      ).data;
      const m = readMarker(p.body);
      if (!m) throw new ProviderError('other', null, '', `GitHub: pull request #${p.number} carries no suture marker`);
      const occurrences = m.occurrences + 1;
      await call('updating the pull request', () =>
        octokit.rest.pulls.update({
          owner,
          repo,
          pull_number: p.number,
          body: withOccurrences(p.body ?? '', occurrences) ?? '',
        }),
      );
      await comment(pr, reoccurrenceComment({ ...m, occurrences }, incident, false));
      return refOf(p, occurrences);
    },
    comment,
    label,
    merge,
    async close(pr, reason) {
      await comment(pr, `Closed by suture: ${safeLine(reason, 500)}`);
      await call('closing the pull request', () =>
        octokit.rest.pulls.update({ owner, repo, pull_number: num(pr), state: 'closed' }),
      );
    },
  };
}

function num(pr: ProposalRef): number {
  if (pr.number === null) throw new Error('internal: a GitHub pull request has a number');
  return pr.number;
}
