/**
 * The Kubernetes adapter's wire format, recorded by a loopback HTTP server standing in for the API server:
 * which URL, method, content type and body the abort / promote / watch calls send. This checks what goes
 * on the wire, not Argo's reaction to it: no Kubernetes API server runs here.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import type { IRollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout';
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
    states = [
      { status: { observedGeneration: '1', phase: 'Healthy', stableRS: 'a', currentPodHash: 'a' } },
      {
        status: {
          observedGeneration: '2',
          phase: 'Progressing',
          currentStepIndex: 0,
          stableRS: 'a',
          currentPodHash: 'b',
        },
      },
      {
        status: {
          observedGeneration: '2',
          phase: 'Progressing',
          currentStepIndex: 0,
          stableRS: 'a',
          currentPodHash: 'b',
        },
      },
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
});
