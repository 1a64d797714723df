/** Ranking of verified candidates: pure, key by key, with a deterministic tie-break. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  changedSourceLines,
  inputJudgedInvalid,
  type RankInput,
  rankCandidates,
  strategyPrior,
} from '../../src/diagnose/rank.ts';

function patchOf(lines: number, file = 'app/x.py', test?: string): string {
  let p = `diff --git a/${file} b/${file}\n--- a/${file}\n+++ b/${file}\n@@ -1,1 +1,${lines} @@\n`;
  for (let i = 0; i < lines; i++) p += `+line ${i}\n`;
  if (test)
    p += `diff --git a/${test} b/${test}\nnew file mode 100644\n--- /dev/null\n+++ b/${test}\n@@ -0,0 +1,3 @@\n+a\n+b\n+c\n`;
  return p;
}

function cand(over: Partial<RankInput> & { id: string }): RankInput {
  return {
    strategy: 'template:missing-key:default',
    confidence: 0.7,
    patch: patchOf(2),
    policy: 'allow',
    differential: { status: 'compared', mismatches: 0 },
    fixedStatusClass: '2xx',
    ...over,
  };
}

const order = (list: RankInput[], proposed?: Pick<RankInput, 'strategy' | 'confidence'>[]) =>
  rankCandidates(list, proposed).map((r) => r.candidate.id);

describe('rankCandidates', () => {
  it.each([
    [
      'allow beats review, whatever else',
      [cand({ id: 'a', policy: 'review', strategy: 'revert' }), cand({ id: 'b' })],
      ['b', 'a'],
    ],
    [
      'a compared-equal differential beats none',
      [cand({ id: 'a', differential: { status: 'none', mismatches: 0 }, strategy: 'revert' }), cand({ id: 'b' })],
      ['b', 'a'],
    ],
    [
      'fewer changed source lines, in steps of five',
      [cand({ id: 'a', patch: patchOf(12), strategy: 'revert' }), cand({ id: 'b', patch: patchOf(3) })],
      ['b', 'a'],
    ],
    [
      'a line or two is no reason: the strategy prior decides',
      [cand({ id: 'a', patch: patchOf(4) }), cand({ id: 'b', patch: patchOf(2), strategy: 'revert' })],
      ['b', 'a'],
    ],
    [
      'strategy prior: knowledge, revert, boundary validation, fault site, LLM',
      [
        cand({ id: 'l', strategy: 'llm', confidence: 0.99 }),
        cand({ id: 's', strategy: 'template:none-attr:default' }),
        cand({ id: 'r', strategy: 'revert:abc' }),
        cand({ id: 'k', strategy: 'knowledge:revert' }),
      ],
      ['k', 'r', 's', 'l'],
    ],
    ['then confidence', [cand({ id: 'a', confidence: 0.6 }), cand({ id: 'b', confidence: 0.8 })], ['b', 'a']],
    ['then the id, numerically', [cand({ id: 'c10' }), cand({ id: 'c2' })], ['c2', 'c10']],
    [
      'the regression test does not count toward size',
      [
        cand({
          id: 'a',
          patch: patchOf(2, 'app/x.py', 'tests/test_x.py'),
          testFile: 'tests/test_x.py',
          strategy: 'revert',
        }),
        cand({ id: 'b', patch: patchOf(2) }),
      ],
      ['a', 'b'],
    ],
  ])('%s', (_name, list, expected) => {
    expect(order(list)).toEqual(expected);
  });

  it('prefers a 4xx when the strategies judged the input invalid, a 2xx when they judged it valid', () => {
    const validate = cand({
      id: 'v',
      strategy: 'template:missing-key:validate',
      fixedStatusClass: '4xx',
      confidence: 0.8,
    });
    const site = cand({ id: 's', strategy: 'template:missing-key:default', fixedStatusClass: '2xx', confidence: 0.7 });
    expect(order([site, validate])).toEqual(['v', 's']);
    const validateLow = { ...validate, confidence: 0.6 };
    const siteHigh = { ...site, confidence: 0.85 };
    expect(order([validateLow, siteHigh])).toEqual(['s', 'v']);
    // The judgement comes from everything proposed, also when the validation variant failed verification.
    expect(order([siteHigh], [siteHigh, { strategy: validate.strategy, confidence: 0.9 }])).toEqual(['s']);
    const revert2xx = cand({ id: 'r', strategy: 'revert', fixedStatusClass: '2xx' });
    expect(order([revert2xx, validate], [revert2xx, validate, site])).toEqual(['v', 'r']);
  });

  it('is a total, deterministic order: any permutation of the input ranks the same', () => {
    const arb = fc.uniqueArray(
      fc.record({
        id: fc.integer({ min: 1, max: 99 }).map((n) => `c${n}`),
        strategy: fc.constantFrom('revert', 'knowledge:x', 'template:a:default', 'template:a:validate', 'llm'),
        confidence: fc.double({ min: 0, max: 1, noNaN: true }),
        lines: fc.integer({ min: 1, max: 30 }),
        policy: fc.constantFrom('allow' as const, 'review' as const),
        diff: fc.constantFrom('compared', 'none') as fc.Arbitrary<'compared' | 'none'>,
        cls: fc.constantFrom('2xx' as const, '4xx' as const, null),
      }),
      { selector: (r) => r.id, minLength: 1, maxLength: 8 },
    );
    fc.assert(
      fc.property(arb, fc.func(fc.integer()), (rows, shuffleKey) => {
        const list = rows.map((r) =>
          cand({
            id: r.id,
            strategy: r.strategy,
            confidence: r.confidence,
            patch: patchOf(r.lines),
            policy: r.policy,
            differential: { status: r.diff, mismatches: 0 },
            fixedStatusClass: r.cls,
          }),
        );
        const shuffled = [...list].sort((a, b) => shuffleKey(a.id) - shuffleKey(b.id));
        expect(order(shuffled, list)).toEqual(order(list, list));
      }),
    );
  });
});

describe('ranking parts', () => {
  it('counts source lines without the regression test', () => {
    expect(changedSourceLines(patchOf(4, 'a.py', 'tests/t.py'), 'tests/t.py')).toBe(4);
    expect(changedSourceLines(patchOf(4, 'a.py', 'tests/t.py'))).toBe(7);
  });
  it('judges the input from the templates’ confidence, and says nothing without both kinds', () => {
    expect(
      inputJudgedInvalid([
        { strategy: 'template:k:validate', confidence: 0.8 },
        { strategy: 'template:k:default', confidence: 0.7 },
      ]),
    ).toBe(true);
    expect(
      inputJudgedInvalid([
        { strategy: 'template:k:check', confidence: 0.6 },
        { strategy: 'template:k:guard', confidence: 0.85 },
      ]),
    ).toBe(false);
    expect(inputJudgedInvalid([{ strategy: 'revert', confidence: 0.9 }])).toBeNull();
    expect(
      inputJudgedInvalid([
        { strategy: 'template:k:catch', confidence: 0.7 },
        { strategy: 'template:k:default', confidence: 0.7 },
      ]),
    ).toBeNull();
  });
  it('orders strategies by prior', () => {
    expect(
      ['knowledge:revert', 'revert', 'template:a:validate', 'template:a:guard', 'llm', 'other'].map(strategyPrior),
    ).toEqual([5, 4, 3, 2, 1, 0]);
  });
});
