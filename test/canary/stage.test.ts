/**
 * The release stage against the real parts: release images built by Docker from a real git repository (the
 * pricing-api fixture), a real bare GitOps config repository, the local rollout backend's containers, router
 * and private Prometheus. A good fix is promoted and its bump stays; a fix that trades the crash for a broken
 * healthy route is aborted and its bump reverted (it must never be promoted); a release interrupted between
 * the bump and the canary resumes with one bump; bad canary settings are one line.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { release } from '../../src/canary/stage.ts';
import { loadServiceConfig } from '../../src/config/service.ts';
import { closeGitRepos } from '../../src/gitops/git.ts';
import type { Incident } from '../../src/incident/types.ts';
import { LABEL_ROLLOUT } from '../../src/sandbox/docker.ts';
import { addOrigin, cleanup, git, healWith, repoFromService, tempDir } from '../helpers/repo.ts';

const ROLLOUT = `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: { name: pricing-api }
spec:
  replicas: 1
  selector: { matchLabels: { app: pricing-api } }
  template:
    metadata: { labels: { app: pricing-api } }
    spec: { containers: [{ name: pricing-api, image: registry.example.com/pricing-api:1.0.0 }] }
  strategy:
    canary:
      steps:
        - setWeight: 50
        - pause: { duration: 1s }
        - analysis: { templates: [{ templateName: suture-judge }] }
`;
// Seconds-scale: 1 s buckets, promotion after 3 s and 100 canary requests, 5 pp tolerance.
const CANARY = `canary:
  rate: 60
  duration: 40
  bucketSeconds: 1
  judge: { minSeconds: 3, minCanaryRequests: 100, toleranceAbsolute: 0.05 }
`;
const GOOD_FIX = `    if not discounts:
        return 0
    return total / len(discounts)`;
// Fixes the crash (an empty list answers 200) but fails every cart that has discounts: a healthy route.
const BAD_FIX = `    if not discounts:
        return 0
    raise ValueError("discounts are not supported any more")`;

const fixture = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'services', 'pricing-api', 'incident.json'), 'utf8'),
) as { healthyRequests: Incident['healthyRequests'] };
const crashing = {
  method: 'POST',
  path: '/quote',
  headers: { 'content-type': 'application/json' },
  body: '{"items": [{"price": 12.5, "qty": 2}], "discounts": []}',
  status: 500,
};

let n = 0;
function incident(): Incident {
  n++;
  return {
    id: `0123456789ab-2026112304273${n}`,
    fingerprint: '0123456789abcdef',
    service: 'pricing-api',
    environment: 'production',
    signal: 'crash',
    summary: 'ZeroDivisionError in average_discount',
    detectedAt: '2026-11-23T04:27:33Z',
    logs: '',
    requests: [crashing],
    healthyRequests: fixture.healthyRequests,
    labels: {},
  };
}

interface World {
  repo: string;
  base: string;
  good: string;
  /** The same fix, once more (a later merge): not deployed by any earlier test. */
  again: string;
  bad: string;
  /** Changes nothing that matters: the crash is still there. */
  noop: string;
  remote: string;
  operator: string;
  root: string;
}

const made: string[] = [];
let w: World;

async function world(): Promise<World> {
  const repo = await repoFromService('pricing-api');
  const root = tempDir('suture-release-');
  made.push(repo, root);
  mkdirSync(join(repo, 'deploy'));
  writeFileSync(join(repo, 'deploy', 'rollout.yaml'), ROLLOUT);
  writeFileSync(join(repo, 'suture.yaml'), `${readFileSync(join(repo, 'suture.yaml'), 'utf8')}${CANARY}`);
  await git(repo, 'add', '-A');
  await git(repo, 'commit', '-qm', 'rollout manifest and canary settings');
  const base = await git(repo, 'rev-parse', 'HEAD');
  const pricing = readFileSync(join(repo, 'pricing.py'), 'utf8');
  const fix = async (name: string, body: string) => {
    await git(repo, 'checkout', '-q', '-B', name, base);
    writeFileSync(join(repo, 'pricing.py'), pricing.replace('    return total / len(discounts)', body));
    await git(repo, 'commit', '-qam', name);
    return git(repo, 'rev-parse', 'HEAD');
  };
  const good = await fix('good', GOOD_FIX);
  const again = await fix('again', `${GOOD_FIX}  # empty list: no discount`);
  const bad = await fix('bad', BAD_FIX);
  const noop = await fix('noop', '    return total / len(discounts)  # unchanged');
  await git(repo, 'checkout', '-q', 'main');

  // The GitOps config repository: a Helm values file holding the deployed tag (the base revision's).
  const remote = join(root, 'deploy.git');
  const clone = join(root, 'clone');
  await git(root, 'init', '-q', '--bare', '-b', 'main', remote);
  await git(root, 'clone', '-q', remote, clone);
  await git(clone, 'checkout', '-qb', 'main');
  mkdirSync(join(clone, 'charts', 'pricing-api'), { recursive: true });
  writeFileSync(join(clone, 'charts', 'pricing-api', 'values.yaml'), `image:\n  tag: "${base.slice(0, 12)}"\n`);
  await git(clone, 'add', '-A');
  await git(clone, 'commit', '-qm', 'deploy config');
  await git(clone, 'push', '-q', 'origin', 'main');
  const operator = join(root, 'gitops.yaml');
  writeFileSync(
    operator,
    `repository: { url: ./deploy.git, branch: main }\nservices:\n  pricing-api:\n    file: charts/pricing-api/values.yaml\n    helm: { tag: image.tag }\n`,
  );
  return { repo, base, good, again, bad, noop, remote, operator, root };
}

const deployedTag = async () =>
  /tag: "?([0-9a-f]+)"?/.exec(await git(w.remote, 'show', 'main:charts/pricing-api/values.yaml'))?.[1];
const bumpCommits = async (incidentId: string) =>
  (await git(w.remote, 'log', '--format=%H %(trailers:key=Suture-Incident,valueonly,separator=)', 'main'))
    .split('\n')
    .filter((l) => l.endsWith(incidentId));

function request(commit: string, inc: Incident, state: string, extra: Partial<Parameters<typeof release>[0]> = {}) {
  const lines: string[] = [];
  return {
    lines,
    req: {
      repo: w.repo,
      base: w.base,
      commit,
      incident: inc,
      config: loadServiceConfig(w.repo),
      stateDir: state,
      progress: (l: string) => lines.push(l),
      env: { SUTURE_GITOPS_CONFIG: w.operator, SUTURE_CANARY: 'local', GIT_CONFIG_NOSYSTEM: '1' },
      ...extra,
    },
  };
}

async function rolloutContainers(): Promise<string[]> {
  const { stdout } = await execa('docker', ['ps', '-aq', '--filter', `label=${LABEL_ROLLOUT}`]);
  return stdout.split('\n').filter(Boolean);
}

describe('release stage (local backend, real containers, real config repo)', () => {
  beforeAll(async () => {
    w = await world();
  }, 60_000);
  afterAll(async () => {
    await closeGitRepos();
    cleanup(...made);
  });

  it('promotes a good fix: the bump to its image stays, the series shows the rehearsal', async () => {
    const inc = incident();
    const state = join(w.root, 'state-good');
    const { req, lines } = request(w.good, inc, state);
    const out = await release(req);
    expect(out, lines.join('\n')).not.toBeNull();
    expect(out!.decision, out!.reason).toBe('promoted');
    expect(out!.backend).toBe('local');
    expect(out!.image).toBe(`suture-release/pricing-api:${w.good.slice(0, 12)}`);
    expect(out!.imageId).toMatch(/^sha256:/);
    expect(out!.bump).toMatchObject({
      file: 'charts/pricing-api/values.yaml',
      from: w.base.slice(0, 12),
      to: w.good.slice(0, 12),
    });
    expect(out!.reverted).toBeNull();
    expect(await deployedTag()).toBe(w.good.slice(0, 12));
    expect(await git(w.remote, 'rev-parse', 'main')).toBe(out!.bump!.commit);
    // The judged traffic reached both sides and the fix served it without errors.
    const canary = out!.series.reduce((a, b) => a + b.canary.requests, 0);
    expect(canary).toBeGreaterThanOrEqual(100);
    expect(out!.series.reduce((a, b) => a + b.canary.errors, 0)).toBe(0);
    expect(out!.steps.map((s) => s.name)).toEqual(['build image', 'bump config repo', 'canary (local)']);
    expect(lines.some((l) => /^canary \(local\): promoted at \d+ s/.test(l))).toBe(true);
    expect(await rolloutContainers()).toEqual([]);
  }, 120_000);

  it('aborts a fix that breaks a healthy route and reverts exactly its bump: never promoted', async () => {
    const inc = incident();
    const state = join(w.root, 'state-bad');
    const before = await deployedTag();
    const { req, lines } = request(w.bad, inc, state);
    const out = await release(req);
    expect(out!.decision, `${out!.reason}\n${lines.join('\n')}`).toBe('aborted');
    expect(out!.reason).toMatch(/regress|worse|beyond/i);
    expect(out!.bump?.to).toBe(w.bad.slice(0, 12));
    expect(out!.reverted?.commit).toBe(await git(w.remote, 'rev-parse', 'main'));
    expect(await git(w.remote, 'rev-parse', 'main^')).toBe(out!.bump!.commit);
    expect(await deployedTag()).toBe(before);
    expect(out!.series.reduce((a, b) => a + b.canary.errors, 0)).toBeGreaterThan(0);
    expect(out!.steps.map((s) => s.name)).toEqual(['build image', 'bump config repo', 'canary (local)', 'revert bump']);
    expect(await rolloutContainers()).toEqual([]);
    // Resumed after the decision: not rehearsed again, not reverted twice.
    const again = await release(request(w.bad, inc, state).req);
    expect(again).toMatchObject({ decision: 'aborted', resumed: ['canary'], reverted: out!.reverted });
    expect(await git(w.remote, 'rev-parse', 'main')).toBe(out!.reverted!.commit);
  }, 120_000);

  it('aborts a "fix" that still fails the crashing request, though the judged healthy traffic is fine', async () => {
    const inc = incident();
    const { req } = request(w.noop, inc, join(w.root, 'state-noop'));
    const out = await release(req);
    expect(out!.decision).toBe('aborted');
    expect(out!.reason).toMatch(/still fails the incident's request POST \/quote \(500\)/);
    expect(out!.reverted).not.toBeNull();
    expect(await rolloutContainers()).toEqual([]);
  }, 120_000);

  it('resumes a release interrupted between the bump and the canary with one bump', async () => {
    const inc = incident();
    const state = join(w.root, 'state-resume');
    const stop = new AbortController();
    const first = request(w.again, inc, state, { signal: stop.signal });
    first.req.progress = (l: string) => {
      first.lines.push(l);
      if (l.startsWith('bump config repo:')) stop.abort();
    };
    await expect(release(first.req)).rejects.toThrow(/interrupted/);
    expect(await bumpCommits(inc.id)).toHaveLength(1);
    const out = await release(request(w.again, inc, state).req);
    expect(out!.decision, out!.reason).toBe('promoted');
    expect(out!.resumed).toContain('bump');
    expect(await deployedTag()).toBe(w.again.slice(0, 12));
    expect(await bumpCommits(inc.id)).toHaveLength(1);
    expect(out!.bump?.commit).toBe((await bumpCommits(inc.id))[0]!.split(' ')[0]);
  }, 120_000);

  it('suture heal --mode auto: merged, released, canary promoted; the result carries the canary', async () => {
    const repo = await repoFromService('pricing-api');
    made.push(repo);
    mkdirSync(join(repo, 'deploy'));
    writeFileSync(join(repo, 'deploy', 'rollout.yaml'), ROLLOUT);
    writeFileSync(join(repo, 'suture.yaml'), `${readFileSync(join(repo, 'suture.yaml'), 'utf8')}${CANARY}`);
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-qm', 'rollout manifest and canary settings');
    made.push(await addOrigin(repo));
    const state = join(w.root, 'state-heal');
    const r = await healWith(
      { SUTURE_LOCAL_MERGE: 'fast-forward', SUTURE_GITOPS_CONFIG: w.operator, SUTURE_CANARY: 'local' },
      'pricing-api',
      repo,
      state,
      '--mode',
      'auto',
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.status, out.reason).toBe('fixed');
    expect(out.reason).toMatch(/canary promoted/);
    expect(out.canary).toMatchObject({
      backend: 'local',
      decision: 'promoted',
      image: `suture-release/pricing-api:${out.commit.slice(0, 12)}`,
      bump: { to: out.commit.slice(0, 12) },
      reverted: null,
    });
    expect(out.canary.series.length).toBeGreaterThan(0);
    expect(await deployedTag()).toBe(out.commit.slice(0, 12));
    expect(r.stderr).toMatch(/canary \(local\): promoted/);
  }, 240_000);
});
