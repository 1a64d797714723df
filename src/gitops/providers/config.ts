/**
 * Which provider, from the operator's environment (never from the repository: suture.yaml cannot choose
 * where a token goes), and which repository on it, from origin's URL read as data. Pure.
 *
 * - `SUTURE_PROVIDER`: `local` (default), `github` or `gitlab`.
 * - `GITHUB_TOKEN` / `GITLAB_TOKEN`: the token, from the environment only, never logged.
 * - `SUTURE_GITHUB_API_URL` (default https://api.github.com; GitHub Enterprise Server: https://HOST/api/v3),
 *   `SUTURE_GITLAB_URL` (default https://gitlab.com; self-managed: its root URL).
 * - `SUTURE_PROVIDER_REPO`: `owner/name` (GitHub) or `group/…/project` (GitLab) when origin's URL does
 *   not say it (a mirror, a local path).
 *
 * The token only ever goes to the API URL the operator configured; origin's host must be that platform's
 * host, so a repository whose origin points elsewhere cannot make suture act on another platform.
 */
import { SutureError } from '../../errors.ts';
import { parseRemoteAddress } from '../remote.ts';

export type ProviderConfig =
  | { kind: 'local' }
  | { kind: 'github'; apiUrl: string; token: string; owner: string; repo: string }
  | { kind: 'gitlab'; url: string; token: string; project: string };

const bad = (msg: string) => new SutureError('BAD_CONFIG', msg);

/** Host (lower case, no port) and path segments of a remote URL (scheme://… or scp-like); null for local paths. */
export function remoteLocation(url: string): { host: string; path: string[] } | null {
  const a = parseRemoteAddress(url);
  if (a.kind === 'refused' || a.kind === 'local') return null;
  let host: string;
  let path: string;
  if (a.kind === 'url') {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return null;
    }
    host = u.hostname;
    path = decodeURIComponent(u.pathname);
  } else {
    const m = /^(?:[^@/]+@)?(\[[^\]]+\]|[^:/]+):(.*)$/.exec(url);
    if (!m) return null;
    host = m[1]!.replace(/^\[|\]$/g, '');
    path = m[2]!;
  }
  const segments = path
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .split('/')
    .filter((s) => s !== '');
  return { host: host.toLowerCase(), path: segments };
}

const GITHUB_OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const GITHUB_REPO = /^[A-Za-z0-9._-]{1,100}$/;
const GITLAB_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

export function githubSlug(segments: string[]): { owner: string; repo: string } | null {
  if (segments.length !== 2) return null;
  const [owner, repo] = segments as [string, string];
  if (!GITHUB_OWNER.test(owner) || !GITHUB_REPO.test(repo) || repo === '.' || repo === '..') return null;
  return { owner, repo };
}

export function gitlabProject(segments: string[]): string | null {
  if (segments.length < 2 || segments.length > 21) return null;
  return segments.every((s) => GITLAB_SEGMENT.test(s) && !s.endsWith('.atom')) ? segments.join('/') : null;
}

/** An http(s) URL; plain http only to loopback, so a token never crosses a network in the clear. */
function apiBase(name: string, value: string): URL {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw bad(`${name} is not a URL: ${JSON.stringify(value.slice(0, 100))}`);
  }
  const loopback = /^(?:127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) {
    throw bad(`${name} must be an https:// URL (http:// only on loopback): ${u.origin}`);
  }
  if (u.username || u.password || u.search || u.hash) {
    throw bad(`${name} must not carry credentials, a query or a fragment`);
  }
  return u;
}

function token(env: NodeJS.ProcessEnv, name: string, provider: string): string {
  const t = env[name]?.trim();
  if (!t) throw bad(`${name} is not set: the ${provider} provider reads its token from the environment`);
  if (/[\s\u0000-\u001f\u007f]/.test(t)) throw bad(`${name} contains whitespace or control characters`);
  return t;
}

/** The web host a GitHub API URL belongs to: api.github.com → github.com, GHES https://HOST/api/v3 → HOST. */
function githubWebHost(api: URL): string {
  return api.hostname.toLowerCase().replace(/^api\./, '');
}

function sameHost(origin: string, web: string): boolean {
  // GitHub serves ssh also as ssh.github.com (port 443); self-managed GitLab often as ssh.HOST.
  return origin === web || origin === `ssh.${web}`;
}

function located(
  env: NodeJS.ProcessEnv,
  originUrl: string | null,
  web: string,
  platform: string,
): { segments: string[]; explicit: boolean } {
  const explicit = env.SUTURE_PROVIDER_REPO?.trim();
  if (explicit) return { segments: explicit.split('/'), explicit: true };
  if (!originUrl) throw bad(`the repository has no origin: set SUTURE_PROVIDER_REPO to name it on ${platform}`);
  const loc = remoteLocation(originUrl);
  if (!loc) {
    throw bad(`origin is not a ${platform} URL (a local path or an unusable address): set SUTURE_PROVIDER_REPO`);
  }
  if (!sameHost(loc.host, web)) {
    throw bad(
      `origin's host ${loc.host} is not the configured ${platform} (${web}): set the API URL, or SUTURE_PROVIDER_REPO`,
    );
  }
  return { segments: loc.path, explicit: false };
}

export function providerConfig(env: NodeJS.ProcessEnv, originUrl: string | null): ProviderConfig {
  const kind = (env.SUTURE_PROVIDER ?? 'local').trim() || 'local';
  if (kind === 'local') return { kind };
  if (kind === 'github') {
    const api = apiBase('SUTURE_GITHUB_API_URL', env.SUTURE_GITHUB_API_URL?.trim() || 'https://api.github.com');
    const { segments, explicit } = located(env, originUrl, githubWebHost(api), 'GitHub');
    const slug = githubSlug(segments);
    if (!slug) {
      throw bad(
        `${explicit ? 'SUTURE_PROVIDER_REPO' : "origin's path"} does not name a GitHub repository (owner/name): ${JSON.stringify(segments.join('/').slice(0, 200))}`,
      );
    }
    return { kind, apiUrl: api.href.replace(/\/+$/, ''), token: token(env, 'GITHUB_TOKEN', 'github'), ...slug };
  }
  if (kind === 'gitlab') {
    const base = apiBase('SUTURE_GITLAB_URL', env.SUTURE_GITLAB_URL?.trim() || 'https://gitlab.com');
    const { segments, explicit } = located(env, originUrl, base.hostname.toLowerCase(), 'GitLab');
    // A self-managed GitLab under a relative URL root (https://HOST/gitlab) has it in its http clone URLs.
    const root = base.pathname.split('/').filter(Boolean);
    const path =
      !explicit && root.length && root.every((r, i) => segments[i] === r) ? segments.slice(root.length) : segments;
    const project = gitlabProject(path);
    if (!project) {
      throw bad(
        `${explicit ? 'SUTURE_PROVIDER_REPO' : "origin's path"} does not name a GitLab project (group/project): ${JSON.stringify(path.join('/').slice(0, 200))}`,
      );
    }
    return { kind, url: base.href.replace(/\/+$/, ''), token: token(env, 'GITLAB_TOKEN', 'gitlab'), project };
  }
  throw bad(`SUTURE_PROVIDER must be local, github or gitlab, not ${JSON.stringify(kind.slice(0, 40))}`);
}
