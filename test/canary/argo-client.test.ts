/**
 * The Kubernetes adapter's wire format, recorded by a loopback HTTP server standing in for the API server:
 * which URL, method, content type and body the abort / promote / watch calls send. This checks what goes
 * on the wire, not Argo's reaction to it: no Kubernetes API server runs here.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { IRollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout';
import { execa } from 'execa';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  abortRollout,
  createRolloutApi,
  KubeApiError,
  loadKubeConfig,
  promoteRollout,
  watchRollout,
} from '../../src/canary/argo/client.ts';
import type { RolloutStatusView } from '../../src/canary/argo/status.ts';
import { superviseRollout } from '../../src/canary/argo/supervise.ts';
import { startRouter } from '../../src/canary/local/router.ts';
import { createPrometheusClient } from '../../src/canary/prometheus/client.ts';
import { requestTotalsQuery } from '../../src/canary/prometheus/queries.ts';
import { startPrometheus } from '../../src/canary/prometheus/server.ts';

interface Recorded {
  method: string;
  path: string;
  contentType: string | undefined;
  body: unknown;
}

const BASE = '/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/cart-api';

describe('Argo Rollouts client (recorded against a loopback stand-in API server)', () => {
  let server: Server;
  let kc: KubeConfig;
  let seen: Recorded[] = [];
  let statusSubresource = true;
  let states: Array<Partial<IRollout>> = [];

  const object = (): IRollout => {
    const next = states.length > 1 ? states.shift()! : states[0]!;
    return {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: { name: 'cart-api', namespace: 'shop', generation: 2 },
      spec: { strategy: { canary: { steps: [{ setWeight: 20 }, { pause: {} }] } } },
      ...next,
    } as IRollout;
  };

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        seen.push({
          method: req.method!,
          path: req.url!.split('?')[0]!,
          contentType: req.headers['content-type'],
          body: text ? JSON.parse(text) : null,
        });
        const notFound = !req.url!.startsWith(BASE) || (req.url!.startsWith(`${BASE}/status`) && !statusSubresource);
        if (notFound) {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              kind: 'Status',
              status: 'Failure',
              reason: 'NotFound',
              code: 404,
              message: 'the server could not find the requested resource',
            }),
          );
          return;
        }
        if (req.method === 'PATCH' && JSON.stringify(seen.at(-1)!.body) === '{"status":{"abort":true}}') {
          // The controller's reaction, simplified: the rollout reports itself aborted.
          states = [
            {
              status: {
                observedGeneration: '2',
                phase: 'Degraded',
                abort: true,
                stableRS: 'a',
                currentPodHash: 'b',
                message: 'RolloutAborted',
              },
            },
          ];
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(object()));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        { name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true },
      ],
      users: [{ name: 'u', token: 'test-token' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    seen = [];
    statusSubresource = true;
    states = [
      {
        status: {
          observedGeneration: '2',
          phase: 'Paused',
          currentStepIndex: 1,
          stableRS: 'a',
          currentPodHash: 'b',
          pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-11-23T04:00:00Z' }],
          controllerPause: true,
        },
      },
    ];
  });

  it('abort sends the merge patch to the status subresource', async () => {
    const sent = await abortRollout(createRolloutApi(kc), { namespace: 'shop', name: 'cart-api' });
    expect(seen).toEqual([
      {
        method: 'PATCH',
        path: `${BASE}/status`,
        contentType: 'application/merge-patch+json',
        body: { status: { abort: true } },
      },
    ]);
    expect(sent).toEqual([{ target: 'status', body: { status: { abort: true } } }]);
  });

  it('abort falls back to patching the object when there is no status subresource (Rollouts v0.9)', async () => {
    statusSubresource = false;
    await abortRollout(createRolloutApi(kc), { namespace: 'shop', name: 'cart-api' });
    expect(seen.map((s) => [s.method, s.path, s.body])).toEqual([
      ['PATCH', `${BASE}/status`, { status: { abort: true } }],
      ['PATCH', BASE, { status: { abort: true } }],
    ]);
  });

  it('promote reads the rollout, then clears the pause conditions on the status subresource', async () => {
    await promoteRollout(createRolloutApi(kc), { namespace: 'shop', name: 'cart-api' });
    expect(seen.map((s) => [s.method, s.path, s.contentType ?? null, s.body])).toEqual([
      ['GET', BASE, null, null],
      ['PATCH', `${BASE}/status`, 'application/merge-patch+json', { status: { pauseConditions: null } }],
    ]);
  });

  it('promote on v0.9 sends the unified spec+status patch to the object', async () => {
    statusSubresource = false;
    states = [
      {
        spec: { paused: true, strategy: { canary: { steps: [{ setWeight: 20 }] } } },
        status: { pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-11-23T04:00:00Z' }] },
      },
    ];
    await promoteRollout(createRolloutApi(kc), { namespace: 'shop', name: 'cart-api' });
    expect(seen.slice(1).map((s) => [s.path, s.body])).toEqual([
      [`${BASE}/status`, { status: { pauseConditions: null } }],
      [BASE, { spec: { paused: false }, status: { pauseConditions: null } }],
    ]);
  });

  it('promote --full asks for promoteFull', async () => {
    await promoteRollout(createRolloutApi(kc), { namespace: 'shop', name: 'cart-api' }, { full: true });
    expect(seen.at(-1)).toMatchObject({ path: `${BASE}/status`, body: { status: { promoteFull: true } } });
  });

  it('surfaces a missing rollout as a KubeApiError with the API message', async () => {
    const err = await createRolloutApi(kc)
      .get({ namespace: 'shop', name: 'nope' })
      .catch((e) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err.status).toBe(404);
    expect(err.message).toMatch(/get rollout shop\/nope: the server could not find/);
  });

  it('watch reports each status change and stops at a terminal verdict', async () => {
    // The same Progressing status twice: an unchanged poll must not be reported again.
    const progressing = {
      status: {
        observedGeneration: '2',
        phase: 'Progressing',
        currentStepIndex: 0,
        stableRS: 'a',
        currentPodHash: 'b',
      },
    };
    states = [
      { status: { observedGeneration: '1', phase: 'Healthy', stableRS: 'a', currentPodHash: 'a' } },
      progressing,
      progressing,
      {
        status: {
          observedGeneration: '2',
          phase: 'Degraded',
          abort: true,
          stableRS: 'a',
          currentPodHash: 'b',
          message: 'RolloutAborted',
        },
      },
    ];
    const updates: RolloutStatusView[] = [];
    const final = await watchRollout(
      createRolloutApi(kc),
      { namespace: 'shop', name: 'cart-api' },
      {
        intervalMs: 10,
        onStatus: (s) => updates.push(s),
      },
    );
    // The stale Healthy (observedGeneration 1 < generation 2) is not mistaken for a promotion.
    expect(updates.map((u) => u.verdict)).toEqual(['unobserved', 'progressing', 'aborted']);
    expect(final.verdict).toBe('aborted');
  });

  it('watch gives up after its timeout with the last status', async () => {
    states = [
      {
        status: {
          observedGeneration: '2',
          phase: 'Paused',
          stableRS: 'a',
          currentPodHash: 'b',
          pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-11-23T04:00:00Z' }],
        },
      },
    ];
    const final = await watchRollout(
      createRolloutApi(kc),
      { namespace: 'shop', name: 'cart-api' },
      { intervalMs: 10, timeoutMs: 50 },
    );
    expect(final).toMatchObject({ verdict: 'paused', terminal: false });
  });

  it('refuses an unusable kubeconfig with a one-line error', () => {
    expect(() => loadKubeConfig({ kubeconfig: '/nonexistent/kubeconfig' })).toThrow(/cannot load kubeconfig/);
  });

  it('supervise: the judge reads Prometheus for the stableRS/currentPodHash versions and aborts a bad canary', async () => {
    states = [
      {
        status: {
          observedGeneration: '2',
          phase: 'Progressing',
          currentStepIndex: 0,
          stableRS: 'a',
          currentPodHash: 'b',
        },
      },
    ];
    let n = 0;
    const up = createServer((_q, r) => r.writeHead(200).end());
    const bad = createServer((_q, r) => r.writeHead(++n % 2 === 0 ? 500 : 200).end());
    await Promise.all([up, bad].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))));
    const port = (s: Server) => (s.address() as AddressInfo).port;
    const router = await startRouter({
      service: 'cart-api',
      stable: { version: 'a', port: port(up) },
      canary: { version: 'b', port: port(bad) },
      weight: 50,
    });
    const prom = await startPrometheus({ targets: [router.metricsTarget], scrapeInterval: '500ms' });
    let traffic = true;
    try {
      const client = createPrometheusClient(prom.url);
      for (let i = 0; i < 100 && (await client.instant(requestTotalsQuery({ service: 'cart-api' }))).length < 2; i++) {
        await new Promise((r) => setTimeout(r, 200));
      }
      const load = (async () => {
        while (traffic) {
          await (await fetch(router.url)).arrayBuffer();
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      const judged: string[] = [];
      const r = await superviseRollout(
        createRolloutApi(kc),
        { namespace: 'shop', name: 'cart-api' },
        {
          prometheus: client,
          service: 'cart-api',
          bucketSeconds: 1,
          intervalMs: 300,
          timeoutMs: 20_000,
          onJudge: (d) => judged.push(`${d.decision}:${d.stable}/${d.canary}`),
        },
      );
      traffic = false;
      await load;
      expect(r.final.verdict).toBe('aborted');
      expect(r.actions).toHaveLength(1);
      expect(r.actions[0]).toMatchObject({
        action: 'abort',
        decision: { decision: 'abort' },
        patches: [{ target: 'status', body: { status: { abort: true } } }],
      });
      expect(judged.at(-1)).toBe('abort:a/b');
      expect(seen.filter((s) => s.method === 'PATCH')).toHaveLength(1);
    } finally {
      traffic = false;
      await Promise.allSettled([prom.stop(), router.close()]);
      up.close();
      bad.close();
    }
  });

  describe('suture canary watch (the CLI, against the stand-in API server)', () => {
    let dir: string;
    const cli = (...args: string[]) =>
      execa(
        join(import.meta.dirname, '../../node_modules/.bin/node'),
        [join(import.meta.dirname, '../../src/main.ts'), 'canary', 'watch', ...args],
        { reject: false },
      );
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'suture-kube-'));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      writeFileSync(
        join(dir, 'config'),
        `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${url}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
      );
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('--once --json prints the interpreted status', async () => {
      const r = await cli('cart-api', '-n', 'shop', '--kubeconfig', join(dir, 'config'), '--once', '--json');
      expect(r.exitCode).toBe(0);
      const out = JSON.parse(r.stdout) as { rollout: { verdict: string; currentStep: string }; actions: unknown[] };
      expect(out.rollout).toMatchObject({
        verdict: 'paused',
        currentStep: 'pause',
        stableRS: 'a',
        currentPodHash: 'b',
      });
      expect(out.actions).toEqual([]);
    });

    it('--abort sends the abort patch, then watches until the rollout reports aborted', async () => {
      const r = await cli(
        'cart-api',
        '-n',
        'shop',
        '--kubeconfig',
        join(dir, 'config'),
        '--abort',
        '--interval',
        '0.05',
        '--timeout',
        '10',
      );
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(/^shop\/cart-api: aborted \(Degraded\)/);
      expect(seen.filter((s) => s.method === 'PATCH').map((s) => [s.path, s.body])).toEqual([
        [`${BASE}/status`, { status: { abort: true } }],
      ]);
    });

    it('bad flags exit 2 with one line; an unreachable rollout exits non-zero with the API message', async () => {
      // Each run is a fresh Node process (~2 s), so only two of the flag checks run here.
      for (const args of [
        ['--interval', '0'],
        ['--abort', '--promote'],
      ]) {
        const r = await cli('cart-api', '--kubeconfig', join(dir, 'config'), ...args);
        expect(r.exitCode).toBe(2);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
      }
      const missing = await cli('nope', '-n', 'shop', '--kubeconfig', join(dir, 'config'), '--once');
      expect(missing.exitCode).toBe(2);
      expect(missing.stderr).toMatch(/get rollout shop\/nope: the server could not find/);
    });
  });
});
