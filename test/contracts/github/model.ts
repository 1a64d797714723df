/**
 * A stateful model of one GitHub repository and its pull requests, answering the contract server's
 * validated requests the way GitHub does (statuses and messages as GitHub documents them): create →
 * update → merge, a second open pull request for the same head refused with 422, bodies over 65536
 * characters refused, merges refused while required checks are pending or failing or a review is missing,
 * or when the head moved. Answers start from the description's own response examples with the model's
 * state laid over them, and the server validates them against the response schemas.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Document } from 'openapi-backend';
import type { ContractAnswer, ContractHandler, ContractRequest } from '../openapi-server.ts';
import { checkGraphql, githubGraphqlSchema } from './graphql.ts';

const here = dirname(fileURLToPath(import.meta.url));

export function githubDefinition(): Document {
  return JSON.parse(gunzipSync(readFileSync(join(here, 'api.github.com.subset.json.gz'))).toString('utf8'));
}

type Json = Record<string, unknown>;

function example(def: Document, path: string, method: string, status: string): unknown {
  const paths = def.paths as Record<string, Record<string, { responses: Record<string, Json> }>>;
  const op = paths[path]![method]!;
  const content = (
    op.responses[status]?.content as Record<string, { examples?: Record<string, { value: unknown }> }>
  )?.['application/json'];
  const first = Object.values(content?.examples ?? {})[0];
  return structuredClone(first?.value);
}

export interface ModelPull {
  number: number;
  title: string;
  body: string;
  head: string;
  headSha: string;
  /** The repository the head branch is in (a fork: another owner). */
  headOwner: string;
  base: string;
  draft: boolean;
  state: 'open' | 'closed';
  merged: boolean;
  mergeCommit: string | null;
  labels: string[];
  reviewers: string[];
  teamReviewers: string[];
  comments: string[];
  autoMerge: { method: string; expectedHeadOid: string | null } | null;
  /** The branch conflicts with its base. */
  conflict: boolean;
}

export interface CheckState {
  name: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: 'success' | 'failure' | null;
}

export class GitHubModel {
  readonly owner: string;
  readonly repo: string;
  readonly token: string;
  settings = { allow_auto_merge: false, allow_merge_commit: true, allow_squash_merge: true, allow_rebase_merge: true };
  /** Branch → head commit. */
  branches = new Map<string, string>();
  pulls = new Map<number, ModelPull>();
  collaborators = new Set<string>();
  teams = new Set<string>();
  /** Commit → its checks (required ones are all of them). */
  checks = new Map<string, CheckState[]>();
  requireReview = false;
  /** The next pulls.list answers as if no pull request existed (a race with another run). */
  hideFromListOnce = false;
  private next = 1;
  private readonly def: Document;

  constructor(def: Document, opts: { owner: string; repo: string; token: string }) {
    this.def = def;
    this.owner = opts.owner;
    this.repo = opts.repo;
    this.token = opts.token;
    this.branches.set('main', 'a'.repeat(40));
  }

  get fullName(): string {
    return `${this.owner}/${this.repo}`;
  }

  addPull(p: Partial<ModelPull> & { head: string; body: string }): ModelPull {
    const pull: ModelPull = {
      number: this.next++,
      title: 'a change',
      headSha: this.branches.get(p.head) ?? 'c'.repeat(40),
      headOwner: this.owner,
      base: 'main',
      draft: false,
      state: 'open',
      merged: false,
      mergeCommit: null,
      labels: [],
      reviewers: [],
      teamReviewers: [],
      comments: [],
      autoMerge: null,
      conflict: false,
      ...p,
    };
    this.pulls.set(pull.number, pull);
    return pull;
  }

  private mergeableState(p: ModelPull): string {
    if (p.draft) return 'draft';
    if (p.conflict) return 'dirty';
    const checks = this.checks.get(p.headSha) ?? [];
    if (checks.some((c) => c.status !== 'completed' || c.conclusion !== 'success')) return 'blocked';
    if (this.requireReview) return 'blocked';
    return 'clean';
  }

  private repoJson(): Json {
    const r = example(this.def, '/repos/{owner}/{repo}', 'get', '200') as Json;
    // Not a fork, not from a template (the example is both, and predates the schema's `language`).
    for (const k of ['source', 'parent', 'template_repository']) delete r[k];
    const owner = { ...(r.owner as Json), login: this.owner };
    // GitHub's example predates the schema's required `language`.
    return {
      language: null,
      ...r,
      name: this.repo,
      full_name: this.fullName,
      owner,
      default_branch: 'main',
      ...this.settings,
    };
  }

  pullJson(p: ModelPull, simple = false): Json {
    const base = simple
      ? ((example(this.def, '/repos/{owner}/{repo}/pulls', 'get', '200') as Json[])[0] as Json)
      : (example(this.def, '/repos/{owner}/{repo}/pulls/{pull_number}', 'get', '200') as Json);
    const repoOf = (example: Json, login: string): Json => ({
      ...example,
      name: this.repo,
      full_name: `${login}/${this.repo}`,
      owner: { ...(example.owner as Json), login },
    });
    const side = (x: Json, ref: string, sha: string, login: string) => ({
      ...x,
      ref,
      sha,
      label: `${login}:${ref}`,
      repo: repoOf(x.repo as Json, login),
    });
    const json: Json = {
      ...base,
      number: p.number,
      node_id: `PR_node${p.number}`,
      html_url: `https://github.test/${this.fullName}/pull/${p.number}`,
      title: p.title,
      body: p.body,
      draft: p.draft,
      state: p.state,
      head: side(base.head as Json, p.head, p.headSha, p.headOwner),
      base: side(base.base as Json, p.base, this.branches.get(p.base) ?? 'a'.repeat(40), this.owner),
      merge_commit_sha: p.mergeCommit,
      merged_at: p.merged ? '2026-11-20T03:00:00Z' : null,
      labels: p.labels.map((name, i) => ({ ...((base.labels as Json[])[0] ?? {}), id: i + 1, name })),
      auto_merge: null,
      requested_reviewers: p.reviewers.map((login, i) => ({ ...(base.user as Json), login, id: 100 + i })),
      // GitHub's example predates the schema's required team `type`.
      requested_teams: p.teamReviewers.map((slug, i) => ({
        ...((base.requested_teams as Json[])[0] ?? {}),
        id: 200 + i,
        slug,
        name: slug,
        type: 'organization',
      })),
    };
    if (!simple) {
      Object.assign(json, {
        merged: p.merged,
        mergeable: !p.conflict,
        mergeable_state: this.mergeableState(p),
      });
    }
    return json;
  }

  private notFound(): ContractAnswer {
    return { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' } };
  }

  private invalid(message: string, errors: Json[] = []): ContractAnswer {
    return {
      status: 422,
      body: { message: 'Validation Failed', errors: [{ message, ...errors[0] }, ...errors.slice(1)] },
    };
  }

  /** 401 for a wrong token, 404 for another repository: before the model. */
  gate = (req: ContractRequest): ContractAnswer | null => {
    const auth = String(req.headers.authorization ?? '');
    if (auth !== `token ${this.token}` && auth !== `Bearer ${this.token}`) {
      return { status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' } };
    }
    if (req.params.owner !== this.owner || req.params.repo !== this.repo) return this.notFound();
    return null;
  };

  private pull(req: ContractRequest): ModelPull | undefined {
    return this.pulls.get(Number(req.params.pull_number ?? req.params.issue_number));
  }

  handlers: Record<string, ContractHandler> = {
    'repos/get': () => ({ status: 200, body: this.repoJson() }),
    'pulls/list': (req) => {
      if (this.hideFromListOnce) {
        this.hideFromListOnce = false;
        return { status: 200, body: [] };
      }
      const state = (req.query.state as string) ?? 'open';
      const head = req.query.head as string | undefined;
      const out = [...this.pulls.values()].filter(
        (p) => (state === 'all' || p.state === state) && (!head || `${p.headOwner}:${p.head}` === head),
      );
      return { status: 200, body: out.map((p) => this.pullJson(p, true)) };
    },
    'pulls/create': (req) => {
      const b = req.body as { title: string; head: string; base: string; body?: string; draft?: boolean };
      if (!this.branches.has(b.head))
        return this.invalid('', [{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
      if (!this.branches.has(b.base))
        return this.invalid('', [{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
      if ((b.body ?? '').length > 65536) return this.invalid('body is too long (maximum is 65536 characters)');
      if ([...this.pulls.values()].some((p) => p.state === 'open' && p.head === b.head && p.headOwner === this.owner)) {
        return this.invalid(`A pull request already exists for ${this.owner}:${b.head}.`);
      }
      const p = this.addPull({
        title: b.title,
        head: b.head,
        base: b.base,
        body: b.body ?? '',
        draft: b.draft ?? false,
      });
      return { status: 201, body: this.pullJson(p) };
    },
    'pulls/get': (req) => {
      const p = this.pull(req);
      return p ? { status: 200, body: this.pullJson(p) } : this.notFound();
    },
    'pulls/update': (req) => {
      const p = this.pull(req);
      if (!p) return this.notFound();
      const b = req.body as { title?: string; body?: string; state?: 'open' | 'closed' };
      if ((b.body ?? '').length > 65536) return this.invalid('body is too long (maximum is 65536 characters)');
      if (b.title !== undefined) p.title = b.title;
      if (b.body !== undefined) p.body = b.body;
      if (b.state !== undefined) p.state = b.state;
      return { status: 200, body: this.pullJson(p) };
    },
    'pulls/merge': (req) => {
      const p = this.pull(req);
      if (!p) return this.notFound();
      const b = (req.body ?? {}) as { sha?: string; merge_method?: string };
      if (b.sha && b.sha !== p.headSha) {
        return { status: 409, body: { message: 'Head branch was modified. Review and try the merge again.' } };
      }
      const method = b.merge_method ?? 'merge';
      if (
        !this.settings[`allow_${method === 'merge' ? 'merge_commit' : `${method}_merge`}` as keyof typeof this.settings]
      ) {
        return { status: 405, body: { message: `${method} merges are not allowed on this repository.` } };
      }
      const state = this.mergeableState(p);
      if (
        state === 'blocked' &&
        this.requireReview &&
        !(this.checks.get(p.headSha) ?? []).some((c) => c.conclusion !== 'success')
      ) {
        return {
          status: 405,
          body: { message: 'At least 1 approving review is required by reviewers with write access.' },
        };
      }
      if (state !== 'clean') return { status: 405, body: { message: 'Pull Request is not mergeable' } };
      return { status: 200, body: this.doMerge(p) };
    },
    'pulls/request-reviewers': (req) => {
      const p = this.pull(req);
      if (!p) return this.notFound();
      const b = (req.body ?? {}) as { reviewers?: string[]; team_reviewers?: string[] };
      const users = b.reviewers ?? [];
      const teams = b.team_reviewers ?? [];
      if (users.some((u) => !this.collaborators.has(u)) || teams.some((t) => !this.teams.has(t))) {
        return this.invalid(
          `Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the ${this.fullName} repository.`,
        );
      }
      p.reviewers.push(...users);
      p.teamReviewers.push(...teams);
      return { status: 201, body: this.pullJson(p, true) };
    },
    'issues/create-comment': (req) => {
      const p = this.pull(req);
      if (!p) return this.notFound();
      const body = (req.body as { body: string }).body;
      p.comments.push(body);
      const c = example(this.def, '/repos/{owner}/{repo}/issues/{issue_number}/comments', 'post', '201') as Json;
      return { status: 201, body: { ...c, id: p.comments.length, body } };
    },
    'issues/add-labels': (req) => {
      const p = this.pull(req);
      if (!p) return this.notFound();
      const labels = (req.body as { labels: string[] }).labels;
      for (const l of labels) if (!p.labels.includes(l)) p.labels.push(l);
      const base = (
        example(this.def, '/repos/{owner}/{repo}/issues/{issue_number}/labels', 'post', '200') as Json[]
      )[0];
      return { status: 200, body: p.labels.map((name, i) => ({ ...base, id: i + 1, name })) };
    },
    'checks/list-for-ref': (req) => {
      const base = example(this.def, '/repos/{owner}/{repo}/commits/{ref}/check-runs', 'get', '200') as Json;
      const run = (base.check_runs as Json[])[0]!;
      const runs = (this.checks.get(req.params.ref!) ?? []).map((c, i) => ({
        ...run,
        id: i + 1,
        name: c.name,
        head_sha: req.params.ref,
        status: c.status,
        conclusion: c.conclusion,
        completed_at: c.status === 'completed' ? run.completed_at : null,
      }));
      return { status: 200, body: { total_count: runs.length, check_runs: runs } };
    },
    'repos/get-combined-status-for-ref': (req) => {
      const base = example(this.def, '/repos/{owner}/{repo}/commits/{ref}/status', 'get', '200') as Json;
      return { status: 200, body: { ...base, sha: req.params.ref, state: 'success', statuses: [], total_count: 0 } };
    },
  };

  /** GraphQL operations that validated (`graphql <field>`), and the requests that did not. */
  graphqlValidated = new Map<string, number>();
  graphqlViolations: string[] = [];
  private readonly gqlSchema = githubGraphqlSchema();

  /** POST /graphql: validated against the vendored GraphQL schema, then answered as GitHub does. */
  graphql = async (method: string, path: string, raw: string, req: IncomingMessage): Promise<ContractAnswer | null> => {
    if (path !== '/graphql') return null;
    const fail = (why: string): ContractAnswer => {
      this.graphqlViolations.push(`graphql: ${why}`);
      return { status: 400, body: { message: why } };
    };
    if (method !== 'POST') return fail(`${method} /graphql`);
    if (!req.headers['user-agent']) return fail('no user-agent');
    const auth = String(req.headers.authorization ?? '');
    if (auth !== `token ${this.token}` && auth !== `bearer ${this.token}` && auth !== `Bearer ${this.token}`) {
      return { status: 401, body: { message: 'Bad credentials' } };
    }
    let doc: { query?: unknown; variables?: unknown };
    try {
      doc = JSON.parse(raw);
    } catch {
      return fail('the body is not JSON');
    }
    if (typeof doc.query !== 'string') return fail('no query');
    const variables = (doc.variables ?? {}) as Record<string, unknown>;
    const { problems, field } = checkGraphql(this.gqlSchema, doc.query, variables);
    if (problems.length) return fail(problems.join('; '));
    this.graphqlValidated.set(`graphql ${field}`, (this.graphqlValidated.get(`graphql ${field}`) ?? 0) + 1);
    if (field !== 'enablePullRequestAutoMerge') return fail(`the model does not answer ${field}`);
    const p = [...this.pulls.values()].find((x) => `PR_node${x.number}` === variables.pullRequestId);
    const error = (message: string): ContractAnswer => ({
      status: 200,
      body: { data: { enablePullRequestAutoMerge: null }, errors: [{ type: 'UNPROCESSABLE', path: [field], message }] },
    });
    if (!p)
      return {
        status: 200,
        body: { data: null, errors: [{ type: 'NOT_FOUND', message: 'Could not resolve to a node' }] },
      };
    if (!this.settings.allow_auto_merge) return error('Pull request Auto merge is not allowed for this repository');
    if (this.mergeableState(p) === 'clean') return error('Pull request Pull request is in clean status');
    const expected = (variables.expectedHeadOid as string | null) ?? null;
    if (expected && expected !== p.headSha) return error('Pull request head has moved since it was verified');
    p.autoMerge = { method: String(variables.mergeMethod ?? 'MERGE'), expectedHeadOid: expected };
    return {
      status: 200,
      body: {
        data: {
          enablePullRequestAutoMerge: {
            pullRequest: { number: p.number, autoMergeRequest: { enabledAt: '2026-11-20T03:00:00Z' } },
          },
        },
      },
    };
  };

  doMerge(p: ModelPull): Json {
    const sha = 'e'.repeat(38) + String(p.number).padStart(2, '0');
    p.merged = true;
    p.state = 'closed';
    p.mergeCommit = sha;
    this.branches.set(p.base, sha);
    return { sha, merged: true, message: 'Pull Request successfully merged' };
  }
}
