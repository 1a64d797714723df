/**
 * A stateful model of one GitLab project and its merge requests, answering the contract server's validated
 * requests as GitLab documents it: create → update → merge; a second open merge request for the same source
 * branch refused with 409; a description over 1,048,576 characters refused with 400; merges refused while
 * the pipeline failed (405), on a conflict (422), or when the sha is not the head (409); "merge when the
 * pipeline succeeds" queued while it runs.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Document } from 'openapi-backend';
import type { ContractAnswer, ContractHandler, ContractRequest } from '../openapi-server.ts';

const here = dirname(fileURLToPath(import.meta.url));

export function gitlabDefinition(): Document {
  return JSON.parse(gunzipSync(readFileSync(join(here, 'openapi.subset.json.gz'))).toString('utf8'));
}

export interface ModelMR {
  iid: number;
  title: string;
  description: string;
  source: string;
  sourceProjectId: number;
  target: string;
  sha: string;
  state: 'opened' | 'closed' | 'merged';
  labels: string[];
  reviewerIds: number[];
  notes: string[];
  mwps: boolean;
  mergeCommit: string | null;
  conflict: boolean;
}

type Json = Record<string, unknown>;

export class GitLabModel {
  readonly path: string;
  readonly token: string;
  readonly projectId = 7;
  branches = new Map<string, string>([['main', 'a'.repeat(40)]]);
  mrs = new Map<number, ModelMR>();
  users = new Map<string, number>([
    ['alice', 11],
    ['bob', 12],
  ]);
  /** The head pipeline of each commit: running, success or failed (none: no pipeline). */
  pipelines = new Map<string, 'running' | 'success' | 'failed'>();
  hideFromListOnce = false;
  private next = 1;

  constructor(opts: { path: string; token: string }) {
    this.path = opts.path;
    this.token = opts.token;
  }

  addMR(m: Partial<ModelMR> & { source: string; description: string }): ModelMR {
    const mr: ModelMR = {
      iid: this.next++,
      title: 'a change',
      sourceProjectId: this.projectId,
      target: 'main',
      sha: this.branches.get(m.source) ?? 'c'.repeat(40),
      state: 'opened',
      labels: [],
      reviewerIds: [],
      notes: [],
      mwps: false,
      mergeCommit: null,
      conflict: false,
      ...m,
    };
    this.mrs.set(mr.iid, mr);
    return mr;
  }

  private user(id: number): Json {
    const username = [...this.users].find(([, v]) => v === id)?.[0] ?? 'suture-bot';
    return {
      id,
      username,
      name: username,
      state: 'active',
      avatar_url: `https://gitlab.test/uploads/${id}.png`,
      web_url: `https://gitlab.test/${username}`,
    };
  }

  mrJson(mr: ModelMR): Json {
    return {
      id: 1000 + mr.iid,
      iid: mr.iid,
      project_id: this.projectId,
      title: mr.title,
      description: mr.description,
      state: mr.state,
      source_branch: mr.source,
      target_branch: mr.target,
      // The description types these as strings (GitLab sends integers); the provider copes with both.
      source_project_id: String(mr.sourceProjectId),
      target_project_id: String(this.projectId),
      sha: mr.sha,
      draft: /^draft:/i.test(mr.title),
      work_in_progress: /^draft:/i.test(mr.title),
      labels: mr.labels,
      // `reviewers` left out: the description types it as one user, GitLab answers a list.
      author: this.user(99),
      merge_when_pipeline_succeeds: mr.mwps,
      merge_commit_sha: mr.mergeCommit,
      detailed_merge_status: mr.conflict ? 'conflict' : 'mergeable',
      web_url: `https://gitlab.test/${this.path}/-/merge_requests/${mr.iid}`,
      created_at: '2026-11-20T03:00:00Z',
      updated_at: '2026-11-20T03:00:00Z',
    };
  }

  gate = (req: ContractRequest): ContractAnswer | null => {
    if (req.headers['private-token'] !== this.token) return { status: 401, body: { message: '401 Unauthorized' } };
    const id = req.params.id === undefined ? undefined : decodeURIComponent(req.params.id);
    if (id !== undefined && id !== this.path && id !== String(this.projectId)) {
      return { status: 404, body: { message: '404 Project Not Found' } };
    }
    return null;
  };

  private mr(req: ContractRequest): ModelMR | undefined {
    return this.mrs.get(Number(req.params.merge_request_iid ?? req.params.noteable_id));
  }

  private static notFound: ContractAnswer = { status: 404, body: { message: '404 Not found' } };

  handlers: Record<string, ContractHandler> = {
    getApiV4ProjectsIdMergeRequests: (req) => {
      if (this.hideFromListOnce) {
        this.hideFromListOnce = false;
        return { status: 200, body: [] };
      }
      const state = req.query.state as string | undefined;
      const source = req.query.source_branch as string | undefined;
      const out = [...this.mrs.values()].filter(
        (m) => (!state || m.state === state) && (!source || m.source === source),
      );
      return { status: 200, body: out.map((m) => this.mrJson(m)) };
    },
    postApiV4ProjectsIdMergeRequests: (req) => {
      const b = req.body as {
        source_branch: string;
        target_branch: string;
        title: string;
        description?: string;
        labels?: string[];
        reviewer_ids?: number[];
      };
      if (!this.branches.has(b.source_branch) || !this.branches.has(b.target_branch)) {
        return { status: 400, body: { message: { source_branch: ['is invalid'] } } };
      }
      if ((b.description ?? '').length > 1_048_576) {
        return { status: 400, body: { message: { description: ['is too long (maximum is 1048576 characters)'] } } };
      }
      const open = [...this.mrs.values()].find((m) => m.state === 'opened' && m.source === b.source_branch);
      if (open) {
        return {
          status: 409,
          body: { message: [`Another open merge request already exists for this source branch: !${open.iid}`] },
        };
      }
      const mr = this.addMR({
        source: b.source_branch,
        target: b.target_branch,
        title: b.title,
        description: b.description ?? '',
        labels: b.labels ?? [],
        reviewerIds: b.reviewer_ids ?? [],
      });
      return { status: 201, body: this.mrJson(mr) };
    },
    getApiV4ProjectsIdMergeRequestsMergeRequestIid: (req) => {
      const mr = this.mr(req);
      return mr ? { status: 200, body: this.mrJson(mr) } : GitLabModel.notFound;
    },
    putApiV4ProjectsIdMergeRequestsMergeRequestIid: (req) => {
      const mr = this.mr(req);
      if (!mr) return GitLabModel.notFound;
      const b = req.body as { title?: string; description?: string; add_labels?: string[]; state_event?: string };
      if (b.title !== undefined) mr.title = b.title;
      if (b.description !== undefined) mr.description = b.description;
      for (const l of b.add_labels ?? []) if (!mr.labels.includes(l)) mr.labels.push(l);
      if (b.state_event === 'close') mr.state = 'closed';
      return { status: 200, body: this.mrJson(mr) };
    },
    putApiV4ProjectsIdMergeRequestsMergeRequestIidMerge: (req) => {
      const mr = this.mr(req);
      if (!mr) return GitLabModel.notFound;
      const b = (req.body ?? {}) as { sha?: string; merge_when_pipeline_succeeds?: boolean };
      if (mr.state !== 'opened' || /^draft:/i.test(mr.title))
        return { status: 405, body: { message: '405 Method Not Allowed' } };
      if (b.sha && b.sha !== mr.sha) {
        return { status: 409, body: { message: 'SHA does not match HEAD of source branch: ' + mr.sha } };
      }
      if (mr.conflict) return { status: 422, body: { message: 'Branch cannot be merged' } };
      const pipeline = this.pipelines.get(mr.sha);
      if (pipeline === 'failed') return { status: 405, body: { message: '405 Method Not Allowed' } };
      if (pipeline === 'running') {
        if (!b.merge_when_pipeline_succeeds) return { status: 405, body: { message: '405 Method Not Allowed' } };
        mr.mwps = true;
        return { status: 200, body: this.mrJson(mr) };
      }
      mr.state = 'merged';
      mr.mergeCommit = `${'e'.repeat(38)}${String(mr.iid).padStart(2, '0')}`;
      this.branches.set(mr.target, mr.mergeCommit);
      return { status: 200, body: this.mrJson(mr) };
    },
    postApiV4ProjectsIdMergeRequestsNoteableIdNotes: (req) => {
      const mr = this.mr(req);
      if (!mr) return GitLabModel.notFound;
      const body = (req.body as { body: string }).body;
      mr.notes.push(body);
      return {
        status: 201,
        body: {
          id: mr.notes.length,
          body,
          author: this.user(99),
          noteable_type: 'MergeRequest',
          noteable_iid: mr.iid,
          noteable_id: 1000 + mr.iid,
          system: false,
          created_at: '2026-11-20T03:00:00Z',
        },
      };
    },
    getApiV4Users: (req) => {
      const name = req.query.username as string | undefined;
      const id = name ? this.users.get(name) : undefined;
      return { status: 200, body: id ? [this.user(id)] : [] };
    },
  };
}
