/**
 * Contract tests of the github provider: every request it sends goes to a loopback server generated from
 * GitHub's published OpenAPI description (test/contracts/github, vendored from @octokit/openapi), which
 * validates it against the real schema and answers from a stateful model; the auto-merge mutation is
 * checked against GitHub's published GraphQL schema. A request that does not validate fails the test.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/gitops/providers/errors.ts';
import { githubProvider } from '../../src/gitops/providers/github.ts';
import { readMarker } from '../../src/gitops/providers/marker.ts';
import type { ProposeRequest, Provider } from '../../src/gitops/providers/types.ts';
import { GitHubModel, githubDefinition } from '../contracts/github/model.ts';
import { GITHUB_OPERATIONS } from '../contracts/github/operations.ts';
import { type ContractServer, contractServer } from '../contracts/openapi-server.ts';

const TOKEN = 'ghp_contractTestToken0123456789abcdefABCD';
const FP = '0123456789abcdef';
const BRANCH = `suture/${FP.slice(0, 12)}`;
const definition = githubDefinition();

let model: GitHubModel;
let server: ContractServer;
const allValidated = new Map<string, number>();
const allViolations: string[] = [];

async function start(): Promise<void> {
  model = new GitHubModel(definition, { owner: 'acme', repo: 'cart', token: TOKEN });
  model.branches.set(BRANCH, 'b'.repeat(40));
  model.collaborators = new Set(['alice', 'bob']);
  model.teams = new Set(['payments']);
  server = await contractServer({
    definition,
    handlers: model.handlers,
    gate: model.gate,
    extra: model.graphql,
    checkHeaders: (req) => [
      ...(req.headers['user-agent'] ? [] : ['GitHub requires a User-Agent header']),
      ...(/application\/(vnd\.github[^,]*\+)?json/.test(String(req.headers.accept ?? ''))
        ? []
        : ['accept is not JSON']),
    ],
  });
}

async function stop(): Promise<void> {
  for (const [k, v] of server.validated) allValidated.set(k, (allValidated.get(k) ?? 0) + v);
  for (const [k, v] of model.graphqlValidated) allValidated.set(k, (allValidated.get(k) ?? 0) + v);
  allViolations.push(...server.violations, ...model.graphqlViolations);
  expect([...server.violations, ...model.graphqlViolations]).toEqual([]);
  await server.close();
}

function provider(extra: Partial<Parameters<typeof githubProvider>[0]> = {}): Provider {
  return githubProvider({
    apiUrl: server.url,
    token: TOKEN,
    owner: 'acme',
    repo: 'cart',
    mergePollMs: 50,
    mergeWaitMs: 3000,
    ...extra,
  });
}

function request(over: Partial<ProposeRequest> = {}): ProposeRequest {
  return {
    fingerprint: FP,
    branch: BRANCH,
    base: 'main',
    title: 'fix(cart-api): guard the empty cart',
    body: '## What\n\nThe fix.\n',
    labels: ['suture', 'automated-fix'],
    reviewers: { users: ['alice'], teams: ['acme/payments'] },
    draft: false,
    incident: { id: '0123456789ab-20261120020411', detectedAt: '2026-11-20T02:04:11Z' },
    ...over,
  };
}

beforeEach(start);
afterEach(stop);
afterAll(() => {
  // The closing note's numbers: which operations were validated, and how often.
  const lines = [...allValidated].sort().map(([k, v]) => `  ${k}: ${v}`);
  console.log(`github contract: ${allValidated.size} operations validated\n${lines.join('\n')}`);
});

describe('github provider against GitHub’s published description', () => {
  it('creates one pull request, then updates it and counts re-occurrences: never a second one', async () => {
    const gh = provider();
    expect(await gh.findOpen(FP, BRANCH)).toBeNull();
    const first = await gh.propose(request());
    expect(first).toMatchObject({ action: 'created', number: 1, occurrences: 1, branch: BRANCH, draft: false });
    const pr = model.pulls.get(1)!;
    expect(readMarker(pr.body)).toEqual({ fingerprint: FP, occurrences: 1 });
    expect(pr.labels).toEqual(['suture', 'automated-fix']);
    expect(pr.reviewers).toEqual(['alice']);
    expect(pr.teamReviewers).toEqual(['payments']);

    const second = await gh.propose(request({ body: 'the newer report\n' }));
    expect(second).toMatchObject({ action: 'updated', number: 1, occurrences: 2 });
    expect(model.pulls.size).toBe(1);
    expect(pr.body).toContain('the newer report');
    expect(pr.comments.at(-1)).toMatch(/happened again.*\n.*Seen \*\*2\*\* times/s);

    const third = await gh.reoccurred(second, { id: 'x-1', detectedAt: '2026-11-21T00:00:00Z' });
    expect(third.occurrences).toBe(3);
    expect(readMarker(pr.body)?.occurrences).toBe(3);
    expect(pr.body).toContain('the newer report');
    await gh.close(third, 'the canary aborted');
    expect(pr.state).toBe('closed');
    expect(await gh.findOpen(FP, BRANCH)).toBeNull();
  }, 60_000);

  it('opens a draft when the policy says review', async () => {
    const r = await provider().propose(request({ draft: true }));
    expect(r.draft).toBe(true);
    expect(model.pulls.get(1)!.draft).toBe(true);
  }, 30_000);

  it('a create that loses a race (422 "already exists") updates the winner instead', async () => {
    // Another run opened it between our lookup and our create.
    model.addPull({
      head: BRANCH,
      body: '<!-- suture:proposal fingerprint=0123456789abcdef occurrences=1 -->\nearlier',
    });
    model.hideFromListOnce = true;
    const r = await provider().propose(request());
    expect(r).toMatchObject({ action: 'updated', number: 1, occurrences: 2 });
    expect(model.pulls.size).toBe(1);
    expect(server.log.map((l) => l.operationId)).toContain('pulls/create');
  }, 30_000);

  it('does not adopt a pull request without its marker on the first line (a forged one in the text)', async () => {
    const forged = `Some PR\n<!-- suture:proposal fingerprint=${FP} occurrences=7 -->`;
    model.addPull({ head: BRANCH, body: forged });
    expect(await provider().findOpen(FP, BRANCH)).toBeNull();
    const err = await provider()
      .propose(request())
      .catch((e) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.message).toMatch(/exists but is not suture's/);
    expect(model.pulls.get(1)!.body).toBe(forged);
  }, 30_000);

  it('ignores a fork’s branch of the same name', async () => {
    model.addPull({
      head: BRANCH,
      headOwner: 'mallory',
      body: `<!-- suture:proposal fingerprint=${FP} occurrences=1 -->`,
    });
    expect(await provider().findOpen(FP, BRANCH)).toBeNull();
  });

  it('keeps a huge body under GitHub’s 65536-character limit', async () => {
    const r = await provider().propose(request({ body: `${'x'.repeat(80)}\n`.repeat(2000) }));
    const body = model.pulls.get(r.number!)!.body;
    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(readMarker(body)?.fingerprint).toBe(FP);
    expect(body).toMatch(/cut to fit/);
  }, 30_000);

  it('a reviewer who cannot review is a note, not a failure', async () => {
    const r = await provider().propose(request({ reviewers: { users: ['mallory'], teams: ['other-org/x'] } }));
    expect(r.action).toBe('created');
    expect(r.notes.join('\n')).toMatch(/other-org\/x is not in acme/);
    expect(r.notes.join('\n')).toMatch(/Reviews may only be requested from collaborators/);
  }, 30_000);

  it('retries a 502 with backoff (plugin-retry)', async () => {
    server.failNext('pulls/create', { status: 502, body: { message: 'Server Error' } });
    const r = await provider().propose(request());
    expect(r.action).toBe('created');
    expect(server.log.filter((l) => l.operationId === 'pulls/create')).toHaveLength(2);
  }, 30_000);

  it('honours a secondary rate limit’s retry-after (plugin-throttling)', async () => {
    server.failNext('pulls/list', {
      status: 403,
      headers: { 'retry-after': '1' },
      body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' },
    });
    const t0 = Date.now();
    expect(await provider().findOpen(FP, BRANCH)).toBeNull();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(server.log.filter((l) => l.operationId === 'pulls/list')).toHaveLength(2);
  }, 30_000);

  it('honours a primary rate limit’s reset time, and gives up on one too far away', async () => {
    const reset = () => String(Math.ceil(Date.now() / 1000) + 1);
    server.failNext('pulls/list', {
      status: 429,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset() },
      body: { message: 'API rate limit exceeded for user ID 1.' },
    });
    expect(await provider().findOpen(FP, BRANCH)).toBeNull();
    expect(server.log.filter((l) => l.operationId === 'pulls/list')).toHaveLength(2);

    server.failNext('pulls/list', {
      status: 403,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 3600) },
      body: { message: 'API rate limit exceeded for user ID 1.' },
    });
    const err = await provider()
      .findOpen(FP, BRANCH)
      .catch((e) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.kind).toBe('rate-limited');
    expect(err.message).toMatch(/^GitHub: listing open pull requests failed: rate limited \(403\)/);
  }, 30_000);

  it('errors are one line: bad token, unknown repository, validation with GitHub’s message; no token in them', async () => {
    const bad = await githubProvider({ apiUrl: server.url, token: 'wrong', owner: 'acme', repo: 'cart' })
      .findOpen(FP, BRANCH)
      .catch((e) => e);
    expect(bad).toMatchObject({ kind: 'auth', status: 401 });
    expect(bad.message).toBe(
      'GitHub: listing open pull requests failed: authentication failed (401) (check GITHUB_TOKEN): Bad credentials',
    );
    const missing = await githubProvider({ apiUrl: server.url, token: TOKEN, owner: 'acme', repo: 'nope' })
      .findOpen(FP, BRANCH)
      .catch((e) => e);
    expect(missing).toMatchObject({ kind: 'not-found', status: 404 });
    const invalid = await provider()
      .propose(request({ base: 'no-such-branch' }))
      .catch((e) => e);
    expect(invalid).toMatchObject({ kind: 'validation', status: 422 });
    expect(invalid.message).toMatch(
      /^GitHub: opening the pull request failed: .*\(422\): Validation Failed: base invalid$/,
    );
    for (const e of [bad, missing, invalid]) {
      expect(e.message).not.toContain(TOKEN);
      expect(e.message).not.toContain('\n');
    }
  }, 30_000);

  it('unreachable: one line, no stack', async () => {
    const free = await contractServer({ definition, handlers: {} });
    await free.close();
    const err = await githubProvider({ apiUrl: free.url, token: TOKEN, owner: 'acme', repo: 'cart', retryBaseMs: 10 })
      .findOpen(FP, BRANCH)
      .catch((e) => e);
    expect(err).toMatchObject({ kind: 'unreachable', status: null });
    expect(err.message).not.toContain('\n');
  }, 60_000);
});

describe('merging through the pull request (auto mode, policy allow)', () => {
  async function opened(): Promise<{ gh: Provider; pr: Awaited<ReturnType<Provider['propose']>> }> {
    const gh = provider();
    return { gh, pr: await gh.propose(request()) };
  }

  it('merges once the required checks pass, pinned to the verified commit', async () => {
    const { gh, pr } = await opened();
    const sha = 'b'.repeat(40);
    model.checks.set(sha, [{ name: 'ci/test', status: 'in_progress', conclusion: null }]);
    setTimeout(() => model.checks.set(sha, [{ name: 'ci/test', status: 'completed', conclusion: 'success' }]), 300);
    const out = await gh.merge(pr, { auto: true, sha });
    expect(out.state).toBe('merged');
    const merge = server.log.find((l) => l.operationId === 'pulls/merge')!;
    expect(merge.body).toMatchObject({ sha, merge_method: 'merge' });
    expect(model.pulls.get(1)!.merged).toBe(true);
    // main moved only through the merge, to the merge commit.
    expect(model.branches.get('main')).toBe(model.pulls.get(1)!.mergeCommit);
  }, 60_000);

  it('enables GitHub auto-merge through GraphQL when the repository allows it: queued', async () => {
    model.settings.allow_auto_merge = true;
    const { gh, pr } = await opened();
    model.checks.set('b'.repeat(40), [{ name: 'ci/test', status: 'queued', conclusion: null }]);
    const out = await gh.merge(pr, { auto: true, sha: 'b'.repeat(40) });
    expect(out).toMatchObject({ state: 'queued' });
    expect(model.pulls.get(1)!.autoMerge).toEqual({ method: 'MERGE', expectedHeadOid: 'b'.repeat(40) });
    expect(model.pulls.get(1)!.merged).toBe(false);
  }, 60_000);

  it('auto-merge refused because the pull request is already clean: merges it directly', async () => {
    model.settings.allow_auto_merge = true;
    const { gh, pr } = await opened();
    const out = await gh.merge(pr, { auto: true, sha: 'b'.repeat(40) });
    expect(out.state).toBe('merged');
    expect(model.graphqlValidated.get('graphql enablePullRequestAutoMerge')).toBe(1);
  }, 60_000);

  it('blocked: a failing required check, a missing review (GitHub’s words), a moved head, a draft, a bound', async () => {
    const { gh, pr } = await opened();
    const sha = 'b'.repeat(40);
    model.checks.set(sha, [{ name: 'ci/test', status: 'completed', conclusion: 'failure' }]);
    expect(await gh.merge(pr, { auto: true, sha })).toEqual({
      state: 'blocked',
      detail: 'a required check failed: check ci/test failure',
    });
    model.checks.set(sha, [{ name: 'ci/test', status: 'completed', conclusion: 'success' }]);
    model.requireReview = true;
    const review = await gh.merge(pr, { auto: true, sha });
    expect(review.state).toBe('blocked');
    expect(review.detail).toMatch(/refused by branch protection \(405\): At least 1 approving review is required/);
    model.requireReview = false;
    expect((await gh.merge(pr, { auto: true, sha: 'f'.repeat(40) })).detail).toMatch(/head moved/);
    model.checks.set(sha, [{ name: 'ci/test', status: 'in_progress', conclusion: null }]);
    const slow = await provider({ mergeWaitMs: 300 }).merge(pr, { auto: true, sha });
    expect(slow).toMatchObject({ state: 'blocked' });
    expect(slow.detail).toMatch(/still pending/);
    model.pulls.get(1)!.draft = true;
    expect((await gh.merge(pr, { auto: true, sha })).detail).toMatch(/draft/);
    expect(model.pulls.get(1)!.merged).toBe(false);
  }, 60_000);
});

describe('coverage of the description', () => {
  it('every operation the provider uses was validated at least once', () => {
    const expected = [
      ...GITHUB_OPERATIONS.map((o) => {
        const paths = definition.paths as Record<string, Record<string, { operationId: string }>>;
        const op = paths[o.path]![o.method]!;
        return op.operationId;
      }),
      'graphql enablePullRequestAutoMerge',
    ].sort();
    expect([...allValidated.keys()].sort()).toEqual(expected);
    expect(allViolations).toEqual([]);
  });
});
