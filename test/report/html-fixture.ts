/**
 * A heal's report input as an attacker would like it: every field the page shows carries markup, a
 * script, an event handler, a bidi override or a secret. Shared by the renderer's unit tests and the
 * Chromium test.
 */
import type { HtmlReportInput } from '../../src/report/html.ts';

export const SCRIPT = '<script>document.title="pwned-script";window.pwned=1</script>';
export const IMG = `<img src=x onerror="document.title='pwned-img';window.pwned=2">`;
export const AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';

const verdict = (over: Record<string, unknown>) => ({
  verdict: 'pass',
  reproduced: true,
  fixed: true,
  fixedStatusClass: '2xx',
  testsPassed: true,
  regressionTest: { file: 'tests/test_regression_abc.py', failsBefore: true, passesAfter: true },
  differential: { status: 'compared', compared: 2, mismatches: [], omitted: 0, noise: [], unstable: [] },
  reasons: [],
  durationMs: 2100,
  installNetwork: null,
  evidence: {},
  ...over,
});

export const PATCH = [
  'diff --git a/pricing.py b/pricing.py',
  '--- a/pricing.py',
  '+++ b/pricing.py',
  '@@ -4,3 +4,5 @@ def average_discount(discounts):',
  '     total = sum(d["percent"] for d in discounts)',
  '+    if len(discounts) == 0:',
  '+        return 0',
  '     return total / len(discounts)',
  `+# </pre>${SCRIPT} access = "user\u202e \u2066// admin\u2069 \u2066"`,
].join('\n');

export function hostileReport(): HtmlReportInput {
  const t0 = Date.parse('2026-11-23T04:30:00Z');
  const at = (ms: number) => new Date(t0 + ms).toISOString();
  return {
    incident: {
      id: 'abc123def456-20261123042733',
      fingerprint: 'abc123def4567890',
      service: 'pricing-api',
      environment: 'production',
      detectedAt: '2026-11-23T04:27:33Z',
      signal: 'crash',
      summary: `ZeroDivisionError: division by zero ${SCRIPT} ${IMG}`,
    },
    result: {
      status: 'aborted',
      reason: `the canary aborted ${IMG}`,
      incident: {
        id: 'abc123def456-20261123042733',
        fingerprint: 'abc123def4567890',
        service: 'pricing-api',
        signal: 'crash',
        summary: 'x',
      },
      diagnosis: {
        classification: 'code-defect',
        rootCause: `ZeroDivisionError in average_discount (pricing.py:6) key ${AWS_KEY}`,
        location: { file: 'pricing.py', line: 6, function: 'average_discount' },
        confidence: 0.8,
        reason: 'the crash surfaced in the repo code',
        whatToCheck: [],
        notes: [],
      },
      candidates: [
        {
          id: 'c1',
          strategy: 'template:zero-division',
          summary: 'guard the division in average_discount',
          verdict: verdict({}),
          policy: { decision: 'allow', violations: [] },
        },
        {
          id: 'c2',
          strategy: 'template:zero-division',
          summary: `return early ${IMG}`,
          verdict: verdict({
            verdict: 'fail',
            differential: {
              status: 'compared',
              compared: 2,
              mismatches: [{ request: 'POST /quote', path: '$.total', base: 27, candidate: '<b>bold-mismatch</b>' }],
              omitted: 0,
              noise: [],
              unstable: [],
            },
            reasons: ['healthy request POST /quote answers differently: $.total 27 → "<b>bold-mismatch</b>"'],
          }),
          policy: null,
        },
        {
          id: 'c3',
          strategy: 'llm',
          summary: 'catch everything',
          verdict: verdict({ testsPassed: true }),
          policy: {
            decision: 'deny',
            violations: [
              {
                id: 'tests/deleted',
                message: `a test was deleted <iframe src="javascript:alert(1)">`,
                path: 'tests/test_x.py',
              },
            ],
          },
        },
      ],
      chosen: 'c1',
      branch: 'suture/abc123def456',
      commit: '0123456789abcdef0123456789abcdef01234567',
      pullRequest: { number: 42, url: 'https://github.example/acme/pricing/pull/42' },
      // what the canary stage leaves on the result: its decision and the buckets it judged
      canary: {
        decision: 'abort',
        at: 95,
        reason: `canary error rate 20 % vs stable 1 % <svg onload=alert(1)>`,
        series: Array.from({ length: 12 }, (_, k) => ({
          t: (k + 1) * 10,
          stable: { requests: 40, errors: k % 3 === 0 ? 1 : 0 },
          canary: { requests: 4, errors: k >= 4 ? 1 : 0 },
        })),
      },
      report: null,
      timings: { intake: 40, evidence: 120, diagnose: 300, verify: 6200, gate: 400, deliver: 150, total: 7400 },
      notes: [`llm: off ${SCRIPT}`],
      ranking: [{ id: 'c1', keys: { policy: 1, differential: 1, fit: 1, size: -1, strategy: 3, confidence: 0.8 } }],
    },
    evidence: {
      frames: [],
      excerpts: [
        {
          file: 'pricing.py',
          line: 6,
          startLine: 4,
          function: 'average_discount',
          lines: [
            'def average_discount(discounts):',
            '    total = sum(d["percent"] for d in discounts)',
            '    return total / len(discounts)  # </pre><script>window.pwned=3</script>',
          ],
        },
      ],
      commits: [
        {
          sha: 'f'.repeat(40),
          author: 'mallory <m@example.com>',
          date: '2026-11-22T10:00:00Z',
          subject: `drop the guard <img src=x onerror=alert(1)>`,
          file: 'pricing.py',
          line: 6,
        },
      ],
      logs: `Traceback (most recent call last):\nZeroDivisionError: division by zero ${SCRIPT}`,
      redactions: 0,
    },
    candidates: [
      { id: 'c1', patch: PATCH },
      { id: 'c2', patch: 'diff --git a/pricing.py b/pricing.py\n+    return None' },
    ],
    timeline: [
      { ts: at(40), run: 'heal-1', stage: 'intake', outcome: 'ok', durationMs: 40, detail: `summary ${IMG}` },
      { ts: at(160), run: 'heal-1', stage: 'evidence', outcome: 'ok', durationMs: 120 },
      {
        ts: at(460),
        run: 'heal-1',
        stage: 'diagnose',
        outcome: 'ok',
        durationMs: 300,
        detail: 'code-defect, 3 candidate(s)',
      },
      { ts: at(6660), run: 'heal-1', stage: 'verify', outcome: 'ok', durationMs: 6200, detail: 'pass,fail,pass' },
      { ts: at(7060), run: 'heal-1', stage: 'gate', outcome: 'ok', durationMs: 400 },
      { ts: at(7210), run: 'heal-1', stage: 'deliver', outcome: 'ok', durationMs: 150 },
      { ts: at(7400), run: 'heal-1', stage: 'canary', outcome: 'error', durationMs: 190, detail: 'aborted' },
    ],
    generatedAt: '2026-11-23T04:31:00Z',
  } as unknown as HtmlReportInput;
}
