/**
 * The webhook path with a real Alertmanager (Debian's prometheus-alertmanager): an alert posted to
 * Alertmanager is routed to `suture serve`'s POST /alerts with the bearer token from the receiver's
 * `http_config.authorization` (the same file suture reads with --token-file), and suture heals the repo and
 * leaves the branch. A receiver with the wrong `credentials` gets 401 and Alertmanager counts the failure.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, git, repoFromService, SERVICES, tempDir } from '../helpers/repo.ts';
import { freePort, type ServeProcess, startServe, until } from './serve-process.ts';

const made: string[] = [];
const children: ChildProcess[] = [];
const servers: ServeProcess[] = [];
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await Promise.all(servers.map((s) => s.stop()));
  cleanup(...made);
});

const TOKEN = 'alertmanager-e2e-0123456789abcdef';

describe('Alertmanager → suture serve POST /alerts → heal', () => {
  it('heals the repo from a real Alertmanager webhook with bearer credentials, and refuses wrong ones', async () => {
    const repo = await repoFromService('pricing-api');
    const state = tempDir('suture-state-');
    const amDir = tempDir('suture-am-');
    made.push(repo, state, amDir);
    const tokenFile = join(amDir, 'suture-token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const amPort = await freePort();

    const serve = await startServe(['--repo', repo, '--state', state, '--no-push', '--token-file', tokenFile]);
    servers.push(serve);
    const base = serve.base;
    const auth = { authorization: `Bearer ${TOKEN}` };

    writeFileSync(
      join(amDir, 'alertmanager.yml'),
      [
        'route:',
        '  receiver: suture',
        "  group_by: ['alertname', 'service']",
        '  group_wait: 0s',
        '  group_interval: 1s',
        '  repeat_interval: 1h',
        '  routes:',
        '    - receiver: suture-wrong-token',
        '      matchers: [\'sender="impostor"\']',
        'receivers:',
        '  - name: suture',
        '    webhook_configs:',
        `      - url: ${base}/alerts`,
        '        send_resolved: false',
        '        max_alerts: 20',
        '        http_config:',
        '          authorization:',
        '            type: Bearer',
        `            credentials_file: ${tokenFile}`,
        '  - name: suture-wrong-token',
        '    webhook_configs:',
        `      - url: ${base}/alerts`,
        '        send_resolved: false',
        '        http_config:',
        '          authorization:',
        '            credentials: not-the-token-0123456789',
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
    const bad = await fetch(`${base}/alerts`, {
      method: 'POST',
      headers: auth,
      body: '{"version": "4", "alerts": []}',
    });
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
        {
          labels: { alertname: 'ServiceCrash', service: 'pricing-api', sender: 'impostor' },
          annotations: { summary: 'sent with the wrong token', logs },
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
      const text = await (await fetch(`${base}/metrics`, { headers: auth })).text();
      return /suture_heals_total\{status="proposed"\} 1/.test(text) ? text : undefined;
    });
    // exactly one alert came through: the impostor's never got past the token
    expect(metrics).toMatch(/suture_alerts_received_total\{outcome="queued"\} 1/);
    expect(metrics).toMatch(/suture_requests_rejected_total\{route="\/alerts",reason="unauthorized"\} [1-9]/);
    // Alertmanager saw the refusal: failed webhook notifications (it tries the group again every
    // group_interval, as nothing was delivered), next to the one that got through
    const webhook = async (name: string) =>
      Number(
        new RegExp(`^alertmanager_${name}\\{[^}]*integration="webhook"[^}]*\\} (\\d+)`, 'm').exec(
          await (await fetch(`${amUrl}/metrics`)).text(),
        )?.[1] ?? 0,
      );
    await until('Alertmanager to count the refused notification', async () =>
      (await webhook('notifications_failed_total')) >= 1 ? true : undefined,
    );
    expect(await webhook('notifications_total')).toBeGreaterThan(await webhook('notifications_failed_total'));
    const audit = readFileSync(join(state, 'audit.jsonl'), 'utf8');
    expect(audit).toContain('"stage":"deliver"');
  });
});
