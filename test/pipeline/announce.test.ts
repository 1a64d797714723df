import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localProvider } from '../../src/gitops/providers/local.ts';
import { ABORTED_LABEL, announceCanary, canaryComment } from '../../src/pipeline/stages/announce.ts';
import { cleanup, tempDir } from '../helpers/repo.ts';

const FP = '0123456789abcdef';
const dirs: string[] = [];
afterAll(() => cleanup(...dirs));

async function mergedProposal() {
  const state = tempDir();
  dirs.push(state);
  const p = localProvider({
    stateDir: state,
    merge: async () => ({ state: 'merged', detail: 'fast-forwarded main' }),
  });
  const pr = await p.propose({
    fingerprint: FP,
    branch: 'suture/0123456789ab',
    base: 'main',
    title: 't',
    body: 'the fix',
    labels: ['suture'],
    reviewers: { users: [], teams: [] },
    draft: false,
    incident: { id: 'i-1', detectedAt: '2026-11-20T02:04:11Z' },
  });
  await p.merge(pr, { sha: 'a'.repeat(40), method: 'squash' } as never);
  return { p, pr, meta: () => JSON.parse(readFileSync(join(state, 'proposals', `${FP}.json`), 'utf8')) };
}

describe('announceCanary', () => {
  it('an abort labels the merged proposal and comments with the reason and the revert', async () => {
    const { p, pr, meta } = await mergedProposal();
    const notes = await announceCanary(p, pr, {
      decision: 'aborted',
      at: 42,
      reason: 'canary error rate 20% vs 1% on stable',
      reverted: { commit: 'b'.repeat(40) },
    });
    expect(notes).toEqual([]);
    expect(meta().labels).toContain(ABORTED_LABEL);
    const last = meta().activity.at(-1).text as string;
    expect(last).toMatch(/canary aborted.*42 s.*20% vs 1%/s);
    expect(last).toContain('bbbbbbbbbbbb');
  });

  it('a promotion comments without the abort label; no canary, nothing said', async () => {
    const { p, pr, meta } = await mergedProposal();
    expect(await announceCanary(p, pr, { decision: 'promoted', at: 60, reason: 'no regression' })).toEqual([]);
    expect(meta().labels).not.toContain(ABORTED_LABEL);
    expect(meta().activity.at(-1).text).toMatch(/promoted/);
    const before = meta().activity.length;
    await announceCanary(p, pr, null);
    expect(meta().activity.length).toBe(before);
  });

  it('a provider that fails costs a note, not the heal', async () => {
    const { pr } = await mergedProposal();
    const broken = localProvider({ stateDir: tempDir() });
    const notes = await announceCanary(broken, pr, { decision: 'aborted', at: 1, reason: 'x' });
    expect(notes.join()).toMatch(/not told about the canary/);
  });
});

describe('canaryComment', () => {
  it('a release that failed is never called a promotion, and its reason is one redacted line', async () => {
    const text = canaryComment({
      decision: 'error',
      at: 0,
      reason: 'docker build failed: token ghp_R2d2C3poR2d2C3poR2d2C3poR2d2C3po1234\n## injected heading',
    });
    expect(text).not.toMatch(/promoted/);
    expect(text).toMatch(/release of this fix failed/);
    expect(text).not.toMatch(/ghp_\w{4}/);
    expect(text.split('\n')).toHaveLength(1);
  });
});
