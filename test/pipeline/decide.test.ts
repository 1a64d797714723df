import { describe, expect, it } from 'vitest';
import type { Delivered } from '../../src/gitops/deliver.ts';
import { deliveryStop, requirePassing } from '../../src/pipeline/decide.ts';
import { Halt } from '../../src/pipeline/halt.ts';

const delivered = (over: Partial<Delivered> = {}, mode: 'propose' | 'auto' = 'auto'): Delivered =>
  ({
    kind: 'delivered',
    delivery: { branch: 'suture/abc', commit: 'c0ffee'.padEnd(40, '0'), candidate: 'c1', decision: 'allow', mode },
    pushed: true,
    proposal: null,
    merge: { state: 'merged', detail: 'fast-forwarded main' },
    resumed: false,
    notes: [],
    ...over,
  }) as Delivered;

describe('deliveryStop', () => {
  it('a merged fix whose canary aborted is `aborted`, never `fixed`', () => {
    const s = deliveryStop(delivered(), 'allow', { decision: 'aborted', at: 40, reason: 'canary errors 20% vs 1%' });
    expect(s.status).toBe('aborted');
    expect(s.reason).toMatch(/canary aborted .*nothing was reverted/);
  });

  it('a merged fix is `fixed`, with or without a promoted canary', () => {
    expect(deliveryStop(delivered(), 'allow', { decision: 'promoted', at: 60, reason: 'ok' }).status).toBe('fixed');
    expect(deliveryStop(delivered(), 'allow').status).toBe('fixed');
  });

  it('auto mode with policy review is only proposed', () => {
    const s = deliveryStop(delivered({ merge: null }), 'review');
    expect(s).toMatchObject({ status: 'proposed', reason: expect.stringMatching(/a human must approve/) });
  });

  it('a duplicate stays a duplicate', () => {
    expect(
      deliveryStop({ kind: 'duplicate', branch: 'suture/abc', reason: 'open', proposal: null }, undefined),
    ).toEqual({
      status: 'duplicate',
      reason: 'open',
    });
  });
});

describe('requirePassing', () => {
  it('stops with no-fix when nothing passed, and keeps only the passing candidates otherwise', () => {
    const c = (id: string) => ({ id }) as never;
    const v = (verdict: 'pass' | 'fail') => ({ verdict }) as never;
    expect(() => requirePassing([c('a')], [v('fail')])).toThrow(Halt);
    expect(requirePassing([c('a'), c('b')], [v('fail'), v('pass')]).map((p) => p.candidate)).toEqual([c('b')]);
  });
});

describe('deliveryStop after a release', () => {
  it('names the revert when there was one, and escalates a release that failed after the merge', () => {
    const aborted = deliveryStop(delivered(), 'allow', {
      decision: 'aborted',
      at: 3,
      reason: 'x',
      reverted: { commit: 'f'.repeat(40) },
    });
    expect(aborted.reason).toMatch(/image bump was reverted \(ffffffffffff\)/);
    const failed = deliveryStop(delivered(), 'allow', { decision: 'error', at: 0, reason: 'docker build failed' });
    expect(failed).toMatchObject({
      status: 'escalated',
      reason: expect.stringMatching(/release failed \(docker build failed\)/),
    });
  });
});
