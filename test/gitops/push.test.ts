/**
 * Pushing to origin: authenticated the way the user's own global config and the job's checkout say, never
 * with a program the repository's config names; bounded by a timeout; every failure told in one line.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeGitRepos } from '../../src/gitops/git.ts';
import { commitPatch, createBranch, mergeFix, pushBranch } from '../../src/gitops/repo.ts';
import { cleanup, git, ROOT, repoFromService, tempDir } from '../helpers/repo.ts';
import { FIX, makeTrap, type Trap } from './hostile.ts';
import { closedPort, gitHttpServer, type Remote, silentServer } from './servers.ts';

const made: string[] = [];
const servers: Remote[] = [];
let trap: Trap;
let globalConfig: string;
const saved = { ...process.env };

beforeEach(() => {
  trap = makeTrap();
  made.push(trap.dir);
  // The user's own global config: trusted; a fresh one per test, none of this machine's.
  globalConfig = join(trap.dir, 'global.gitconfig');
  writeFileSync(globalConfig, '');
  process.env.GIT_CONFIG_GLOBAL = globalConfig;
  process.env.GIT_CONFIG_NOSYSTEM = '1';
});
afterEach(async () => {
  process.env = { ...saved };
  for (const s of servers.splice(0)) await s.close();
});
afterAll(async () => {
  await closeGitRepos();
  cleanup(...made);
});

const BRANCH = 'suture/test';

/** pricing-api with origin at `url`, a fix commit on suture/test, and the repository's config armed. */
async function repoWithFix(url: string, extraConfig: string[] = [], armed = true) {
  const repo = await repoFromService('pricing-api');
  made.push(repo);
  const base = await git(repo, 'rev-parse', 'HEAD');
  await git(repo, 'remote', 'add', 'origin', url);
  const commit = await commitPatch({ repo, base, patch: FIX, message: 'fix' });
  await createBranch(repo, BRANCH, commit);
  const config = !armed
    ? extraConfig
    : [
        `core.sshCommand=${trap.script('repo-ssh')}`,
        `credential.helper=${trap.script('repo-credential-helper')}`,
        `remote.origin.receivepack=${trap.script('repo-receivepack')}`,
        `core.askPass=${trap.script('repo-askpass')}`,
        // a proxy nobody listens on: used, it would break every HTTP push
        'http.proxy=http://127.0.0.1:9',
        ...extraConfig,
      ];
  for (const c of config) {
    const [key, ...value] = c.split('=');
    await git(repo, 'config', '--add', key!, value.join('='));
  }
  return { repo, base, commit };
}

async function bareOrigin(root: string, from?: string): Promise<string> {
  const origin = join(root, 'origin.git');
  mkdirSync(origin, { recursive: true });
  await git(origin, 'init', '-q', '--bare');
  if (from) await git(origin, 'fetch', '-q', from, 'main:main');
  return origin;
}

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

async function failure(p: Promise<unknown>): Promise<{ message: string; ms: number }> {
  const started = Date.now();
  const err = await p.then(
    () => new Error('resolved'),
    (e: Error) => e,
  );
  return { message: err.message, ms: Date.now() - started };
}

describe('push to an HTTP origin that wants credentials', () => {
  it("authenticates with the user's global credential helper; the repository's helpers never run", async () => {
    const root = tempDir('suture-http-');
    made.push(root);
    const server = await gitHttpServer(root, (req) => req.headers.authorization === basic('tester', 's3cret'));
    servers.push(server);
    writeFileSync(globalConfig, '[credential]\n\thelper = "!f() { echo username=tester; echo password=s3cret; }; f"\n');
    const { repo, base, commit } = await repoWithFix(`${server.url}/origin.git`);
    const origin = await bareOrigin(root, repo);

    await pushBranch(repo, BRANCH);
    expect(await git(origin, 'rev-parse', BRANCH)).toBe(commit);
    expect(await mergeFix({ repo, base, commit, push: true })).toMatchObject({ merged: true });
    expect(await git(origin, 'rev-parse', 'main')).toBe(commit);
    expect(trap.ran()).toBe('');
  });

  it("sends the extra header actions/checkout leaves in the repository's config (data, not a program)", async () => {
    const root = tempDir('suture-http-');
    made.push(root);
    const server = await gitHttpServer(root, (req) => req.headers.authorization === basic('x-access-token', 'ghs_t'));
    servers.push(server);
    const { repo, commit } = await repoWithFix(`${server.url}/origin.git`, [
      `http.${server.url}/.extraheader=AUTHORIZATION: ${basic('x-access-token', 'ghs_t')}`,
    ]);
    const origin = await bareOrigin(root, repo);
    await pushBranch(repo, BRANCH);
    expect(await git(origin, 'rev-parse', BRANCH)).toBe(commit);
    expect(trap.ran()).toBe('');
  });

  it('with a terminal attached, still no prompt waits for a human', { timeout: 40_000 }, async () => {
    const root = tempDir('suture-http-');
    made.push(root);
    const server = await gitHttpServer(root, () => false);
    servers.push(server);
    const { repo } = await repoWithFix(`${server.url}/origin.git`, [], false);
    // pushBranch in a child process whose controlling terminal is a pty (script(1)); stdin stays open
    const driver = `import { pushBranch } from ${JSON.stringify(join(ROOT, 'src', 'gitops', 'repo.ts'))};
      await pushBranch(process.argv[1], ${JSON.stringify(BRANCH)}).then(() => console.log('pushed'), (e) => console.log('FAILED: ' + e.message));`;
    const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
    const command = `${q(process.execPath)} --input-type=module -e ${q(driver)} ${q(repo)}`;
    const r = await execa('script', ['-qec', command, '/dev/null'], { reject: false, timeout: 30_000 });
    expect(r.timedOut, 'the push waited on the terminal').toBe(false);
    expect(r.stdout).toMatch(/FAILED: created suture\/test but could not push it to origin: authentication failed/);
    expect(trap.ran()).toBe('');
  });

  it('without credentials, ends at once with one line saying so (no prompt waits)', async () => {
    const root = tempDir('suture-http-');
    made.push(root);
    const server = await gitHttpServer(root, () => false);
    servers.push(server);
    const { repo } = await repoWithFix(`${server.url}/origin.git`);
    const { message, ms } = await failure(pushBranch(repo, BRANCH));
    expect(message).toMatch(/^created suture\/test but could not push it to origin: authentication failed: /);
    expect(message.split('\n')).toHaveLength(1);
    expect(ms).toBeLessThan(5000);
    expect(trap.ran()).toBe('');
  });
});

describe('push to an origin that cannot be reached', () => {
  it('a silent server: ends within the network timeout with one clear line', { timeout: 20_000 }, async () => {
    process.env.SUTURE_GIT_NETWORK_TIMEOUT_MS = '1500';
    const server = await silentServer();
    servers.push(server);
    const { repo } = await repoWithFix(server.url);
    const { message, ms } = await failure(pushBranch(repo, BRANCH));
    expect(message).toMatch(/could not push it to origin: remote unreachable \(no answer before the timeout\)/);
    expect(message.split('\n')).toHaveLength(1);
    expect(ms).toBeGreaterThanOrEqual(1400);
    expect(ms).toBeLessThan(4000);
  });

  it('a refused connection: retried, then told in one line', { timeout: 20_000 }, async () => {
    const { repo } = await repoWithFix(`http://127.0.0.1:${await closedPort()}/origin.git`);
    const { message, ms } = await failure(pushBranch(repo, BRANCH));
    expect(message).toMatch(/could not push it to origin: remote unreachable: .*(connect|refused)/i);
    expect(message.split('\n')).toHaveLength(1);
    expect(ms).toBeGreaterThanOrEqual(1000); // at least one retry
    expect(ms).toBeLessThan(15_000);
  });

  it("an ssh origin uses the user's ssh command, never the repository's", async () => {
    const global = trap.script('global-ssh', 'echo "ssh: connect to host 127.0.0.1: Connection refused" >&2; exit 255');
    writeFileSync(globalConfig, `[core]\n\tsshCommand = ${global}\n`);
    const { repo } = await repoWithFix('ssh://127.0.0.1/origin.git');
    const { message } = await failure(pushBranch(repo, BRANCH));
    expect(message).toMatch(/remote unreachable: ssh: connect to host/);
    const ran = trap.ran().split('\n').filter(Boolean);
    expect(ran.length).toBeGreaterThan(0);
    expect(ran.every((l) => l.startsWith('global-ssh '))).toBe(true);
  });
});

describe('an origin that refuses the update', () => {
  it('tells a protected branch from a branch that moved on', async () => {
    const root = tempDir('suture-origin-');
    made.push(root);
    const { repo, base, commit } = await repoWithFix(join(root, 'origin.git'));
    const origin = await bareOrigin(root, repo);
    // the server's own hook (origin's, not the repository's): refuses suture/* like a branch protection rule
    const hook = join(origin, 'hooks', 'pre-receive');
    writeFileSync(
      hook,
      '#!/bin/sh\nwhile read old new ref; do case "$ref" in refs/heads/suture/*) echo "GH006: Protected branch update failed for $ref." >&2; exit 1;; esac; done\n',
      { mode: 0o755 },
    );
    const { message } = await failure(pushBranch(repo, BRANCH));
    expect(message).toMatch(/the remote refused the update \(protected branch or server hook\): GH006/);

    writeFileSync(join(repo, 'NOTES.md'), 'moved on\n');
    await git(repo, 'add', 'NOTES.md');
    await git(repo, 'commit', '-qm', 'someone else');
    await git(origin, 'fetch', '-q', repo, 'main:main');
    const merged = await mergeFix({ repo, base, commit, push: true });
    expect(merged.merged).toBe(false);
    expect(merged.detail).toMatch(/^origin\/main is not at the base revision [0-9a-f]{12} \(.*stale info/);
  });

  it.each([
    ['a remote helper', () => `ext::${trap.script('ext-transport')} %S`, /remote helper \(ext::\)/],
    ['a path inside the repository', () => './vendor/origin.git', /inside the repository under repair/],
  ])('refuses an origin that is %s', async (_name, url, message) => {
    const { repo } = await repoWithFix(url());
    mkdirSync(join(repo, 'vendor', 'origin.git'), { recursive: true });
    await git(join(repo, 'vendor', 'origin.git'), 'init', '-q', '--bare');
    const { message: m } = await failure(pushBranch(repo, BRANCH));
    expect(m).toMatch(message);
    expect(trap.ran()).toBe('');
  });
});
