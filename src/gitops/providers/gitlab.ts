/**
 * GitLab merge requests through @gitbeaker/rest, with the same lifecycle as the github provider: the open
 * merge request for a fingerprint is found by source branch and the first-line marker, updated and noted
 * on, never duplicated (a create refused with 409 "already exists" turns into that update); a draft is a
 * `Draft:` title; reviewers are CODEOWNERS users resolved to ids (groups cannot review: reported); in auto
 * mode it merges when the pipeline succeeds (or at once when there is none), pinned to the verified sha.
 *
 * gitbeaker's own transport retries 429 and 502 within milliseconds and ignores Retry-After, so this module
 * hands gitbeaker its own requester (a documented option): a deadline per request, Retry-After honoured
 * (bounded), 5xx retried with backoff, and errors rebuilt as one line without the token (errors.ts).
 */
import { Gitlab } from '@gitbeaker/rest';
import { redact } from '../../evidence/redact.ts';
import { safeLine } from '../../incident/display.ts';
import { ProviderError, providerError } from './errors.ts';
import { bodyWithMarker, markerLine, readMarker, reoccurrenceComment, withOccurrences } from './marker.ts';
import { proposeOnce } from './propose.ts';
import type { MergeOutcome, ProposalRef, ProposeRequest, ProposeResult, Provider } from './types.ts';

/** GitLab refuses a description over 1,048,576 characters. */
export const GITLAB_BODY_LIMIT = 1_048_576;

export interface GitLabProviderOptions {
  /** The instance's root URL (https://gitlab.com, or a self-managed one, relative URL root included). */
  url: string;
  token: string;
  /** `group/…/project`. */
  project: string;
  requestTimeoutMs?: number;
  maxRateLimitWaitS?: number;
  /** Backoff unit for 5xx and connection failures (default 1000 ms: waits of 1 and 2 s). */
  retryBaseMs?: number;
}

class HttpFailure extends Error {
  readonly status: number | null;
  readonly details: string[];
  constructor(status: number | null, message: string, details: string[] = []) {
    super(message);
    this.status = status;
    this.details = details;
  }
}

const decamel = (k: string) => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** GitLab's error bodies: `{message: "…"}`, `{message: {field: ["…"]}}`, `{message: ["…"]}` or `{error: "…"}`. */
function gitlabMessage(body: unknown): { message: string; details: string[] } {
  const b = (body ?? {}) as { message?: unknown; error?: unknown; error_description?: unknown };
  const m = b.message ?? b.error_description ?? b.error;
  if (typeof m === 'string') return { message: m, details: [] };
  if (Array.isArray(m)) return { message: m.map(String).join('; '), details: [] };
  if (m && typeof m === 'object') {
    return {
      message: 'invalid',
      details: Object.entries(m).map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(', ') : String(v)}`),
    };
  }
  return { message: '', details: [] };
}

interface ServiceOptions {
  url: string;
  headers: Record<string, string>;
  authHeaders: Record<string, () => Promise<string>>;
}

/** A gitbeaker requester: the transport policy of this module (see the header). */
function requesterFn(policy: { timeoutMs: number; maxWaitS: number; retryBaseMs: number }) {
  return (service: ServiceOptions) => {
    const send = async (
      method: string,
      endpoint: string,
      options: { body?: Record<string, unknown>; searchParams?: Record<string, unknown> } = {},
    ) => {
      const headers: Record<string, string> = { ...service.headers, accept: 'application/json' };
      for (const [k, fn] of Object.entries(service.authHeaders)) headers[k] = await fn();
      const url = new URL(`${service.url.replace(/\/+$/, '')}/${endpoint}`);
      for (const [k, v] of Object.entries(options.searchParams ?? {})) {
        if (v === undefined || v === null) continue;
        if (Array.isArray(v)) for (const x of v) url.searchParams.append(`${decamel(k)}[]`, String(x));
        else url.searchParams.append(decamel(k), String(v));
      }
      let body: string | undefined;
      if (options.body) {
        body = JSON.stringify(Object.fromEntries(Object.entries(options.body).map(([k, v]) => [decamel(k), v])));
        headers['content-type'] = 'application/json';
      }
      for (let attempt = 0; ; attempt++) {
        let res: Response;
        try {
          res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(policy.timeoutMs) });
        } catch (err) {
          if (attempt < 2) {
            await sleep(policy.retryBaseMs * (attempt + 1));
            continue;
          }
          const cause = (err as { cause?: { code?: string } }).cause?.code;
          throw new HttpFailure(null, cause ?? (err as Error).name ?? 'connection failed');
        }
        const text = await res.text();
        let parsed: unknown = text;
        if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') {
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = text;
          }
        }
        if (res.ok) {
          return {
            body: res.status === 204 ? null : parsed,
            headers: Object.fromEntries(res.headers),
            status: res.status,
          };
        }
        const retryAfter = Number(res.headers.get('retry-after'));
        if (res.status === 429 && attempt < 2 && Number.isFinite(retryAfter) && retryAfter <= policy.maxWaitS) {
          await sleep(Math.max(0, retryAfter) * 1000);
          continue;
        }
        if (res.status >= 500 && attempt < 2) {
          await sleep(policy.retryBaseMs * (attempt + 1));
          continue;
        }
        const { message, details } =
          typeof parsed === 'string' ? { message: parsed, details: [] } : gitlabMessage(parsed);
        throw new HttpFailure(res.status, message, details);
      }
    };
    return {
      get: (e: string, o?: object) => send('GET', e, o),
      post: (e: string, o?: object) => send('POST', e, o),
      put: (e: string, o?: object) => send('PUT', e, o),
      patch: (e: string, o?: object) => send('PATCH', e, o),
      delete: (e: string, o?: object) => send('DELETE', e, o),
    };
  };
}

async function call<T>(action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ProviderError) throw err;
    const f = err instanceof HttpFailure ? err : new HttpFailure(null, (err as Error)?.message ?? String(err));
    throw providerError({
      platform: 'GitLab',
      action,
      status: f.status,
      message: f.message,
      details: f.details,
      envVar: 'GITLAB_TOKEN',
    });
  }
}

const clean = (text: string) => redact(text).text;
const DRAFT = /^(?:draft:|\[draft\]|\(draft\))\s*/i;

interface MR {
  iid: number;
  web_url: string;
  source_branch: string;
  source_project_id?: number | string;
  project_id?: number | string;
  sha?: string;
  description?: string | null;
  draft?: boolean;
  work_in_progress?: boolean;
  state: string;
  merge_when_pipeline_succeeds?: boolean;
  detailed_merge_status?: string;
  merge_commit_sha?: string | null;
}

export function gitlabProvider(opts: GitLabProviderOptions): Provider {
  const api = new Gitlab({
    host: opts.url.replace(/\/+$/, ''),
    token: opts.token,
    requesterFn: requesterFn({
      timeoutMs: opts.requestTimeoutMs ?? 30_000,
      maxWaitS: opts.maxRateLimitWaitS ?? 120,
      retryBaseMs: opts.retryBaseMs ?? 1000,
      // gitbeaker's requester type lives in its internal utils package; the shape is the one it documents.
    }) as unknown as ConstructorParameters<typeof Gitlab>[0]['requesterFn'],
  });
  const project = opts.project;
  const bodyLimit =
    GITLAB_BODY_LIMIT - markerLine({ fingerprint: '0'.repeat(16), occurrences: 999_999_999 }).length - 1;
  const title = (t: string, draft: boolean) => `${draft ? 'Draft: ' : ''}${safeLine(t, 240).replace(DRAFT, '')}`;

  const refOf = (mr: MR, occurrences: number): ProposalRef => ({
    number: mr.iid,
    url: mr.web_url,
    branch: mr.source_branch,
    ...(mr.sha ? { headSha: mr.sha } : {}),
    occurrences,
    draft: Boolean(mr.draft ?? mr.work_in_progress),
  });
  const iid = (pr: ProposalRef) => {
    if (pr.number === null) throw new Error('internal: a GitLab merge request has an iid');
    return pr.number;
  };

  async function findOpen(fingerprint: string, branch: string): Promise<ProposalRef | null> {
    const mrs = (await call('listing open merge requests', () =>
      api.MergeRequests.all({ projectId: project, state: 'opened', sourceBranch: branch, perPage: 20, maxPages: 1 }),
    )) as unknown as MR[];
    for (const mr of mrs) {
      // Same project only: a fork's branch of the same name is somebody else's.
      if (mr.source_branch !== branch) continue;
      // GitLab sends ids as integers; its published description says strings: compare as text.
      if (mr.source_project_id != null && String(mr.source_project_id) !== String(mr.project_id)) continue;
      const m = readMarker(mr.description);
      if (m?.fingerprint === fingerprint) return refOf(mr, m.occurrences);
    }
    return null;
  }

  async function comment(pr: ProposalRef, text: string): Promise<void> {
    await call('adding a note', () => api.MergeRequestNotes.create(project, iid(pr), clean(text)));
  }

  async function label(pr: ProposalRef, labels: string[]): Promise<void> {
    const add = [...new Set(labels.map((l) => safeLine(l, 50).replace(/,/g, ' ')).filter(Boolean))];
    if (add.length) {
      await call('labelling', () => api.MergeRequests.edit(project, iid(pr), { addLabels: add as unknown as string }));
    }
  }

  async function reviewerIds(req: ProposeRequest, notes: string[]): Promise<number[]> {
    const ids: number[] = [];
    for (const username of req.reviewers.users.slice(0, 20)) {
      const found = (await call('looking up a reviewer', () => api.Users.all({ username }))) as unknown as {
        id: number;
        username: string;
      }[];
      const user = found.find((u) => u.username.toLowerCase() === username.toLowerCase());
      if (user) ids.push(user.id);
      else notes.push(`@${username} is not a GitLab user (a group?): not requested as a reviewer`);
    }
    for (const g of req.reviewers.teams) notes.push(`@${g} is a group: GitLab requests reviews from users only`);
    return ids;
  }

  async function create(req: ProposeRequest): Promise<ProposeResult | null> {
    const notes: string[] = [];
    const reviewers = await reviewerIds(req, notes);
    try {
      const mr = (await api.MergeRequests.create(project, req.branch, req.base, title(req.title, req.draft), {
        description: clean(
          bodyWithMarker({ fingerprint: req.fingerprint, occurrences: 1 }, req.body, GITLAB_BODY_LIMIT),
        ),
        labels: [...new Set(req.labels.map((l) => safeLine(l, 50).replace(/,/g, ' ')))] as unknown as string,
        ...(reviewers.length ? { reviewerIds: reviewers } : {}),
        removeSourceBranch: true,
      })) as unknown as MR;
      return { ...refOf(mr, 1), draft: req.draft, action: 'created', notes };
    } catch (err) {
      // Another run opened it first: GitLab answers 409 "Another open merge request already exists".
      if (err instanceof HttpFailure && err.status === 409 && /already exists/i.test(err.message)) return null;
      return call('opening the merge request', () => Promise.reject(err));
    }
  }

  async function update(existing: ProposalRef, req: ProposeRequest): Promise<ProposeResult> {
    const occurrences = existing.occurrences + 1;
    const mr = (await call('updating the merge request', () =>
      api.MergeRequests.edit(project, iid(existing), {
        title: title(req.title, existing.draft),
        description: clean(bodyWithMarker({ fingerprint: req.fingerprint, occurrences }, req.body, GITLAB_BODY_LIMIT)),
      }),
    )) as unknown as MR;
    await comment(existing, reoccurrenceComment({ fingerprint: req.fingerprint, occurrences }, req.incident, true));
    await label(existing, req.labels);
    return { ...refOf(mr, occurrences), action: 'updated', notes: [] };
  }

  async function merge(pr: ProposalRef, mopts: { auto: boolean; sha?: string }): Promise<MergeOutcome> {
    const mr = (await call('reading the merge request', () =>
      api.MergeRequests.show(project, iid(pr)),
    )) as unknown as MR;
    if (mr.state === 'merged') return { state: 'merged', detail: 'already merged' };
    if (mr.state !== 'opened') return { state: 'blocked', detail: `the merge request is ${mr.state}` };
    if (mr.draft ?? mr.work_in_progress) {
      return { state: 'blocked', detail: 'the merge request is a draft: a human must mark it ready' };
    }
    const sha = mopts.sha ?? mr.sha;
    try {
      const done = (await api.MergeRequests.accept(project, iid(pr), {
        ...(sha ? { sha } : {}),
        ...(mopts.auto ? { mergeWhenPipelineSucceeds: true } : {}),
      })) as unknown as MR;
      if (done.state === 'merged') {
        return {
          state: 'merged',
          detail: `merged${done.merge_commit_sha ? ` as ${done.merge_commit_sha.slice(0, 12)}` : ''}`,
        };
      }
      if (done.merge_when_pipeline_succeeds) {
        return { state: 'queued', detail: 'set to merge when the pipeline succeeds' };
      }
      return { state: 'blocked', detail: `not merged (${done.detailed_merge_status ?? done.state})` };
    } catch (err) {
      const e = await call('merging the merge request', () => Promise.reject(err)).catch((x: ProviderError) => x);
      // 405/406/409/422: GitLab refused to merge (not mergeable, conflicts, head moved, pipeline failed).
      if ([401, 403].includes(e.status ?? 0) || e.status === null || (e.status ?? 0) >= 500) throw e;
      return { state: 'blocked', detail: e.message };
    }
  }

  return {
    name: 'gitlab',
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
              409,
              'already exists',
              `GitLab: a merge request for ${r.branch} exists but is not suture's for this fingerprint`,
            ),
        },
        req,
      ),
    async reoccurred(pr, incident) {
      const mr = (await call('reading the merge request', () =>
        api.MergeRequests.show(project, iid(pr)),
      )) as unknown as MR;
      const m = readMarker(mr.description);
      if (!m) throw new ProviderError('other', null, '', `GitLab: merge request !${mr.iid} carries no suture marker`);
      const occurrences = m.occurrences + 1;
      await call('updating the merge request', () =>
        api.MergeRequests.edit(project, mr.iid, {
          description: withOccurrences(mr.description ?? '', occurrences) ?? '',
        }),
      );
      await comment(pr, reoccurrenceComment({ ...m, occurrences }, incident, false));
      return refOf(mr, occurrences);
    },
    comment,
    label,
    merge,
    async close(pr, reason) {
      await comment(pr, `Closed by suture: ${safeLine(reason, 500)}`);
      await call('closing the merge request', () => api.MergeRequests.edit(project, iid(pr), { stateEvent: 'close' }));
    },
  };
}
