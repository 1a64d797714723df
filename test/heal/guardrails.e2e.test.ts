/**
 * The guardrails through `suture heal` on a real repo: a repository that has not opted in, the kill-switch
 * file and the operator's flag all keep a heal in observe mode (no branch), and a fingerprint that keeps
 * failing is escalated instead of tried again. The result shows which guardrail acted.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recordHeal } from '../../src/knowledge/store.ts';
import { cleanup, git, heal, healWith, repoFromService, tempDir } from '../helpers/repo.ts';

const made: string[] = [];
afterAll(() => cleanup(...made));

async function fixture(optIn: boolean) {
  const repo = await repoFromService('pricing-api');
  const state = tempDir('suture-guard-state-');
  made.push(repo, state);
  if (!optIn) {
    const yaml = join(repo, 'suture.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/^autonomy:.*$/m, ''));
    await git(repo, 'commit', '-qam', 'no opt-in');
  }
  return { repo, state };
}

const branches = async (repo: string) => (await git(repo, 'branch', '--list', 'suture/*')).trim();

describe('guardrails through suture heal', () => {
  it('a repository without `autonomy` in suture.yaml gets observe mode: verified, no branch', async () => {
    const { repo, state } = await fixture(false);
    const r = await heal('pricing-api', repo, state, '--mode', 'auto', '--no-push');
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.status).toBe('observed');
    expect(out.guardrails).toMatchObject({ requested: 'auto', mode: 'observe' });
    expect(out.guardrails.applied.join()).toMatch(/until suture\.yaml opts in/);
    expect(await branches(repo)).toBe('');
  });

  it('the kill-switch file in the state dir, then the operator flag, force observe mode', async () => {
    const { repo, state } = await fixture(true);
    writeFileSync(join(state, 'kill-switch'), 'incident review in progress\n');
    const byFile = JSON.parse((await heal('pricing-api', repo, state, '--mode', 'propose', '--no-push')).stdout);
    expect(byFile.status).toBe('observed');
    expect(byFile.guardrails.applied.join()).toMatch(/kill switch \(kill-switch file\)/);
    const other = await fixture(true);
    const byFlag = JSON.parse(
      (
        await healWith(
          { SUTURE_KILL_SWITCH: '1' },
          'pricing-api',
          other.repo,
          other.state,
          '--mode',
          'propose',
          '--no-push',
        )
      ).stdout,
    );
    expect(byFlag.status).toBe('observed');
    expect(byFlag.guardrails.applied.join()).toMatch(/kill switch \(config\)/);
    expect(await branches(repo)).toBe('');
    expect(await branches(other.repo)).toBe('');
  });

  it('a crash whose heals keep failing is escalated without running the sandbox again', async () => {
    const { repo, state } = await fixture(true);
    const env = { SUTURE_MAX_ATTEMPTS: '1', SUTURE_COOLDOWN_MINUTES: '0' };
    const first = JSON.parse((await healWith(env, 'pricing-api', repo, state, '--mode', 'observe')).stdout);
    expect(first.status).toBe('observed');
    // Make the last heal a failure the way a real one would be recorded, then heal again.
    recordHeal(state, {
      fingerprint: first.incident.fingerprint,
      incident: first.incident.id,
      service: 'pricing-api',
      recordedAt: new Date().toISOString(),
      status: 'no-fix',
      reason: 'no candidate passed verification',
      base: 'HEAD',
      diagnosis: null,
      candidates: [],
      chosen: null,
      branch: null,
      commit: null,
    });
    const again = await healWith(env, 'pricing-api', repo, state, '--mode', 'propose', '--no-push');
    const out = JSON.parse(again.stdout);
    expect(out.status).toBe('escalated');
    expect(out.reason).toMatch(/1 failed heals in a row/);
    expect(out.timings.verify).toBeUndefined();
    expect(await branches(repo)).toBe('');
  });
});
