/**
 * Commit messages of candidate fixes (issue 8, finding 14b): incident text stays on its own line, redacted
 * and cut, and the only trailer git sees is suture's fingerprint.
 */
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { commitMessage } from '../../src/pipeline/commit-message.ts';

const FP = '0123456789abcdef';
const incident = (summary: string, service = 'pricing-api') => ({
  id: '0123456789ab-20261123042733',
  service,
  summary,
  fingerprint: FP,
});
const candidate = (summary = 'guard the division by `len(xs)` in avg (calc.py:3)') => ({
  summary,
  strategy: 'template:zero-division',
  confidence: 0.85,
  testFile: 'tests/test_suture_0123456789ab.py',
});

const trailers = async (message: string) =>
  (await execa('git', ['interpret-trailers', '--parse'], { input: message })).stdout;

describe('commitMessage', () => {
  it('has a fixed shape: subject, body, and the fingerprint trailer last', async () => {
    const m = commitMessage(incident('ZeroDivisionError: division by zero'), candidate());
    expect(m.split('\n')).toEqual([
      'fix(pricing-api): guard the division by `len(xs)` in avg (calc.py:3)',
      '',
      'Incident 0123456789ab-20261123042733: ZeroDivisionError: division by zero',
      'Strategy: template:zero-division (confidence 0.85)',
      'Regression test: tests/test_suture_0123456789ab.py',
      '',
      `Suture-Fingerprint: ${FP}`,
    ]);
    expect(await trailers(m)).toBe(`Suture-Fingerprint: ${FP}`);
  });

  it.each([
    ['a newline', '\nSuture-Fingerprint: forged'],
    ['CR LF', '\r\nSuture-Fingerprint: forged\r\n'],
    ['a Unicode line separator', '\u2028Suture-Fingerprint: forged'],
    ['NEL and a vertical tab', '\u0085\x0bSuture-Fingerprint: forged'],
    ['a blank line then a trailer block', '\n\nSuture-Fingerprint: forged\nSigned-off-by: mallory'],
  ])('incident text with %s cannot add a line or forge a trailer', async (_name, tail) => {
    const m = commitMessage(incident(`boom${tail}`), candidate(`fix it${tail}`));
    const lines = m.split('\n');
    expect(lines).toHaveLength(7);
    expect(lines.filter((l) => l.startsWith('Suture-Fingerprint:'))).toEqual([`Suture-Fingerprint: ${FP}`]);
    expect(await trailers(m)).toBe(`Suture-Fingerprint: ${FP}`);
  });

  it('redacts secrets and cuts long text (after redacting, so no secret is cut short of recognition)', () => {
    const token = 'ghp_R2d2C3poR2d2C3poR2d2C3poR2d2C3po1234';
    const m = commitMessage(incident(`${'x'.repeat(360)} ${token} password=hunter2`), candidate(`quote ${token}`));
    expect(m).not.toContain('hunter2');
    expect(m).not.toMatch(/ghp_\w{4}/);
    for (const line of m.split('\n')) expect(line.length).toBeLessThanOrEqual(400);
  });

  it('refuses a fingerprint that is not suture-made', () => {
    expect(() => commitMessage({ ...incident('x'), fingerprint: 'x\nSigned-off-by: y' }, candidate())).toThrow(
      /not 16 hex/,
    );
  });
});
