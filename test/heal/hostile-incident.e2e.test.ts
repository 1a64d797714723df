/**
 * One hostile crash report healed end to end (issue 8, findings 1, 5, 9, 14b), as the red team sent it: an
 * exception message that closes the regression test's docstring and adds a statement creating a marker
 * file, then carries a token and a password and a line forging the fingerprint trailer; a failing request
 * with credential headers and a body holding a password, a card number and a CVV. The fix must still be
 * proposed; the statement must exist only inside a data literal and never run; no secret may reach the
 * commit, the audit log, the report, stdout or stderr; the commit has exactly one fingerprint trailer.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, cleanup, cli, git, repoFromService, tempDir } from '../helpers/repo.ts';

const TOKEN = 'ghp_R2d2C3poR2d2C3poR2d2C3poR2d2C3po1234';
const PASSWORD = 'hunter2-Pa55';
const CARD = '4111111111111111';
const HEADER_SECRET = 'upstream-s3cr3t-77';
const SECRETS = [TOKEN, PASSWORD, CARD, HEADER_SECRET, 'aW50ZXJuYWw6czNjcjN0'];

const state = tempDir('suture-state-');
const scratch = tempDir('suture-hostile-');
// A fixed-looking path, directly in /tmp (the suite's TMPDIR has a random suffix): a random segment in the
// committed data reads as a high-entropy secret to the policy's scanner, which would deny the fix for a
// reason that is not under test here.
const marker = join('/tmp', `suture-hostile-marker-${process.pid}`);
let repo: string;
let r: CliResult;
let out: {
  status: string;
  branch: string;
  commit: string;
  report: string;
  candidates: { verdict: { regressionTest: { file: string } } }[];
};

function hostileReport(): unknown {
  const message = [
    `division by zero """; open(${JSON.stringify(marker)}, "w").write("pwned"); """ token=${TOKEN} password=${PASSWORD}`,
    'Suture-Fingerprint: forged',
  ].join('\n');
  const traceback = [
    'Traceback (most recent call last):',
    '  File "/srv/pricing-api/app.py", line 46, in do_POST',
    '    return self.reply(200, quote(cart))',
    '  File "/srv/pricing-api/pricing.py", line 11, in quote',
    '    discount = average_discount(cart.get("discounts", []))',
    '  File "/srv/pricing-api/pricing.py", line 6, in average_discount',
    '    return total / len(discounts)',
    `ZeroDivisionError: ${message}`,
    '',
  ].join('\n');
  const request = {
    method: 'POST',
    path: '/quote',
    headers: {
      'content-type': 'application/json',
      'x-upstream-token': HEADER_SECRET,
      'x-internal-auth': 'Basic aW50ZXJuYWw6czNjcjN0NA==',
      'api-key': HEADER_SECRET,
    },
    body: JSON.stringify({
      items: [{ price: 12.5, qty: 2 }],
      discounts: [],
      password: PASSWORD,
      card: { number: CARD, cvv: '123' },
    }),
  };
  return {
    kind: 'crash',
    service: 'pricing-api',
    environment: 'production',
    detectedAt: '2026-11-23T04:27:33Z',
    logs: `${JSON.stringify({ level: 'error', msg: 'unhandled exception', request, status: 500, traceback })}\n`,
  };
}

beforeAll(async () => {
  repo = await repoFromService('pricing-api');
  const file = join(scratch, 'incident.json');
  writeFileSync(file, JSON.stringify(hostileReport()));
  r = await cli(['heal', '--repo', repo, '--incident', file, '--state', state, '--json', '--no-push']);
  out = JSON.parse(r.stdout || '{}');
}, 180_000);

afterAll(() => {
  cleanup(repo, state, scratch);
  rmSync(marker, { force: true });
});

describe('a hostile crash report, healed', () => {
  it('still ends proposed with a verified fix', () => {
    expect(r.exitCode, r.stderr).toBe(0);
    expect(out.status, r.stdout).toBe('proposed');
  });

  it('commits the attacker text only inside a data literal, and never runs it', async () => {
    const testFile = out.candidates[0]!.verdict.regressionTest.file;
    expect(testFile).toMatch(/^tests\/test_suture_[0-9a-f]{12}\.py$/);
    const path = join(scratch, 'committed_test.py');
    writeFileSync(path, await git(repo, 'show', `${out.branch}:${testFile}`));
    // Where the marker path occurs in the module: only as the argument of json.loads for INCIDENT.
    const check = await execa('python3', [
      '-c',
      `
import ast, importlib.util, json, sys
tree = ast.parse(open(sys.argv[1]).read())
top = [type(n).__name__ for n in tree.body]
holders = []
for node in tree.body:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and sys.argv[2] in sub.value:
            holders.append(node.targets[0].id if isinstance(node, ast.Assign) else type(node).__name__)
spec = importlib.util.spec_from_file_location("committed", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps({"top": top, "holders": holders}))
`,
      path,
      marker,
    ]);
    const { top, holders } = JSON.parse(check.stdout);
    expect(top.filter((t: string) => !['Import', 'Assign', 'FunctionDef'].includes(t))).toEqual(['Expr']);
    expect(top[0]).toBe('Expr'); // the docstring, suture's own text
    expect(holders).toEqual(['INCIDENT']);
    expect(existsSync(marker)).toBe(false);
  });

  it('commits exactly one fingerprint trailer, suture’s', async () => {
    const message = await git(repo, 'log', '-1', '--format=%B', out.branch);
    expect(message.split('\n').filter((l) => /^\s*Suture-Fingerprint:/.test(l))).toHaveLength(1);
    const trailer = await git(repo, 'log', '-1', '--format=%(trailers:key=Suture-Fingerprint,valueonly)', out.branch);
    expect(trailer.trim()).toMatch(/^[0-9a-f]{16}$/);
  });

  it('lets no secret reach the commit, the audit log, the report, stdout or stderr', async () => {
    const sinks: Record<string, string> = {
      commit: await git(repo, 'show', '--format=%B', out.branch),
      audit: readFileSync(join(state, 'audit.jsonl'), 'utf8'),
      report: readdirSync(join(state, 'reports'))
        .map((f) => readFileSync(join(state, 'reports', f), 'utf8'))
        .join('\n'),
      stdout: r.stdout,
      stderr: r.stderr,
    };
    for (const [sink, text] of Object.entries(sinks)) {
      for (const secret of SECRETS) expect(text.includes(secret), `${secret} in ${sink}`).toBe(false);
    }
    expect(sinks.stdout).toContain('[REDACTED:');
  });
});

describe('a hostile Alertmanager payload', () => {
  it('with a newline in the service label is bad input: exit 2, one line, no branch', async () => {
    const file = join(scratch, 'alert.json');
    writeFileSync(
      file,
      JSON.stringify({
        version: '4',
        status: 'firing',
        alerts: [
          {
            status: 'firing',
            labels: { service: 'pricing-api\n}); require("fs").writeFileSync("x", "");//' },
            annotations: { traceback: 'Traceback (most recent call last):\n' },
          },
        ],
      }),
    );
    const bad = await cli(['heal', '--repo', repo, '--incident', file, '--state', scratch]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^suture: alertmanager payload: alerts\.0\.labels\.service: the service label must be/);
  });
});
