/**
 * `suture serve` as a user starts it: the token is required beyond loopback (exit 2, one line), comes from
 * --token-file or SUTURE_TOKEN, and guards POST /alerts; alerts are validated and folded by content; a heal
 * runs in its own process from a redacted, owner-only incident file that retention removes afterwards.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, ROOT, repoFromService, tempDir } from '../helpers/repo.ts';
import { type ServeProcess, startServe, until } from './serve-process.ts';

const TOKEN = 'cli-test-token-0123456789';
const made: string[] = [];
const servers: ServeProcess[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  cleanup(...made);
});

/** Runs `suture serve …` expecting it to refuse to start; a server that does start is killed after 30 s. */
function refused(args: string[], env: Record<string, string> = {}) {
  const { SUTURE_TOKEN: _, ...inherited } = process.env;
  const proc = spawn(process.execPath, [join(ROOT, 'src', 'main.ts'), 'serve', '--port', '0', ...args], {
    env: { ...inherited, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  return new Promise<{ code: number | null; stderr: string }>((resolve) =>
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    }),
  );
}

const start = async (args: string[], env: Record<string, string> = {}) => {
  const s = await startServe(args, env);
  servers.push(s);
  return s;
};
const post = (base: string, body: unknown, token?: string) =>
  fetch(`${base}/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
const alert = (labels: Record<string, string>, annotations: Record<string, string> = {}, extra = {}) => ({
  status: 'firing',
  labels: { alertname: 'ServiceCrash', ...labels },
  annotations,
  ...extra,
});
const payload = (...alerts: unknown[]) => ({ version: '4', status: 'firing', alerts });

describe('suture serve: the token', () => {
  it('refuses to listen beyond loopback without a token: exit 2, one line', async () => {
    for (const host of ['0.0.0.0', '::']) {
      const r = await refused(['--host', host]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(
        /^suture: listening on .* \(beyond loopback\) needs a bearer token \(--token-file FILE or SUTURE_TOKEN\)$/m,
      );
    }
  });

  it('refuses a weak, empty or unreadable token: exit 2, one line', async () => {
    const dir = tempDir('suture-token-');
    made.push(dir);
    writeFileSync(join(dir, 'empty'), '\n');
    for (const [args, env, msg] of [
      [['--host', '0.0.0.0'], { SUTURE_TOKEN: 'short' }, /at least 16 characters/],
      [[], { SUTURE_TOKEN: '  ' }, /SUTURE_TOKEN is set but empty/],
      [['--token-file', join(dir, 'missing')], {}, /--token-file .*missing: not a readable file/],
      [['--token-file', join(dir, 'empty')], {}, /--token-file .*empty is empty/],
    ] as const) {
      const r = await refused([...args], { ...env });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
  });

  it('on loopback without a token it serves but says so on stderr', async () => {
    const s = await start([]);
    expect(s.stderr()).toMatch(/no token \(--token-file or SUTURE_TOKEN\)/);
  });

  it('takes the token from a file (trimmed, as credentials_file is) or from SUTURE_TOKEN', async () => {
    const dir = tempDir('suture-token-');
    made.push(dir);
    const file = join(dir, 'token');
    writeFileSync(file, `${TOKEN}\n`);
    chmodSync(file, 0o600);
    const viaFile = await start(['--host', '0.0.0.0', '--token-file', file]);
    const viaEnv = await start([], { SUTURE_TOKEN: TOKEN });
    for (const s of [viaFile, viaEnv]) {
      expect(s.stderr()).not.toMatch(/no token/);
      const anon = await fetch(`${s.base}/judge`, { method: 'POST', body: '{}' });
      expect(anon.status).toBe(401);
      expect(anon.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await fetch(`${s.base}/metrics`)).status).toBe(401);
      expect((await fetch(`${s.base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      expect((await fetch(`${s.base}/healthz`)).status).toBe(200);
    }
  });
});

describe('suture serve: POST /alerts', () => {
  it('validates every firing alert, folds by content, and heals each in a process from a redacted 0600 file', async () => {
    const repo = await repoFromService('pricing-api');
    const state = tempDir('suture-state-');
    made.push(repo, state);
    const s = await start(['--repo', repo, '--state', state, '--no-push', '--mode', 'observe'], {
      SUTURE_TOKEN: TOKEN,
    });
    expect((await post(s.base, payload(alert({ service: 'pricing-api' })))).status).toBe(401);

    // a firing alert without a service label: 400 naming it (it used to get 202)
    const orphan = await post(s.base, payload(alert({ service: 'pricing-api' }), alert({ alertname: 'X' })), TOKEN);
    expect(orphan.status).toBe(400);
    expect(((await orphan.json()) as { error: string }).error).toMatch(/^alerts\[1\] .*no service label/);

    // the same sender-supplied fingerprint on different content: two heals, not one
    const password = 'pw-Planted-Secret-42';
    const a = alert({ service: 'pricing-api' }, { logs: `boom password=${password}` }, { fingerprint: 'same' });
    const b = alert({ service: 'pricing-api' }, { logs: 'another crash' }, { fingerprint: 'same' });
    const ok = await post(s.base, payload(a, b), TOKEN);
    expect(ok.status).toBe(202);
    const accepted = (await ok.json()) as { incidents: string[] };
    expect(accepted).toMatchObject({ accepted: 2, folded: 0 });

    // both heals ran (in child processes) and ended: no stack trace in these alerts, so `escalated`
    const m = await until('both heals', async () => {
      const text = await (await fetch(`${s.base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
      return /suture_heals_total\{status="escalated"\} 2/.test(text) ? text : undefined;
    });
    expect(m).toMatch(/suture_alerts_received_total\{outcome="queued"\} 2/);
    expect(m).toMatch(/suture_requests_rejected_total\{route="\/alerts",reason="bad_alert"\} 1/);
    expect(s.stderr()).not.toContain(password);
    // The log: JSON lines, and every line of a heal carries the incident id the 202 answer named.
    const lines = s.logLines();
    const done = lines.filter((l) => l.status === 'escalated');
    expect(done.map((l) => l.incident).sort()).toEqual([...accepted.incidents].sort());
    const server = lines.filter((l) => !l.incident).map((l) => l.msg);
    expect(server).toEqual([expect.stringMatching(/^listening on http:\/\/127\.0\.0\.1:\d+ /)]);
    for (const id of done.map((l) => l.incident)) {
      const heal = lines.filter((l) => l.incident === id).map((l) => l.msg);
      expect(heal[0]).toBe('alert queued');
      expect(heal.some((m) => /^incident [0-9a-f]{12}-\d+: /.test(String(m)))).toBe(true);
    }

    // the incident files the heals read: redacted, owner-only, in an owner-only directory
    const dir = join(state, 'incidents');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dir);
    expect(files).toHaveLength(2);
    const texts = files.map((f) => readFileSync(join(dir, f), 'utf8'));
    for (const f of files) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    expect(texts.join('')).not.toContain(password);
    expect(texts.join('')).toContain('password=[REDACTED');
    expect(existsSync(join(state, 'audit.jsonl'))).toBe(true);
  });
});
