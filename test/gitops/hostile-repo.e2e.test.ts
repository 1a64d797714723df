/**
 * Issue 8, finding 12: a repository's own git configuration and attributes must never run a program on the
 * host. A whole `suture heal --mode auto` (export, blame, commit, branch, push, merge to a real bare origin)
 * on a repository that names a program in every place git would run one: none runs, the fix still lands.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addOrigin, cleanup, cli, git, repoFromService, SERVICES, tempDir } from '../helpers/repo.ts';
import { armRepo, makeTrap } from './hostile.ts';

const made: string[] = [];
afterAll(() => cleanup(...made));

describe('heal on a repository whose git config and attributes name programs', () => {
  it('runs none of them, and the verified fix still lands on origin', async () => {
    const repo = await repoFromService('pricing-api');
    const remote = await addOrigin(repo);
    const trap = makeTrap();
    const state = tempDir('suture-state-');
    // The user's own global config, isolated from this machine's: trusted, and empty here.
    const home = tempDir('suture-home-');
    const globalConfig = join(home, 'gitconfig');
    writeFileSync(globalConfig, '');
    made.push(repo, remote, trap.dir, state, home);
    await armRepo(repo, trap, { originPath: remote });
    const base = await git(remote, 'rev-parse', 'main');

    const incident = join(SERVICES, 'pricing-api', 'incident.json');
    const args = ['heal', '--repo', repo, '--incident', incident, '--state', state, '--mode', 'auto', '--json'];
    // The operator allows local merges (no provider here): the whole path to origin's main is exercised.
    const r = await cli(args, { GIT_CONFIG_GLOBAL: globalConfig, SUTURE_LOCAL_MERGE: 'fast-forward' });
    const ran = trap.ran(); // before any other git command runs in the armed repo
    expect(ran, 'programs named by the repository ran').toBe('');
    expect(r.exitCode, r.stderr).toBe(0);

    const out = JSON.parse(r.stdout);
    expect(out.status, out.reason).toBe('fixed');
    expect(await git(remote, 'rev-parse', 'main')).toBe(out.commit);
    expect(await git(remote, 'rev-parse', `${out.commit}^`)).toBe(base);
    expect(await git(remote, 'rev-parse', out.branch)).toBe(out.commit);
    // a plain commit by suture: no signature, the fix and its test only
    expect(await git(remote, 'cat-file', '-p', out.commit)).not.toMatch(/^gpgsig/m);
    expect((await git(remote, 'diff', '--name-only', base, out.commit)).split('\n').sort()).toEqual(
      ['pricing.py', out.candidates[0].verdict.regressionTest.file].sort(),
    );
  });
});
