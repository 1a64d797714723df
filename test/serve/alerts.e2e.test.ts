/**
 * The webhook path with a real Alertmanager (Debian's prometheus-alertmanager): an alert posted to
 * Alertmanager is routed to `suture serve`'s POST /alerts, which heals the repo and leaves the branch.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, git, ROOT, repoFromService, SERVICES, tempDir } from '../helpers/repo.ts';

const made: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  cleanup(...made);
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('Alertmanager → suture serve POST /alerts → heal', () => {
  it('heals the repo from a real Alertmanager webhook, and rejects malformed payloads', async () => {
    const repo = await repoFromService('pricing-api');
    const state = tempDir('suture-state-');
    const amDir = tempDir('suture-am-');
    made.push(repo, state, amDir);
    const [servePort, amPort] = [await freePort(), await freePort()];

    const serve = spawn(
      process.execPath,
      [
        join(ROOT, 'src', 'main.ts'),
        'serve',
        '--port',
        String(servePort),
        '--repo',
        repo,
        '--state',
        state,
        '--no-push',
      ],
      { stdio: 'ignore' },
    );
    children.push(serve);
    const base = `http://127.0.0.1:${servePort}`;
    await until('suture serve', async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined));

    writeFileSync(
      join(amDir, 'alertmanager.yml'),
      [
        'route:',
        '  receiver: suture',
        "  group_by: ['alertname', 'service']",
        '  group_wait: 0s',
        '  group_interval: 1s',
        '  repeat_interval: 1h',
        'receivers:',
        '  - name: suture',
        '    webhook_configs:',
        `      - url: ${base}/alerts`,
        '        send_resolved: false',
        '',
      ].join('\n'),
    );
    const am = spawn(
      'prometheus-alertmanager',
      [
        `--config.file=${join(amDir, 'alertmanager.yml')}`,
        `--storage.path=${join(amDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${amPort}`,
        '--cluster.listen-address=',
      ],
      { stdio: 'ignore' },
    );
    children.push(am);
    const amUrl = `http://127.0.0.1:${amPort}`;
    await until('alertmanager', async () => ((await fetch(`${amUrl}/-/ready`)).ok ? true : undefined));

    // malformed payloads are refused with 400 and one line
    const bad = await fetch(`${base}/alerts`, { method: 'POST', body: '{"version": "4", "alerts": []}' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/alertmanager payload/);

    const logs = JSON.parse(readFileSync(join(SERVICES, 'pricing-api', 'incident.json'), 'utf8')).logs as string;
    const post = await fetch(`${amUrl}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        {
          labels: {
            alertname: 'ServiceCrash',
            service: 'pricing-api',
            severity: 'critical',
            environment: 'production',
          },
          annotations: { summary: 'pricing-api answers 500 on /quote', logs },
          startsAt: new Date().toISOString(),
        },
      ]),
    });
    expect(post.status).toBe(200);

    const branch = await until('the suture branch', async () => {
      const b = (await git(repo, 'branch', '--format=%(refname:short)'))
        .split('\n')
        .find((x) => x.startsWith('suture/'));
      return b || undefined;
    });
    expect(branch).toMatch(/^suture\/[0-9a-f]{12}$/);
    expect(await git(repo, 'diff', '--name-only', 'main', branch)).toContain('pricing.py');
    const metrics = await until('the heal metric', async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return /suture_heals_total\{status="proposed"\} 1/.test(text) ? text : undefined;
    });
    expect(metrics).toMatch(/suture_alerts_received_total\{outcome="queued"\} 1/);
    const audit = readFileSync(join(state, 'audit.jsonl'), 'utf8');
    expect(audit).toContain('"stage":"deliver"');
  });
});
