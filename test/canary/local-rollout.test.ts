/**
 * End to end on this machine: real containers (built FROM suture-sandbox:bookworm), the router, a private
 * Prometheus and the sequential judge, driven by a Rollout manifest with seconds-scale steps.
 */
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoServiceImage } from '../../src/canary/local/demo-image.ts';
import { type RolloutEvent, startLocalRollout } from '../../src/canary/local/rollout.ts';
import { parseRolloutPlan } from '../../src/canary/local/steps.ts';
import { generateTraffic } from '../../src/canary/local/traffic.ts';
import { LABEL_ROLLOUT as ROLLOUT_LABEL } from '../../src/sandbox/docker.ts';

const MANIFEST = `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: { name: demo }
spec:
  replicas: 1
  selector: { matchLabels: { app: demo } }
  template:
    metadata: { labels: { app: demo } }
    spec: { containers: [{ name: demo, image: suture-canary-demo:healthy }] }
  strategy:
    canary:
      steps:
        - setWeight: 20
        - pause: { duration: 2s }
        - setWeight: 50
        - analysis: { templates: [{ templateName: suture-judge }] }
`;

// Seconds-scale judge: promotion may come after 3 s and 150 canary requests; 5 pp tolerance.
const judge = { minSeconds: 3, minCanaryRequests: 150, toleranceAbsolute: 0.05 };

async function containersOf(id: string): Promise<string[]> {
  const { stdout } = await execa('docker', ['ps', '-q', '--filter', `label=${ROLLOUT_LABEL}=${id}`]);
  return stdout.split('\n').filter(Boolean);
}

async function versionsServed(url: string, n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const res = await fetch(url);
    await res.arrayBuffer();
    seen.add(res.headers.get('x-suture-version') ?? '?');
  }
  return seen;
}

type Side = Parameters<typeof startLocalRollout>[0]['stable'];
type Rollout = Awaited<ReturnType<typeof startLocalRollout>>;
type Result = Awaited<Rollout['result']>;

/**
 * Runs a rollout of `canary` against a healthy stable under 150 rps of loopback traffic, hands the result to
 * `check`, and always stops the traffic and cleans up; afterwards no container of the rollout may remain.
 */
async function underTraffic(
  sides: { stable?: Side; canary: Side; onEvent?: (e: RolloutEvent) => void },
  check: (result: Result, r: Rollout) => Promise<void>,
): Promise<void> {
  const r = await startLocalRollout({
    service: 'demo',
    plan: parseRolloutPlan(MANIFEST),
    stable: sides.stable ?? { image: 'suture-canary-demo:healthy', version: 'v1' },
    canary: sides.canary,
    bucketSeconds: 1,
    judge,
    analysisTimeoutSeconds: 40,
    ...(sides.onEvent ? { onEvent: sides.onEvent } : {}),
  });
  const traffic = generateTraffic({ url: r.routerUrl, rps: 150, maxRequests: 9000, maxSeconds: 60 });
  try {
    await check(await r.result, r);
  } finally {
    traffic.stop();
    await traffic.done;
    await r.cleanup();
  }
  expect(await containersOf(r.id)).toHaveLength(0);
}

describe('local rollout backend', () => {
  beforeAll(async () => {
    await buildDemoServiceImage({ tag: 'suture-canary-demo:healthy', errorRate: 0 });
    await buildDemoServiceImage({ tag: 'suture-canary-demo:failing', errorRate: 0.4 });
  }, 120_000);

  afterAll(async () => {
    // Belt and braces: nothing labelled for a rollout may survive the suite.
    const { stdout } = await execa('docker', ['ps', '-aq', '--filter', `label=${ROLLOUT_LABEL}`]);
    const left = stdout.split('\n').filter(Boolean);
    if (left.length) await execa('docker', ['rm', '-f', ...left], { reject: false });
  });

  it('promotes a healthy canary: it becomes stable and the old stable stops', async () => {
    const events: RolloutEvent[] = [];
    await underTraffic(
      { canary: { image: 'suture-canary-demo:healthy', version: 'v2' }, onEvent: (e) => events.push(e) },
      async (result, r) => {
        expect(result.outcome).toBe('promoted');
        expect(result.decision?.decision).toBe('promote');
        expect(result.stableVersion).toBe('v2');
        expect(result.stepIndex).toBe(4);
        expect(result.canaryTotals.requests).toBeGreaterThanOrEqual(150);
        expect(result.canaryTotals.errors).toBe(0);
        // The steps ran in the manifest's order, and traffic really was split.
        const steps = events.flatMap((e) => (e.type === 'step' ? [e.step.kind] : []));
        expect(steps).toEqual(['setWeight', 'pause', 'setWeight', 'analysis']);
        expect(result.stableTotals.requests).toBeGreaterThan(result.canaryTotals.requests * 0.8);
        // Promoted: only the canary's container remains, and it takes all traffic under its version.
        expect(await containersOf(r.id)).toHaveLength(1);
        expect([...(await versionsServed(r.routerUrl, 20))]).toEqual(['v2']);
      },
    );
  }, 90_000);

  it('aborts a failing canary: weight 0, canary stopped, stable keeps serving', async () => {
    await underTraffic(
      {
        stable: { image: 'suture-canary-demo:healthy', version: 'v1', env: { ERROR_RATE: '0.01' } },
        canary: { image: 'suture-canary-demo:failing', version: 'v2' },
      },
      async (result, r) => {
        expect(result.outcome).toBe('aborted');
        expect(result.decision?.decision).toBe('abort');
        expect(result.stableVersion).toBe('v1');
        // A 40% failure against 1% aborts at the first weight step, well before the analysis step.
        expect(result.stepIndex).toBeLessThan(3);
        expect(result.at).toBeLessThanOrEqual(5);
        expect(result.canaryTotals.errors).toBeGreaterThan(0);
        expect(await containersOf(r.id)).toHaveLength(1);
        expect([...(await versionsServed(r.routerUrl, 20))]).toEqual(['v1']);
      },
    );
  }, 90_000);

  it('aborts a canary that crashes on real traffic: its refused connections count as errors', async () => {
    await underTraffic(
      {
        stable: { image: 'suture-canary-demo:healthy', version: 'v1', env: { ERROR_RATE: '0.01' } },
        // The canary serves 20 requests, then its process exits: the router gets connection refused.
        canary: { image: 'suture-canary-demo:healthy', version: 'v2', env: { CRASH_AFTER: '20' } },
      },
      async (result, r) => {
        expect(result.outcome).toBe('aborted');
        expect(result.decision?.decision).toBe('abort');
        expect(result.canaryTotals.errors).toBeGreaterThan(0);
        expect(result.canaryTotals.requests - result.canaryTotals.errors).toBeLessThanOrEqual(20);
        expect([...(await versionsServed(r.routerUrl, 10))]).toEqual(['v1']);
      },
    );
  }, 90_000);

  it('without canary traffic an analysis step never promotes: it ends inconclusive and aborts', async () => {
    const r = await startLocalRollout({
      service: 'demo',
      plan: parseRolloutPlan(MANIFEST.replace('duration: 2s', 'duration: 1s')),
      stable: { image: 'suture-canary-demo:healthy', version: 'v1' },
      canary: { image: 'suture-canary-demo:healthy', version: 'v2' },
      bucketSeconds: 1,
      judge,
      analysisTimeoutSeconds: 3,
    });
    try {
      const result = await r.result;
      expect(result).toMatchObject({ outcome: 'aborted', decision: null, stepIndex: 3, stableVersion: 'v1' });
      expect(result.reason).toMatch(/analysis inconclusive after 3 s/);
      expect(result.canaryTotals.requests).toBe(0);
    } finally {
      await r.cleanup();
    }
  }, 60_000);

  it('refuses a missing image and bad judge options before starting anything', async () => {
    const base = { service: 'demo', plan: parseRolloutPlan(MANIFEST), bucketSeconds: 1 };
    await expect(
      startLocalRollout({
        ...base,
        stable: { image: 'suture-canary-demo:healthy', version: 'v1' },
        canary: { image: 'suture-no-such-image:1', version: 'v2' },
      }),
    ).rejects.toThrow(/suture-no-such-image:1 is not available locally/);
    await expect(
      startLocalRollout({
        ...base,
        stable: { image: 'suture-canary-demo:healthy', version: 'v1' },
        canary: { image: 'suture-canary-demo:healthy', version: 'v2' },
        judge: { alpha: -1 },
      }),
    ).rejects.toThrow(/alpha/);
    await expect(
      startLocalRollout({
        ...base,
        stable: { image: 'suture-canary-demo:healthy', version: 'v1' },
        canary: { image: 'suture-canary-demo:healthy', version: 'v1' },
      }),
    ).rejects.toThrow(/must differ/);
  });
});
