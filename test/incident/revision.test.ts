/**
 * The incident's revision (issue 10, item 8): a crash report's `revision`, an Alertmanager label or
 * annotation `revision`/`version`, validated on intake as a commit id or a plain ref name — never an
 * option or a revision expression, since it ends up on git's command line.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { buildIncident } from '../../src/incident/intake.ts';
import { isRevision, revisionProblem } from '../../src/incident/revision.ts';
import { readAlertPayload } from '../../src/serve/alert-intake.ts';

const TB =
  'Traceback (most recent call last):\n  File "/srv/cart/cart.py", line 9, in total\n    return a / b\nZeroDivisionError: division by zero\n';

const report = (extra: Record<string, unknown>) => ({ kind: 'crash', service: 'cart-api', logs: TB, ...extra });

const alert = (labels: Record<string, string>, annotations: Record<string, string> = {}) => ({
  version: '4',
  status: 'firing',
  commonLabels: {},
  commonAnnotations: {},
  alerts: [
    { status: 'firing', labels: { service: 'cart-api', ...labels }, annotations: { traceback: TB, ...annotations } },
  ],
});

describe('revision shapes', () => {
  it.each([
    'a3f9c2e',
    '3f786850e387550fdab836ed7e6dc881de23001b',
    'b'.repeat(64),
    'main',
    'HEAD',
    'v1.2.3',
    '1.4.0+build.5',
    'release/2026-11',
    'refs/tags/v2.0.0',
    'feature/cart_totals-2',
  ])('accepts %s', (rev) => {
    expect(revisionProblem(rev)).toBeNull();
  });

  it.each([
    ['', /empty/],
    ['--output=/tmp/pwned', /start with "-"/],
    ['-n', /start with "-"/],
    ['--end-of-options', /start with "-"/],
    ['HEAD~1', /commit id or a ref name/],
    ['main^{tree}', /commit id or a ref name/],
    [':/fix the bug', /commit id or a ref name/],
    ['@{-1}', /commit id or a ref name/],
    ['main@{yesterday}', /commit id or a ref name/],
    ['a..b', /\.\./],
    ['main...HEAD', /\.\./],
    ['refs/heads/.hidden', /starting with "\."/],
    ['main.lock', /\.lock/],
    ['a//b', /empty component/],
    ['/etc/passwd', /empty component/],
    ['trailing/', /empty component/],
    ['v1.', /end with "\."/],
    ['two words', /commit id or a ref name/],
    ['line\nbreak', /commit id or a ref name/],
    ['x'.repeat(256), /at most 255/],
  ])('refuses %j', (rev, why) => {
    expect(revisionProblem(rev)).toMatch(why);
    expect(isRevision(rev)).toBe(false);
  });
});

describe('revision on intake', () => {
  it('a crash report carries it into the incident', () => {
    expect(buildIncident(report({ revision: 'v1.2.3' }), ['cart.py']).revision).toBe('v1.2.3');
    expect(buildIncident(report({}), ['cart.py']).revision).toBeUndefined();
  });

  it('a bad one is one line of bad input naming the field', () => {
    for (const revision of ['--upload-pack=touch /tmp/x', 'HEAD~2', 'a\nb', 42]) {
      let err: unknown;
      try {
        buildIncident(report({ revision }), ['cart.py']);
      } catch (e) {
        err = e;
      }
      expect(err, String(revision)).toBeInstanceOf(InputError);
      const message = (err as Error).message;
      expect(message).toMatch(/^crash report: revision: /);
      expect(message.split('\n')).toHaveLength(1);
      expect(message).not.toContain('touch');
    }
  });

  it('Alertmanager: label revision, then annotation revision, then label version, then annotation version', () => {
    const rev = (labels: Record<string, string>, annotations: Record<string, string> = {}) =>
      buildIncident(alert(labels, annotations), ['cart.py']).revision;
    expect(rev({ revision: 'abc1234', version: 'v9' }, { revision: 'def5678' })).toBe('abc1234');
    expect(rev({ version: 'v9' }, { revision: 'def5678' })).toBe('def5678');
    expect(rev({ version: 'v9' }, { version: 'v8' })).toBe('v9');
    expect(rev({}, { version: 'v8' })).toBe('v8');
    expect(rev({})).toBeUndefined();
  });

  it('Alertmanager: a bad label or annotation is bad input, and POST /alerts answers 400', () => {
    expect(() => buildIncident(alert({ version: '--exec=sh' }), ['cart.py'])).toThrow(
      /^alertmanager payload: alerts\.0\.labels\.version: the version label must not start with "-"$/,
    );
    expect(() => buildIncident(alert({}, { revision: 'HEAD^{/x}' }), ['cart.py'])).toThrow(
      /alerts\.0\.annotations\.revision: the revision annotation must be a commit id or a ref name/,
    );
    expect(() => readAlertPayload(alert({ revision: '-p' }), 10)).toThrow(/alerts\[0\].*revision/);
  });
});
