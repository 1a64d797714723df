/**
 * The GitHub Action's entry point in a simulated runner: inputs and the repository_dispatch event in,
 * outputs (heredoc blocks with a random delimiter), the job summary, annotations and the exit code out.
 * The heal is a stand-in here (its request is checked), except in the last test, which runs the real
 * entry point on a real heal.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { type HealRequest, type HealRun, runAction } from '../../src/action/run.ts';
import { annotation, outputCommand, summaryText } from '../../src/action/runner.ts';
import { cleanup, ROOT, repoFromService, SERVICES } from '../helpers/repo.ts';
import { parseOutputFile, simulatedRunner } from './runner-env.ts';

const made: string[] = [];
afterAll(() => cleanup(...made));

const INCIDENT = JSON.parse(readFileSync(join(SERVICES, 'pricing-api', 'incident.json'), 'utf8'));
const MAIN = join(ROOT, 'src', 'action', 'main.ts');

function runner(opts: Parameters<typeof simulatedRunner>[0]) {
  const r = simulatedRunner(opts);
  made.push(r.dir);
  return r;
}

/** A stand-in heal that writes a Markdown report and answers with `result`. */
function fakeHeal(result: Record<string, unknown>, exitCode = 0, lastLine = '') {
  const calls: { req: HealRequest; incident: string; mode: number }[] = [];
  const heal = async (req: HealRequest): Promise<HealRun> => {
    calls.push({
      req,
      incident: readFileSync(req.incidentFile, 'utf8'),
      mode: statSync(req.incidentFile).mode & 0o777,
    });
    const report = join(req.state, 'report.md');
    if (exitCode === 0) {
      const { mkdirSync } = await import('node:fs');
      mkdirSync(req.state, { recursive: true });
      writeFileSync(report, '# suture: pricing-api — proposed\n\n| stage | ms |\n|---|---|\n| verify | 6200 |\n');
      writeFileSync(join(req.state, 'report.html'), '<!DOCTYPE html>');
    }
    return { exitCode, result: exitCode === 0 ? { ...result, report } : null, lastLine };
  };
  return { calls, heal };
}

function io(heal: (r: HealRequest) => Promise<HealRun>) {
  const stdout: string[] = [];
  return { stdout, io: { heal, stdout: (t: string) => void stdout.push(t), log: () => undefined } };
}

const dispatch = (incident: unknown, extra: Record<string, unknown> = {}) => ({
  name: 'repository_dispatch',
  payload: { action: 'suture-incident', client_payload: { incident, ...extra }, repository: { full_name: 'acme/x' } },
});

describe('the runner formats', () => {
  it('writes every output as a heredoc block whose delimiter is random, and the runner reads it back', () => {
    const reason = 'line one\nline two = with equals\nname<<EOF';
    const a = outputCommand('reason', reason);
    const b = outputCommand('reason', reason);
    expect(a).toMatch(/^reason<<ghadelimiter_[0-9a-f-]{36}\n/);
    expect(a).not.toBe(b);
    expect(parseOutputFile(a + outputCommand('status', 'proposed'))).toEqual({ reason, status: 'proposed' });
  });

  it('refuses a value that holds its delimiter (the rest would be read as other outputs)', () => {
    expect(() => outputCommand('x', 'a\nD\nstatus=fixed', 'D')).toThrow(/contains its delimiter/);
  });

  it('keeps an annotation on one line', () => {
    expect(annotation('error', 'bad\ninput 100%\r')).toBe('::error::bad%0Ainput 100%25%0D\n');
  });

  it('cuts a summary over the limit at a line, saying where the whole report is', () => {
    const md = Array.from({ length: 100 }, (_, i) => `line ${i} é`).join('\n');
    const cut = summaryText(md, '/r.md', 300);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(300);
    expect(cut).toMatch(/^line 0 é\n/);
    expect(cut).toMatch(/line \d+ é\n\n_The report was cut to fit the job summary; the whole report: `\/r\.md`\._\n$/);
    expect(cut).not.toContain('\uFFFD');
    expect(summaryText('short', '/r.md', 300)).toBe('short\n');
  });
});

describe('the action in a simulated runner', () => {
  it('heals client_payload.incident of a repository_dispatch event: outputs, summary appended, a notice', async () => {
    const r = runner({ event: dispatch(INCIDENT, { mode: 'auto' }), inputs: { mode: 'propose' } });
    const heal = fakeHeal({
      status: 'proposed',
      reason: 'verified fix c1 proposed\nsecond line',
      branch: 'suture/abc',
      pullRequest: { number: 7, url: 'https://github.com/acme/pricing-api/pull/7' },
    });
    const { stdout, io: deps } = io(heal.heal);
    expect(await runAction(r.env, deps)).toBe(0);

    // the incident handed to heal is the event's, in an owner-only file; the mode is the input's, never the event's
    expect(heal.calls).toHaveLength(1);
    expect(JSON.parse(heal.calls[0]!.incident)).toEqual(INCIDENT);
    expect(heal.calls[0]!.mode).toBe(0o600);
    expect(heal.calls[0]!.req).toMatchObject({
      mode: 'propose',
      repo: r.dir,
      state: join(r.env.RUNNER_TEMP!, 'suture-state'),
    });

    const state = heal.calls[0]!.req.state;
    expect(r.outputs()).toEqual({
      status: 'proposed',
      reason: 'verified fix c1 proposed\nsecond line',
      branch: 'suture/abc',
      'pull-request-url': 'https://github.com/acme/pricing-api/pull/7',
      report: join(state, 'report.md'),
      'html-report': join(state, 'report.html'),
    });
    expect(new Set(r.delimiters()).size).toBe(6);
    expect(r.summary()).toBe('# earlier step\n\n' + readFileSync(join(state, 'report.md'), 'utf8'));
    expect(stdout).toEqual(['::notice::suture: proposed https://github.com/acme/pricing-api/pull/7\n']);
  });

  it('takes the incident input as a path from the workspace, or as the JSON itself, and passes config', async () => {
    const r = runner({ inputs: {} });
    writeFileSync(join(r.dir, 'incident.json'), JSON.stringify(INCIDENT));
    for (const incident of ['incident.json', JSON.stringify(INCIDENT)]) {
      const heal = fakeHeal({ status: 'no-fix', reason: 'nothing verified', branch: null, pullRequest: null });
      const env = { ...r.env, INPUT_INCIDENT: incident, INPUT_MODE: 'observe', INPUT_CONFIG: 'ops/suture.yaml' };
      const { stdout, io: deps } = io(heal.heal);
      expect(await runAction(env, deps)).toBe(0);
      expect(JSON.parse(heal.calls[0]!.incident)).toEqual(INCIDENT);
      expect(heal.calls[0]!.req).toMatchObject({ mode: 'observe', config: join(r.dir, 'ops', 'suture.yaml') });
      // a heal that shipped nothing is a warning, not a failure: the status output says what happened
      expect(stdout).toEqual(['::warning::suture: no-fix: nothing verified\n']);
    }
    expect(r.outputs()).toMatchObject({ status: 'no-fix', branch: '', 'pull-request-url': '' });
  });

  it('a failed heal: exit 1, status error, an error annotation naming why', async () => {
    const r = runner({ event: dispatch(INCIDENT) });
    const { stdout, io: deps } = io(fakeHeal({}, 1, 'suture: internal error: docker is not running').heal);
    expect(await runAction(r.env, deps)).toBe(1);
    expect(r.outputs()).toEqual({ status: 'error' });
    expect(stdout).toEqual(['::error::suture heal failed: internal error: docker is not running\n']);
  });

  it('bad input is refused before any heal: no incident, a payload that is no incident, a bad mode', async () => {
    const cases: [Parameters<typeof simulatedRunner>[0], RegExp][] = [
      [{ event: { name: 'push', payload: {} } }, /^no incident: set the incident input .*this run: push\)$/],
      [{ event: dispatch(undefined) }, /no client_payload\.incident/],
      [{ event: dispatch({ hello: 'world' }) }, /^client_payload\.incident: incident/],
      [{ event: dispatch(INCIDENT), inputs: { mode: 'yolo' } }, /input mode must be observe, propose or auto/],
      [{ inputs: { incident: 'missing.json' } }, /incident file missing\.json not found/],
      [{ inputs: { incident: '{"kind": "crash", ' } }, /the incident input is not JSON/],
    ];
    for (const [opts, message] of cases) {
      const r = runner(opts);
      const heal = fakeHeal({ status: 'proposed' });
      await expect(runAction(r.env, io(heal.heal).io)).rejects.toThrow(message);
      expect(heal.calls).toEqual([]);
      expect(r.outputs()).toEqual({});
    }
  });
});

describe('src/action/main.ts as the runner starts it', () => {
  it('bad input: one ::error:: line on stdout, exit 2, no stack trace', async () => {
    const r = runner({ event: dispatch({ kind: 'crash' }) });
    const p = await execa(process.execPath, [MAIN], { env: r.env, extendEnv: false, reject: false });
    expect(p.exitCode).toBe(2);
    expect(p.stdout.split('\n')).toEqual([expect.stringMatching(/^::error::suture: client_payload\.incident: /)]);
    expect(p.stderr).not.toMatch(/\n\s+at /);
  });

  it('heals a real incident from a repository_dispatch event: proposed, a branch, both reports', async () => {
    const repo = await repoFromService('pricing-api');
    made.push(repo);
    const r = runner({ event: dispatch(INCIDENT), workspace: repo, inputs: { mode: 'propose' } });
    // the local provider (no SUTURE_PROVIDER): the workspace has no origin
    const { SUTURE_PROVIDER: _, ...inherited } = process.env;
    const env = { ...inherited, ...r.env, SUTURE_QUIET: '0' };
    const p = await execa(process.execPath, [MAIN], { env, extendEnv: false, reject: false, timeout: 170_000 });
    expect(p.exitCode, p.stderr).toBe(0);
    const out = r.outputs();
    const report = out.report ?? '';
    expect(out.status).toBe('proposed');
    expect(out.branch).toMatch(/^suture\//);
    expect(report.startsWith(join(r.env.RUNNER_TEMP!, 'suture-state'))).toBe(true);
    expect(out['html-report']).toBe(report.replace(/\.md$/, '.html'));
    expect(statSync(out['html-report']!).size).toBeGreaterThan(1000);
    expect(r.summary()).toContain('pricing-api');
    expect(r.summary().startsWith('# earlier step\n\n')).toBe(true);
    expect(p.stdout).toMatch(/^::notice::suture: proposed/m);
    // the unredacted copy of the incident heal read is gone
    expect(readdirSync(r.env.RUNNER_TEMP!).filter((f) => f.startsWith('suture-incident'))).toEqual([]);
  }, 180_000);
});
