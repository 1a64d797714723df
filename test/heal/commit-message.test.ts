/**
 * Commit messages of candidate fixes (issue 8, finding 14b; issue 11, item 1): incident text stays on its own
 * line, redacted and cut, and the only trailers git sees are suture's (incident, fingerprint, candidate,
 * verdict), none forgeable through incident text.
 */
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { commitMessage, parseTrailers, trailerBlock, verdictTrailer } from '../../src/pipeline/commit-message.ts';

const FP = '0123456789abcdef';
const incident = (summary: string, service = 'pricing-api') => ({
  id: '0123456789ab-20261123042733',
  service,
  summary,
  fingerprint: FP,
});
const candidate = (summary = 'guard the division by `len(xs)` in avg (calc.py:3)') => ({
  id: 'c2',
  summary,
  strategy: 'template:zero-division',
  confidence: 0.85,
  testFile: 'tests/test_suture_0123456789ab.py',
});

const trailers = async (message: string) =>
  (await execa('git', ['interpret-trailers', '--parse'], { input: message })).stdout;

const VERDICT = 'pass (reproduced, fixed, tests pass, regression test red-green, differential 3/3)';
const TRAILERS = [
  'Suture-Incident: 0123456789ab-20261123042733',
  `Suture-Fingerprint: ${FP}`,
  'Suture-Candidate: c2',
  `Suture-Verdict: ${VERDICT}`,
];

describe('commitMessage', () => {
  it("has a fixed shape: subject, body, and suture's trailers last", async () => {
    const m = commitMessage(incident('ZeroDivisionError: division by zero'), candidate(), VERDICT);
    expect(m.split('\n')).toEqual([
      'fix(pricing-api): guard the division by `len(xs)` in avg (calc.py:3)',
      '',
      'Incident 0123456789ab-20261123042733: ZeroDivisionError: division by zero',
      'Strategy: template:zero-division (confidence 0.85)',
      'Regression test: tests/test_suture_0123456789ab.py',
      '',
      ...TRAILERS,
    ]);
    expect(await trailers(m)).toBe(TRAILERS.join('\n'));
    expect(parseTrailers(m)).toEqual({
      'Suture-Incident': '0123456789ab-20261123042733',
      'Suture-Fingerprint': FP,
      'Suture-Candidate': 'c2',
      'Suture-Verdict': VERDICT,
    });
  });

  it.each([
    ['a newline', '\nSuture-Fingerprint: forged'],
    ['CR LF', '\r\nSuture-Fingerprint: forged\r\n'],
    ['a Unicode line separator', '\u2028Suture-Fingerprint: forged'],
    ['NEL and a vertical tab', '\u0085\x0bSuture-Fingerprint: forged'],
    ['a blank line then a trailer block', '\n\nSuture-Fingerprint: forged\nSigned-off-by: mallory'],
  ])('incident text with %s cannot add a line or forge a trailer', async (_name, tail) => {
    const m = commitMessage(incident(`boom${tail}`), candidate(`fix it${tail}`), VERDICT);
    const lines = m.split('\n');
    expect(lines).toHaveLength(10);
    expect(lines.filter((l) => l.startsWith('Suture-Fingerprint:'))).toEqual([`Suture-Fingerprint: ${FP}`]);
    expect(await trailers(m)).toBe(TRAILERS.join('\n'));
    expect(parseTrailers(m)['Suture-Fingerprint']).toBe(FP);
  });

  it('redacts secrets and cuts long text (after redacting, so no secret is cut short of recognition)', () => {
    const token = 'ghp_R2d2C3poR2d2C3poR2d2C3poR2d2C3po1234';
    const m = commitMessage(
      incident(`${'x'.repeat(360)} ${token} password=hunter2`),
      candidate(`quote ${token}`),
      VERDICT,
    );
    expect(m).not.toContain('hunter2');
    expect(m).not.toMatch(/ghp_\w{4}/);
    for (const line of m.split('\n')) expect(line.length).toBeLessThanOrEqual(400);
  });

  it('incident text references no issue, merge request or person on the hosting platform', () => {
    const m = commitMessage(
      incident(
        'order failed; fixes #12, closes acme/infra#7, resolves GH-8, fixes https://github.com/acme/cart/issues/5, see !3, cc @sre-oncall',
      ),
      candidate('guard `cart.items` for @admin (fixes #99)'),
      VERDICT,
    );
    const text = m.split('\n\n').slice(0, 2).join('\n');
    expect(text).not.toMatch(/[#!]\d|GH-\d|\/issues\/\d/i);
    expect(text).not.toMatch(/@[A-Za-z0-9_-]/);
    expect(text).toContain('fixes # 12');
    expect(text).toContain('@ sre-oncall');
  });

  it('refuses a fingerprint that is not suture-made', () => {
    expect(() => commitMessage({ ...incident('x'), fingerprint: 'x\nSigned-off-by: y' }, candidate(), VERDICT)).toThrow(
      /not 16 hex/,
    );
  });

  it.each([
    ['an incident id', { ...incident('x'), id: 'x\nSuture-Verdict: pass' }, candidate(), VERDICT],
    ['a candidate id', incident('x'), { ...candidate(), id: 'c1\nSuture-Verdict: pass' }, VERDICT],
    ['a verdict', incident('x'), candidate(), 'pass\nSigned-off-by: mallory'],
  ])('refuses %s that is not of the shape suture makes', (_name, i, c, v) => {
    expect(() => commitMessage(i, c, v)).toThrow(/not a value suture makes/);
  });
});

describe('verdictTrailer', () => {
  it('says what verification showed, in suture words only', () => {
    const v = {
      verdict: 'pass' as const,
      reproduced: true,
      fixed: true,
      testsPassed: true,
      regressionTest: { file: 'tests/t.py', failsBefore: true, passesAfter: true },
      differential: { status: 'compared' as const, compared: 3, mismatches: [] },
    };
    expect(verdictTrailer(v)).toBe(VERDICT);
    expect(trailerBlock({ 'Suture-Verdict': verdictTrailer(v) })).toBe(`Suture-Verdict: ${VERDICT}`);
  });
});

describe('parseTrailers', () => {
  it.each([
    ['no trailer paragraph', 'fix: x\n\nbody only'],
    ['a subject only', `Suture-Fingerprint: ${FP}`],
    ['a foreign line in the block', `fix\n\nSuture-Fingerprint: ${FP}\nSigned-off-by: someone`],
    ['a value of the wrong shape', 'fix\n\nSuture-Fingerprint: forged'],
    ['a repeated key', `fix\n\nSuture-Fingerprint: ${FP}\nSuture-Fingerprint: ${FP}`],
  ])('finds nothing in %s', (_name, message) => {
    expect(parseTrailers(message)).toEqual({});
  });
});
