/**
 * The providers' pure parts (config from env and origin, CODEOWNERS, the marker, the PR body) and the local
 * provider against a real state dir; CODEOWNERS read at the base revision of a real repository.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeGitRepos } from '../../src/gitops/git.ts';
import { ownersOf, parseCodeowners, reviewersFor } from '../../src/gitops/providers/codeowners.ts';
import { providerConfig, remoteLocation } from '../../src/gitops/providers/config.ts';
import { codeOwnersFor, createProvider } from '../../src/gitops/providers/index.ts';
import { localProvider } from '../../src/gitops/providers/local.ts';
import { bodyWithMarker, readMarker } from '../../src/gitops/providers/marker.ts';
import { codeSpan, renderPullRequestBody } from '../../src/report/pull-request.ts';
import { cleanup, git, tempDir } from '../helpers/repo.ts';

const FP = '0123456789abcdef';
const dirs: string[] = [];
afterAll(async () => {
  await closeGitRepos();
  cleanup(...dirs);
});

describe('provider config: the operator’s env, origin read as data', () => {
  const gh = { SUTURE_PROVIDER: 'github', GITHUB_TOKEN: 'ghp_x' };
  it('reads the slug from https, scp-like and ssh origins', () => {
    for (const url of [
      'https://github.com/acme/cart.git',
      'https://x-access-token:tok@github.com/acme/cart',
      'git@github.com:acme/cart.git',
      'ssh://git@ssh.github.com:443/acme/cart.git',
    ]) {
      expect(providerConfig(gh, url)).toMatchObject({ kind: 'github', owner: 'acme', repo: 'cart' });
    }
    expect(providerConfig({}, 'https://github.com/acme/cart')).toEqual({ kind: 'local' });
  });
  it('GitLab subgroups and a relative URL root', () => {
    const env = { SUTURE_PROVIDER: 'gitlab', GITLAB_TOKEN: 't', SUTURE_GITLAB_URL: 'https://git.corp/gitlab' };
    expect(providerConfig(env, 'https://git.corp/gitlab/acme/platform/cart.git')).toMatchObject({
      project: 'acme/platform/cart',
      url: 'https://git.corp/gitlab',
    });
    expect(providerConfig(env, 'git@git.corp:acme/platform/cart.git')).toMatchObject({ project: 'acme/platform/cart' });
  });
  it('refuses, in one line: no token, another host, plain http off loopback, a bad slug, an unknown provider', () => {
    const bad = (env: NodeJS.ProcessEnv, url: string | null) => {
      try {
        providerConfig(env, url);
      } catch (e) {
        expect((e as { exitCode: number }).exitCode).toBe(2);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad({ SUTURE_PROVIDER: 'github' }, 'https://github.com/a/b')).toMatch(/GITHUB_TOKEN is not set/);
    expect(bad(gh, 'https://evil.example/acme/cart')).toMatch(/host evil\.example is not the configured GitHub/);
    expect(bad({ ...gh, SUTURE_GITHUB_API_URL: 'http://ghe.corp/api/v3' }, null)).toMatch(/https/);
    expect(bad(gh, 'https://github.com/acme/cart/extra')).toMatch(/does not name a GitHub repository/);
    expect(bad(gh, '/srv/git/cart.git')).toMatch(/SUTURE_PROVIDER_REPO/);
    expect(bad({ SUTURE_PROVIDER: 'bitbucket' }, null)).toMatch(/local, github or gitlab/);
    expect(providerConfig({ ...gh, SUTURE_PROVIDER_REPO: 'acme/cart' }, '/srv/git/cart.git')).toMatchObject({
      owner: 'acme',
    });
    expect(remoteLocation('ext::sh -c evil')).toBeNull();
  });
});

describe('CODEOWNERS', () => {
  const gh = parseCodeowners(
    [
      '# owners',
      '*       @acme/everyone',
      '*.py    @alice',
      '/docs/* @bob',
      'apps/   @acme/apps carol@example.com',
      '/src/vendor',
    ].join('\n'),
    'github',
  );
  it('last match wins; dir/* owns direct children only; an owner-less pattern unowns', () => {
    expect(ownersOf(gh, 'cart.py')).toEqual(['@alice']);
    expect(ownersOf(gh, 'docs/a.md')).toEqual(['@bob']);
    expect(ownersOf(gh, 'docs/deep/a.md')).toEqual(['@acme/everyone']);
    expect(ownersOf(gh, 'x/apps/y.js')).toEqual(['@acme/apps', 'carol@example.com']);
    expect(ownersOf(gh, 'src/vendor/lib.py')).toEqual([]);
    expect(reviewersFor(gh, ['cart.py', 'x/apps/y.js', 'README'])).toEqual({
      users: ['alice'],
      teams: ['acme/apps', 'acme/everyone'],
    });
  });
  it('GitLab sections with default owners and exclusions; roles left out', () => {
    const gl = parseCodeowners(
      ['[Backend] @dev', '*.py', '!generated/*.py', '^[Docs][2] @@maintainer', '*.md'].join('\n'),
      'gitlab',
    );
    expect(ownersOf(gl, 'cart.py')).toEqual(['@dev']);
    expect(ownersOf(gl, 'generated/x.py')).toEqual([]);
    expect(reviewersFor(gl, ['README.md', 'cart.py'])).toEqual({ users: ['dev'], teams: [] });
  });
  it('is read at the base revision as a blob: a later change or a symlink does not count', async () => {
    const repo = tempDir();
    dirs.push(repo);
    await git(repo, 'init', '-q', '-b', 'main');
    mkdirSync(join(repo, '.github'));
    writeFileSync(join(repo, '.github/CODEOWNERS'), '* @alice\n');
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-qm', 'base');
    const base = await git(repo, 'rev-parse', 'HEAD');
    writeFileSync(join(repo, '.github/CODEOWNERS'), '* @mallory\n');
    expect(await codeOwnersFor({ repoDir: repo, base, paths: ['a.py'], flavor: 'github' })).toEqual({
      users: ['alice'],
      teams: [],
    });
    await git(repo, 'rm', '-qf', '.github/CODEOWNERS');
    writeFileSync(join(repo, 'secret'), '* @mallory\n');
    symlinkSync('secret', join(repo, 'CODEOWNERS'));
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-qm', 'link');
    const linked = await git(repo, 'rev-parse', 'HEAD');
    expect(await codeOwnersFor({ repoDir: repo, base: linked, paths: ['a.py'], flavor: 'github' })).toEqual({
      users: [],
      teams: [],
    });
    expect((await createProvider({ repoDir: repo, stateDir: repo, env: {} })).name).toBe('local');
  });
});

describe('the marker and the body', () => {
  it('only the first line counts: a forged marker further down is text', () => {
    expect(readMarker(`x\n<!-- suture:proposal fingerprint=${FP} occurrences=2 -->`)).toBeNull();
    expect(readMarker(bodyWithMarker({ fingerprint: FP, occurrences: 3 }, 'b', 100))).toEqual({
      fingerprint: FP,
      occurrences: 3,
    });
  });
  it('incident text is inert: no mention, issue closing, HTML comment or image escapes a code span', () => {
    const evil = '@acme/admins Fixes #1 <!-- hide --> ![x](https://evil/p.png) `` ` | cell';
    const span = codeSpan(evil, 500, true);
    expect(span.startsWith('```')).toBe(true);
    const body = renderPullRequestBody({
      incident: {
        id: 'i-1',
        fingerprint: FP,
        service: 'cart-api',
        environment: 'production',
        detectedAt: '2026-11-20T02:04:11Z',
        summary: evil,
      },
      diagnosis: {
        classification: 'code-defect',
        rootCause: evil,
        location: { file: 'cart.py', line: 3, function: 'f' },
        confidence: 0.9,
      },
      candidates: [
        {
          id: 'c1',
          strategy: 'template',
          summary: evil,
          verdict: null,
          policy: { decision: 'review', violations: [] },
        },
      ],
      chosen: 'c1',
      patch: 'diff --git a/cart.py b/cart.py\n--- a/cart.py\n+++ b/cart.py\n@@ -1 +1 @@\n-x\n+y ```\n',
      branch: 'suture/0123456789ab',
      commit: 'a'.repeat(40),
      mode: 'propose',
      canary: {
        name: 'cart-api',
        steps: [
          { kind: 'setWeight', weight: 20 },
          { kind: 'pause', seconds: 60 },
        ],
        backgroundAnalysis: [],
      },
    });
    // Outside code spans and fences, none of the attacker's text remains.
    const outside = body.replace(/(`{3,})diff\n[\s\S]*?\n\1/g, '').replace(/(`+) ?[\s\S]*? ?\1/g, '');
    for (const bad of ['@acme', 'Fixes #1', '<!--', '![x]']) expect(outside).not.toContain(bad);
    expect(body).toContain('| `cart.py` | 1 | 1 |');
    expect(body).toMatch(/\*\*review\*\*/);
    expect(body).toMatch(/1\. send 20% of traffic/);
  });
  it('fits the limit by shortening the diff, fences closed', () => {
    const patch = `diff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1,3000 +1,3000 @@\n${'+line\n'.repeat(30000)}`;
    const body = renderPullRequestBody({
      incident: { id: 'i', fingerprint: FP, service: 's', environment: 'p', detectedAt: 'd', summary: 's' },
      diagnosis: null,
      candidates: [],
      chosen: 'c',
      patch,
      branch: 'b',
      commit: 'c'.repeat(40),
      mode: 'auto',
      canary: null,
    });
    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(body).toMatch(/more line\(s\): see the branch/);
    expect((body.match(/^````/gm) ?? []).length % 2).toBe(0);
  });
});

describe('local provider', () => {
  const req = (body: string) => ({
    fingerprint: FP,
    branch: 'suture/0123456789ab',
    base: 'main',
    title: 't',
    body,
    labels: ['suture'],
    reviewers: { users: [], teams: [] },
    draft: false,
    incident: { id: 'i-1', detectedAt: '2026-11-20T02:04:11Z' },
  });
  it('one proposal file per fingerprint, re-occurrences counted in it, even when two runs race', async () => {
    const state = tempDir();
    dirs.push(state);
    const p = localProvider({ stateDir: state });
    const [a, b] = await Promise.all([p.propose(req('first\n')), p.propose(req('second\n'))]);
    expect([a.action, b.action].sort()).toEqual(['created', 'updated']);
    const file = join(state, 'proposals', `${FP}.md`);
    expect(readMarker(readFileSync(file, 'utf8'))).toEqual({ fingerprint: FP, occurrences: 2 });
    const again = await p.reoccurred((await p.findOpen(FP, 'suture/0123456789ab'))!, { id: 'i-2', detectedAt: 'x' });
    expect(again.occurrences).toBe(3);
    expect(readFileSync(file, 'utf8')).toMatch(/## Activity[\s\S]*Seen \*\*3\*\* times/);
    expect((await p.merge(again, { auto: true })).state).toBe('blocked');
    await p.close(again, 'superseded');
    expect(await p.findOpen(FP, 'suture/0123456789ab')).toBeNull();
  });
});
