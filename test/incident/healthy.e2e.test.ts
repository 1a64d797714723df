/**
 * Healthy traffic end to end (issue 9, item 2): `suture heal` on an Alertmanager incident that carries no
 * healthy requests, only logs, and on a crash report without healthy requests whose repo names a capture
 * file in suture.yaml: the differential replay compares the recovered samples in the real sandbox.
 */
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, cli, FIXTURES, git, repoFromService, SERVICES, tempDir } from '../helpers/repo.ts';

const made: string[] = [];
afterAll(() => cleanup(...made));

const captured = JSON.parse(readFileSync(join(SERVICES, 'pricing-api', 'incident.json'), 'utf8'));

async function healJson(repo: string, incident: unknown) {
  const dir = tempDir('suture-healthy-');
  made.push(dir);
  const file = join(dir, 'incident.json');
  writeFileSync(file, JSON.stringify(incident));
  const r = await cli(['heal', '--repo', repo, '--incident', file, '--state', dir, '--json', '--mode', 'observe']);
  expect(r.exitCode, r.stderr).toBe(0);
  return { out: JSON.parse(r.stdout), stderr: r.stderr };
}

function chosenVerdict(out: { chosen: string; candidates: { id: string; verdict: Record<string, unknown> }[] }) {
  return out.candidates.find((c) => c.id === out.chosen)!.verdict as {
    verdict: string;
    differential: { compared: number; mismatches: unknown[] };
  };
}

describe('heal replays healthy traffic nobody wrote down', () => {
  it('an Alertmanager incident: the 2xx requests in its logs are compared on base and patched', async () => {
    const repo = await repoFromService('pricing-api');
    made.push(repo);
    const healthyLines = [
      // structlog-style access line with a body, and pino-http lines for the health endpoint
      JSON.stringify({
        event: 'request finished',
        method: 'POST',
        path: '/quote',
        headers: { 'content-type': 'application/json' },
        body: '{"items": [{"price": 8.0, "qty": 2}], "discounts": [{"percent": 25}]}',
        status: 200,
        level: 'info',
      }),
      JSON.stringify({ level: 30, req: { method: 'GET', url: '/healthz' }, res: { statusCode: 200 } }),
      JSON.stringify({ level: 30, req: { method: 'GET', url: '/healthz' }, res: { statusCode: 200 } }),
    ];
    const alert = {
      version: '4',
      status: 'firing',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'UnhandledException', service: 'pricing-api', severity: 'page' },
          annotations: {
            summary: 'pricing-api crashes on /quote',
            logs: `${healthyLines.join('\n')}\n${captured.logs}`,
          },
          startsAt: '2026-11-23T04:27:33Z',
        },
      ],
    };
    const { out, stderr } = await healJson(repo, alert);
    expect(out.status).toBe('observed');
    expect(out.incident.signal).toBe('alert');
    expect(out.incident.healthySources).toEqual({
      kept: { report: 0, logs: 2, capture: 0 },
      skipped: { 'same-route': 1 },
    });
    expect(stderr).toContain('healthy samples: 2 from the logs (not used: 1 same-route)');
    const verdict = chosenVerdict(out);
    expect(verdict.verdict).toBe('pass');
    expect(verdict.differential.compared).toBe(2);
    expect(verdict.differential.mismatches).toEqual([]);
  });

  it('a crash report without healthy requests: the capture file suture.yaml names is replayed', async () => {
    const repo = await repoFromService('pricing-api');
    made.push(repo);
    mkdirSync(join(repo, 'captures'));
    copyFileSync(join(FIXTURES, 'healthy', 'capture.har'), join(repo, 'captures', 'traffic.har'));
    writeFileSync(
      join(repo, 'suture.yaml'),
      `${readFileSync(join(repo, 'suture.yaml'), 'utf8')}differential:\n  samples: captures/traffic.har\n`,
    );
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-qm', 'capture of production traffic');
    const { healthyRequests: _h, ...report } = captured;
    const { out } = await healJson(repo, report);
    // HAR: POST /quote 200, GET /healthz 200, PUT /rates/eu 204 kept; a 302 and an unanswered entry not
    expect(out.incident.healthySources).toEqual({
      kept: { report: 0, logs: 0, capture: 3 },
      skipped: { 'no-request': 1, 'no-status': 1, 'not-2xx': 1 },
    });
    const verdict = chosenVerdict(out);
    expect(verdict.verdict).toBe('pass');
    expect(verdict.differential.compared).toBe(3);
  });

  it('a capture that is a symlink out of the repo: exit 2, one line, nothing read', async () => {
    const repo = await repoFromService('pricing-api');
    const outside = tempDir('suture-outside-');
    made.push(repo, outside);
    writeFileSync(join(outside, 'host.log'), '1.2.3.4 - - [x] "GET /host-secret HTTP/1.1" 200 1\n');
    symlinkSync(join(outside, 'host.log'), join(repo, 'traffic.log'));
    writeFileSync(
      join(repo, 'suture.yaml'),
      `${readFileSync(join(repo, 'suture.yaml'), 'utf8')}differential:\n  samples: traffic.log\n`,
    );
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-qm', 'symlinked capture');
    const r = await cli([
      'heal',
      '--repo',
      repo,
      '--incident',
      join(SERVICES, 'pricing-api', 'incident.json'),
      '--state',
      outside,
    ]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/differential.samples: traffic.log is a symbolic link/);
    expect(r.stderr).not.toContain('host-secret');
  });
});
