/**
 * Contract tests of the gitlab provider: every request it sends goes to a loopback server generated from
 * GitLab's published OpenAPI description (test/contracts/gitlab: the subset the provider uses, converted
 * to OpenAPI 3; the notes endpoint, absent from that description, recorded from GitLab's API docs), which
 * validates it and answers from a stateful model. A request that does not validate fails the test.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/gitops/providers/errors.ts';
import { gitlabProvider } from '../../src/gitops/providers/gitlab.ts';
import { readMarker } from '../../src/gitops/providers/marker.ts';
import type { ProposeRequest, Provider } from '../../src/gitops/providers/types.ts';
import { GitLabModel, gitlabDefinition } from '../contracts/gitlab/model.ts';
import { GITLAB_OPERATIONS } from '../contracts/gitlab/operations.ts';
import { type ContractServer, contractServer } from '../contracts/openapi-server.ts';

const TOKEN = 'glpat-contractTestToken01234567';
const FP = 'fedcba9876543210';
const BRANCH = `suture/${FP.slice(0, 12)}`;
const definition = gitlabDefinition();

let model: GitLabModel;
let server: ContractServer;
const allValidated = new Map<string, number>();
const allViolations: string[] = [];

beforeEach(async () => {
  model = new GitLabModel({ path: 'acme/platform/cart', token: TOKEN });
  model.branches.set(BRANCH, 'b'.repeat(40));
  // Requests are validated; answers are not (see validateResponses: GitLab's entity types are unreliable).
  server = await contractServer({ definition, handlers: model.handlers, gate: model.gate, validateResponses: false });
});

afterEach(async () => {
  for (const [k, v] of server.validated) allValidated.set(k, (allValidated.get(k) ?? 0) + v);
  allViolations.push(...server.violations);
  await server.close();
  expect(server.violations).toEqual([]);
});

afterAll(() => {
  const lines = [...allValidated].sort().map(([k, v]) => `  ${k}: ${v}`);
  console.log(`gitlab contract: ${allValidated.size} operations validated\n${lines.join('\n')}`);
});

function provider(): Provider {
  return gitlabProvider({ url: server.url, token: TOKEN, project: 'acme/platform/cart', retryBaseMs: 20 });
}

function request(over: Partial<ProposeRequest> = {}): ProposeRequest {
  return {
    fingerprint: FP,
    branch: BRANCH,
    base: 'main',
    title: 'fix(cart-api): guard the empty cart',
    body: 'The fix.\n',
    labels: ['suture', 'automated-fix'],
    reviewers: { users: ['alice', 'ghost'], teams: ['acme/payments'] },
    draft: false,
    incident: { id: 'fedcba987654-20261120020411', detectedAt: '2026-11-20T02:04:11Z' },
    ...over,
  };
}

describe('gitlab provider against GitLab’s published description', () => {
  it('creates one merge request, then updates it and counts re-occurrences: never a second one', async () => {
    const gl = provider();
    expect(await gl.findOpen(FP, BRANCH)).toBeNull();
    const first = await gl.propose(request());
    expect(first).toMatchObject({ action: 'created', number: 1, occurrences: 1, draft: false });
    expect(first.notes.join('\n')).toMatch(/@ghost is not a GitLab user/);
    expect(first.notes.join('\n')).toMatch(/@acme\/payments is a group/);
    const mr = model.mrs.get(1)!;
    expect(mr.reviewerIds).toEqual([11]);
    expect(mr.labels).toEqual(['suture', 'automated-fix']);
    expect(readMarker(mr.description)).toEqual({ fingerprint: FP, occurrences: 1 });

    const second = await gl.propose(request({ body: 'newer\n' }));
    expect(second).toMatchObject({ action: 'updated', number: 1, occurrences: 2 });
    expect(model.mrs.size).toBe(1);
    expect(mr.notes.at(-1)).toMatch(/Seen \*\*2\*\* times/);
    const third = await gl.reoccurred(second, { id: 'y', detectedAt: '2026-11-21T00:00:00Z' });
    expect(third.occurrences).toBe(3);
    expect(mr.description).toContain('newer');
    await gl.close(third, 'superseded');
    expect(mr.state).toBe('closed');
  });

  it('a draft is a Draft: title', async () => {
    const r = await provider().propose(request({ draft: true }));
    expect(r.draft).toBe(true);
    expect(model.mrs.get(1)!.title).toBe('Draft: fix(cart-api): guard the empty cart');
    expect((await provider().merge(r, { auto: true })).detail).toMatch(/draft/);
  });

  it('a create that loses a race (409 "already exists") updates the winner instead', async () => {
    model.addMR({ source: BRANCH, description: `<!-- suture:proposal fingerprint=${FP} occurrences=1 -->\nearlier` });
    model.hideFromListOnce = true;
    const r = await provider().propose(request());
    expect(r).toMatchObject({ action: 'updated', number: 1, occurrences: 2 });
    expect(model.mrs.size).toBe(1);
  });

  it('retries a 502, honours 429 Retry-After', async () => {
    server.failNext('getApiV4ProjectsIdMergeRequests', { status: 502, body: { message: '502 Bad Gateway' } });
    server.failNext('postApiV4ProjectsIdMergeRequests', {
      status: 429,
      headers: { 'retry-after': '1' },
      body: { message: 'Retry later' },
    });
    const t0 = Date.now();
    const r = await provider().propose(request());
    expect(r.action).toBe('created');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(server.log.filter((l) => l.operationId === 'postApiV4ProjectsIdMergeRequests')).toHaveLength(2);
  });

  it('errors are one line: bad token, unknown project, validation with GitLab’s message', async () => {
    const bad = await gitlabProvider({ url: server.url, token: 'nope', project: 'acme/platform/cart' })
      .findOpen(FP, BRANCH)
      .catch((e) => e);
    expect(bad).toBeInstanceOf(ProviderError);
    expect(bad.message).toBe(
      'GitLab: listing open merge requests failed: authentication failed (401) (check GITLAB_TOKEN): 401 Unauthorized',
    );
    const missing = await gitlabProvider({ url: server.url, token: TOKEN, project: 'acme/other' })
      .findOpen(FP, BRANCH)
      .catch((e) => e);
    expect(missing).toMatchObject({ kind: 'not-found', status: 404 });
    const invalid = await provider()
      .propose(request({ base: 'nope' }))
      .catch((e) => e);
    expect(invalid.message).toMatch(
      /^GitLab: opening the merge request failed: .*\(400\): invalid: source_branch is invalid$/,
    );
    for (const e of [bad, missing, invalid]) expect(e.message).not.toContain(TOKEN);
  });
});

describe('merging through the merge request', () => {
  it('queues "merge when the pipeline succeeds" while it runs, pinned to the verified sha', async () => {
    const gl = provider();
    const r = await gl.propose(request());
    model.pipelines.set('b'.repeat(40), 'running');
    expect(await gl.merge(r, { auto: true, sha: 'b'.repeat(40) })).toEqual({
      state: 'queued',
      detail: 'set to merge when the pipeline succeeds',
    });
    const put = server.log.find((l) => l.operationId === 'putApiV4ProjectsIdMergeRequestsMergeRequestIidMerge')!;
    expect(put.body).toEqual({ sha: 'b'.repeat(40), merge_when_pipeline_succeeds: true });
  });

  it('merges at once without a pipeline; blocked on a moved head, a failed pipeline, a conflict', async () => {
    const gl = provider();
    const r = await gl.propose(request());
    expect((await gl.merge(r, { auto: true, sha: 'f'.repeat(40) })).detail).toMatch(/\(409\): SHA does not match/);
    model.pipelines.set('b'.repeat(40), 'failed');
    expect((await gl.merge(r, { auto: true, sha: 'b'.repeat(40) })).state).toBe('blocked');
    model.pipelines.delete('b'.repeat(40));
    model.mrs.get(1)!.conflict = true;
    expect((await gl.merge(r, { auto: true, sha: 'b'.repeat(40) })).detail).toMatch(/Branch cannot be merged/);
    model.mrs.get(1)!.conflict = false;
    const done = await gl.merge(r, { auto: true, sha: 'b'.repeat(40) });
    expect(done.state).toBe('merged');
    expect(model.branches.get('main')).toBe(model.mrs.get(1)!.mergeCommit);
  });
});

describe('coverage of the description', () => {
  it('every operation the provider uses was validated at least once', () => {
    expect([...allValidated.keys()].sort()).toEqual(GITLAB_OPERATIONS.map((o) => o.operationId).sort());
    expect(allViolations).toEqual([]);
  });
});
