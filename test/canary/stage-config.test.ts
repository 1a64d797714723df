/**
 * The release stage's settings and the parts that need no canary run: the backend from SUTURE_CANARY, the
 * `canary:` section of suture.yaml (bad values are one line), the generated Dockerfile (no text from
 * suture.yaml becomes an instruction), replayed sample paths confined to loopback, and when a Rollout in
 * Argo counts as running the fix (a Rollout still Healthy on the old image is no promotion).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { replayInit, sampleUrl } from '../../src/canary/local/traffic.ts';
import { canaryPlanFor, rolloutRunsImage } from '../../src/canary/stage.ts';
import { canaryBackend, releaseSettings } from '../../src/canary/stage-config.ts';
import { generatedDockerfile } from '../../src/canary/stage-image.ts';
import { loadServiceConfig, type ServiceConfig } from '../../src/config/service.ts';
import { cli } from '../helpers/repo.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function configWith(yaml: string): () => ServiceConfig {
  const dir = mkdtempSync(join(tmpdir(), 'suture-canary-config-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'suture.yaml'), `service: pricing-api\nlanguage: python\nstart: python3 app.py\n${yaml}`);
  return () => loadServiceConfig(dir);
}

describe('canary settings', () => {
  it('the backend is the operator’s: local by default, argo, off; anything else is one line', () => {
    expect(canaryBackend({})).toBe('local');
    expect(canaryBackend({ SUTURE_CANARY: 'Argo' })).toBe('argo');
    expect(canaryBackend({ SUTURE_CANARY: 'off' })).toBeNull();
    expect(() => canaryBackend({ SUTURE_CANARY: 'flagger' })).toThrow(
      /^SUTURE_CANARY must be local, argo or off, not "flagger"$/,
    );
  });

  it('suture.yaml canary: defaults, overrides, opt-out', () => {
    const plain = configWith('')();
    expect(releaseSettings(plain, {})).toEqual({
      backend: 'local',
      explicit: false,
      rate: 20,
      duration: 300,
      bucketSeconds: 10,
      namespace: 'default',
      judge: {},
    });
    const tuned = configWith(
      'canary:\n  rollout: deploy/rollout.yaml\n  rate: 5\n  bucketSeconds: 2\n  judge: { minSeconds: 3 }\n',
    )();
    expect(releaseSettings(tuned, { SUTURE_CANARY: 'argo' })).toMatchObject({
      backend: 'argo',
      explicit: true,
      rollout: 'deploy/rollout.yaml',
      rate: 5,
      bucketSeconds: 2,
      judge: { minSeconds: 3 },
    });
    expect(releaseSettings(configWith('canary: { enabled: false }\n')(), {})).toBeNull();
    expect(releaseSettings(plain, { SUTURE_CANARY: 'off' })).toBeNull();
  });

  it.each([
    ['canary: { rate: 0 }', /^suture\.yaml: canary\.rate: /],
    ['canary: { bucketSeconds: 0.5 }', /^suture\.yaml: canary\.bucketSeconds: /],
    [
      'canary: { rollout: ../deploy/rollout.yaml }',
      /^suture\.yaml: canary\.rollout: rollout must be a path inside the repo/,
    ],
    ['canary: { judge: { alpha: 0.5 } }', /^suture\.yaml: canary\.judge: .*alpha/],
    ['canary: { judge: { toleranceAbsolute: 0.9 } }', /^suture\.yaml: canary\.judge\.toleranceAbsolute: /],
    ['canary: { namespace: "Shop Floor" }', /^suture\.yaml: canary\.namespace: namespace must be a Kubernetes name/],
    ['canary: { backend: argo }', /^suture\.yaml: canary: .*backend/],
  ])('%s is one clear line', (yaml, message) => {
    const load = configWith(`${yaml}\n`);
    expect(load).toThrow(message);
    try {
      load();
    } catch (err) {
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('suture heal with a bad canary section: exit 2, one line, no stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'suture-canary-cli-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'suture.yaml'), 'service: pricing-api\nlanguage: python\ncanary: { rate: -3 }\n');
    writeFileSync(join(dir, 'incident.json'), JSON.stringify({ kind: 'crash', service: 'pricing-api', logs: 'x' }));
    const { execa } = await import('execa');
    await execa('git', ['init', '-q', '-b', 'main'], { cwd: dir });
    await execa('git', ['add', '-A'], { cwd: dir });
    await execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-qm', 'x'], { cwd: dir });
    const r = await cli(['heal', '--repo', dir, '--incident', join(dir, 'incident.json'), '--state', join(dir, '.s')]);
    expect(r.exitCode).toBe(2);
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => /canary/.test(l)),
    ).toEqual([expect.stringMatching(/suture\.yaml: canary\.rate: /)]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});

describe('generated release Dockerfile', () => {
  const base: ServiceConfig = configWith('')();

  it('the tree, the install at build time, start as the sandbox user, every value in exec form', () => {
    const text = generatedDockerfile({ ...base, install: 'pip install -r requirements.txt' });
    expect(text.split('\n')).toEqual([
      'FROM suture-sandbox:bookworm',
      'USER 0:0',
      'COPY . /srv/pricing-api',
      'WORKDIR /srv/pricing-api',
      'RUN ["rm", "-f", "/srv/pricing-api/.suture-release.Dockerfile"]',
      'RUN ["/bin/sh","-c","pip install -r requirements.txt"]',
      'ENV PORT=8080',
      'USER 10001:10001',
      'CMD ["/bin/sh","-c","python3 app.py"]',
      '',
    ]);
  });

  it('a start or install with a newline cannot add an instruction; no start is one line', () => {
    const text = generatedDockerfile({ ...base, start: 'python3 app.py\nRUN curl evil', install: 'true\nUSER 0' });
    expect(text.split('\n').filter((l) => /^(RUN curl|USER 0$)/.test(l))).toEqual([]);
    expect(() => generatedDockerfile({ ...base, image: 'suture-sandbox:bookworm\nRUN x' })).toThrow(
      /not an image name/,
    );
    const { start: _, ...noStart } = base;
    expect(() => generatedDockerfile(noStart)).toThrow(/^suture\.yaml: start is needed/);
  });
});

describe('replayed samples stay on loopback', () => {
  const target = new URL('http://127.0.0.1:4000/');
  it('paths resolve on the target; //host is refused, a full URL stays a path', () => {
    expect(sampleUrl({ method: 'GET', path: '/quote?x=1' }, target).href).toBe('http://127.0.0.1:4000/quote?x=1');
    expect(sampleUrl({ method: 'GET', path: 'quote' }, target).href).toBe('http://127.0.0.1:4000/quote');
    expect(() => sampleUrl({ method: 'GET', path: '//example.com/x' }, target)).toThrow(/leaves/);
    // Not a path: kept on the target as one (never fetched from example.com).
    expect(sampleUrl({ method: 'GET', path: 'http://example.com/x' }, target).origin).toBe(target.origin);
  });
  it('method, headers and body are replayed; hop-by-hop and host headers are not', () => {
    expect(
      replayInit({
        method: 'post',
        path: '/q',
        headers: { Host: 'x', 'content-type': 'application/json' },
        body: '{}',
      }),
    ).toEqual({ method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(replayInit({ method: 'GET', path: '/q', body: 'ignored' })).toEqual({ method: 'GET', headers: {} });
  });
});

describe('argo: when the Rollout runs the fix', () => {
  const ro = (image: string) => ({ spec: { template: { spec: { containers: [{ image }] } } } });
  it('only a pod template with the bumped tag (or digest) counts', () => {
    expect(rolloutRunsImage(ro('registry.example.com/pricing-api:0123456789ab'), '0123456789ab')).toBe(true);
    expect(rolloutRunsImage(ro('registry.example.com/pricing-api@sha256:ab'), 'sha256:ab')).toBe(true);
    // Before Argo CD synced the bump: Healthy, but on the old image.
    expect(rolloutRunsImage(ro('registry.example.com/pricing-api:ffffffffffff'), '0123456789ab')).toBe(false);
    expect(rolloutRunsImage(ro('registry.example.com/pricing-api:x0123456789ab'), '0123456789ab')).toBe(false);
    expect(rolloutRunsImage({}, '0123456789ab')).toBe(false);
  });
});

describe('replayed samples through the weighted router', () => {
  it('every sample reaches both versions: replay order does not alias with the router’s even split', async () => {
    const { createServer } = await import('node:http');
    const { startRouter } = await import('../../src/canary/local/router.ts');
    const { generateTraffic } = await import('../../src/canary/local/traffic.ts');
    const seen: Record<string, Set<string>> = { v1: new Set(), v2: new Set() };
    const backend = (version: string) =>
      new Promise<{ port: number; close: () => void }>((resolve) => {
        const srv = createServer((req, res) => {
          seen[version]!.add(`${req.method} ${req.url}`);
          res.end('ok');
        });
        srv.listen(0, '127.0.0.1', () =>
          resolve({ port: (srv.address() as { port: number }).port, close: () => srv.close() }),
        );
      });
    const [a, b] = await Promise.all([backend('v1'), backend('v2')]);
    const router = await startRouter({
      service: 'x',
      stable: { version: 'v1', port: a.port },
      canary: { version: 'v2', port: b.port },
      weight: 50,
      port: 0,
    });
    try {
      const t = generateTraffic({
        url: router.url,
        samples: [
          { method: 'POST', path: '/quote', body: '{}' },
          { method: 'GET', path: '/healthz' },
        ],
        rps: 40,
        maxRequests: 40,
        maxSeconds: 5,
      });
      await t.done;
      // Replayed in turn, POST /quote went only to stable and GET /healthz only to the canary.
      expect([...seen.v2!].sort()).toEqual(['GET /healthz', 'POST /quote']);
      expect([...seen.v1!].sort()).toEqual(['GET /healthz', 'POST /quote']);
    } finally {
      await router.close();
      a.close();
      b.close();
    }
  });
});

describe('canaryPlanFor (the plan a proposal shows)', () => {
  const demo = join(import.meta.dirname, '..', '..', 'demo', 'pricing-api');
  it("is the service's Rollout steps, and none when the canary is off or the manifest is unreadable", async () => {
    const config = loadServiceConfig(demo);
    const plan = await canaryPlanFor(demo, config, {});
    expect(plan?.steps.length).toBeGreaterThan(0);
    expect(await canaryPlanFor(demo, config, { SUTURE_CANARY: 'off' })).toBeNull();
    expect(await canaryPlanFor(demo, { ...config, canary: { rollout: 'no/such.yaml' } } as never, {})).toBeNull();
  });
});
