/**
 * pipelines/: every Argo manifest validates against the Argo Rollouts / Argo CD schemas once rendered, the
 * Rollout's steps are what the local backend rehearses, every analysis it references exists with the args it
 * needs, the Prometheus query is suture's own template, and the web template's body is one POST /judge accepts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IMetric } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Metric';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawSpec, generate, type StreamSpec } from '../../bench/_canary-streams.ts';
import {
  renderPipelineTemplate,
  templatePlaceholders,
  validateArgoManifests,
} from '../../src/canary/argo/manifests.ts';
import { createSequentialJudge, DEFAULT_JUDGE_OPTIONS } from '../../src/canary/judge/index.ts';
import { parseRolloutPlan } from '../../src/canary/local/steps.ts';
import { errorRatioQuery } from '../../src/canary/prometheus/queries.ts';
import { judgeRoute } from '../../src/serve/judge.ts';
import { type SutureServer, startSutureServer } from '../../src/serve/server.ts';

const root = join(import.meta.dirname, '../../pipelines');
const read = (p: string) => readFileSync(join(root, p), 'utf8');
const VALUES = {
  SERVICE: 'cart-api',
  NAMESPACE: 'shop',
  IMAGE: 'registry.example/cart-api:1.4.2',
  PROMETHEUS_URL: 'http://prometheus.monitoring.svc:9090',
  SUTURE_URL: 'http://suture.suture-system.svc:8080',
  REPO_URL: 'https://github.com/example/cart-api.git',
  SUTURE_REPO: 'example/suture',
  SUTURE_REF: 'v0.1.0',
};
const ARGO_FILES = [
  'argo-rollouts/rollout.yaml',
  'argo-rollouts/analysis-prometheus.yaml',
  'argo-rollouts/analysis-web-judge.yaml',
  'argo-rollouts/analysis-web-judge-promote.yaml',
  'argo-cd/application.yaml',
];
const TOKEN = 'argo-analysis-token-0123456789';
const rendered = (p: string) => renderPipelineTemplate(read(p), VALUES);

describe('pipelines/ manifests', () => {
  it.each(ARGO_FILES)('%s validates against the Argo schema after rendering', (file) => {
    const docs = validateArgoManifests(rendered(file), file);
    expect(docs).toHaveLength(1);
    expect(JSON.stringify(docs[0]!.doc)).not.toMatch(/\$\{[A-Z]/);
  });

  // pipelines/github/ is checked with the action (test/action/workflows.test.ts).
  it.each(ARGO_FILES)('%s documents exactly the placeholders it uses', (file) => {
    const text = read(file);
    const header = text.match(/# Placeholders: (.*)/)?.[1] ?? '';
    expect(templatePlaceholders(header)).toEqual(templatePlaceholders(text));
  });

  it('the Rollout steps are what the local backend rehearses', () => {
    const plan = parseRolloutPlan(rendered('argo-rollouts/rollout.yaml'));
    expect(plan.steps).toEqual([
      { kind: 'setWeight', weight: 10 },
      { kind: 'pause', seconds: 120 },
      { kind: 'setWeight', weight: 25 },
      { kind: 'pause', seconds: 300 },
      { kind: 'setWeight', weight: 50 },
      { kind: 'pause', seconds: 300 },
      { kind: 'analysis', templates: ['suture-judge-promote'] },
    ]);
    expect(plan.backgroundAnalysis).toEqual(['suture-judge']);
  });

  it('every analysis the Rollout references exists and gets every arg it declares without a default', () => {
    const templates = new Map(
      [
        'argo-rollouts/analysis-prometheus.yaml',
        'argo-rollouts/analysis-web-judge.yaml',
        'argo-rollouts/analysis-web-judge-promote.yaml',
      ].map((f) => {
        const [t] = validateArgoManifests(rendered(f));
        const args = (t!.doc.spec as { args: Array<{ name: string; value?: string; valueFrom?: unknown }> }).args;
        return [
          t!.name,
          args
            .filter((a) => a.value === undefined && a.valueFrom === undefined)
            .map((a) => a.name)
            .sort(),
        ] as const;
      }),
    );
    const [ro] = validateArgoManifests(rendered('argo-rollouts/rollout.yaml'));
    const canary = (ro!.doc.spec as { strategy: { canary: Record<string, unknown> } }).strategy.canary as {
      analysis: { templates: Array<{ templateName: string }>; args: Array<{ name: string }> };
      steps: Array<{ analysis?: { templates: Array<{ templateName: string }>; args: Array<{ name: string }> } }>;
    };
    const uses = [canary.analysis, ...canary.steps.flatMap((s) => (s.analysis ? [s.analysis] : []))];
    expect(uses).toHaveLength(2);
    for (const use of uses) {
      for (const t of use.templates) {
        expect(templates.has(t.templateName)).toBe(true);
        expect(use.args.map((a) => a.name).sort()).toEqual(templates.get(t.templateName));
      }
    }
  });

  it('the Prometheus gate uses suture’s error-ratio query and an error-rate successCondition', () => {
    const [t] = validateArgoManifests(rendered('argo-rollouts/analysis-prometheus.yaml'));
    const metric = (t!.doc.spec as { metrics: Array<Record<string, unknown>> }).metrics[0]!;
    expect(metric.successCondition).toBe('result[0] <= 0.05');
    expect(metric.failureLimit).toBe(0);
    const prom = (metric.provider as { prometheus: { query: string; address: string } }).prometheus;
    expect(prom.address).toBe(VALUES.PROMETHEUS_URL);
    expect(prom.query).toBe(errorRatioQuery({ service: '{{args.service}}' }, '{{args.canary-hash}}', '2m'));
  });

  describe('the web analysis against a real suture serve', () => {
    let server: SutureServer;
    beforeAll(async () => {
      server = await startSutureServer({
        port: 0,
        token: TOKEN,
        routes: [judgeRoute({ prometheus: ['http://127.0.0.1:9'] })],
      });
    });
    afterAll(() => server.close());

    it('POSTs a body /judge accepts, with the bearer token from its Secret, and its conditions read fields /judge returns', async () => {
      const [t] = validateArgoManifests(rendered('argo-rollouts/analysis-web-judge.yaml'));
      const spec = t!.doc.spec as {
        metrics: Array<Record<string, unknown>>;
        args: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
      };
      const metric = spec.metrics[0]!;
      const web = (
        metric.provider as {
          web: {
            method: string;
            url: string;
            headers: Array<{ key: string; value: string }>;
            jsonBody: Record<string, unknown>;
          };
        }
      ).web;
      expect(web.method).toBe('POST');
      expect(web.url).toBe(`${VALUES.SUTURE_URL}/judge`);
      expect(spec.args.find((a) => a.name === 'suture-token')?.valueFrom?.secretKeyRef).toEqual({
        name: 'suture-token',
        key: 'token',
      });
      // Argo substitutes {{args.x}} before sending; do the same with example hashes and the Secret's token.
      const args: Record<string, string> = {
        service: 'cart-api',
        'stable-hash': '6c5f9c7d8b',
        'canary-hash': '7f8d9e6a5c',
        'suture-token': TOKEN,
      };
      const substitute = (text: string) => text.replace(/\{\{args\.([a-z-]+)\}\}/g, (_, n: string) => args[n]!);
      const body = JSON.parse(substitute(JSON.stringify(web.jsonBody)));
      const headers = Object.fromEntries(web.headers.map((h) => [h.key, substitute(h.value)]));
      const send = (h: Record<string, string>) =>
        fetch(`${server.url}/judge`, { method: 'POST', headers: h, body: JSON.stringify(body) });
      expect((await send({ 'Content-Type': 'application/json' })).status).toBe(401);
      const res = await send(headers);
      expect(res.status).toBe(200);
      const answer = (await res.json()) as Record<string, unknown>;
      // First call: the clock starts, no data is judged yet.
      expect(answer).toMatchObject({ decision: 'continue', abort: false, promote: false, buckets: 0 });
      expect(metric.successCondition).toBe('result.abort == false');
      expect(metric.failureCondition).toBe('result.abort == true');
      expect(typeof answer.abort).toBe('boolean');
    });
  });
});

type Phase = 'Successful' | 'Failed' | 'Inconclusive' | 'Running';

/**
 * Argo Rollouts' verdict on one metric (analysis/analysis.go assessMetricStatus and utils/evaluate EvaluateResult,
 * v1.8), for the subset the suture templates use: conditions of the form `result.<field> == <bool>`, failureLimit,
 * inconclusiveLimit, consecutiveSuccessLimit, count. Any other condition throws, so a template change that
 * this model does not cover fails the test instead of passing unexamined.
 */
function argoMetricPhase(metric: IMetric, answers: Iterable<Record<string, unknown>>): { phase: Phase; n: number } {
  const condition = (expr: string | undefined) => {
    if (expr === undefined) return undefined;
    const m = expr.match(/^result\.(\w+) == (true|false)$/);
    if (!m) throw new Error(`condition not modelled: ${expr}`);
    return (r: Record<string, unknown>) => r[m[1]!] === (m[2] === 'true');
  };
  const success = condition(metric.successCondition);
  const failure = condition(metric.failureCondition);
  const int = (v: unknown, dflt: number) => (v === undefined ? dflt : Number(v));
  let failed = 0;
  let inconclusive = 0;
  let consecutive = 0;
  let n = 0;
  for (const r of answers) {
    n++;
    let ok = success ? success(r) : false;
    let bad = failure ? failure(r) : false;
    if (success && !failure) bad = !ok;
    if (!success && failure) ok = !bad;
    // A failed or inconclusive measurement resets the run of successes, as Argo's ConsecutiveSuccess does.
    if (bad) failed++;
    else if (!ok) inconclusive++;
    consecutive = ok && !bad ? consecutive + 1 : 0;
    const failureLimit = int(metric.failureLimit, 0);
    if (failureLimit >= 0 && failed > failureLimit) return { phase: 'Failed', n };
    if (inconclusive > int(metric.inconclusiveLimit, 0)) return { phase: 'Inconclusive', n };
    const limit = int(metric.consecutiveSuccessLimit, 0);
    if (limit > 0 && consecutive >= limit) return { phase: 'Successful', n };
    // Count reached without the success limit: Inconclusive when a failureLimit also applies, else Failed.
    if (metric.count !== undefined && n >= int(metric.count, 0))
      return { phase: limit > 0 && failureLimit < 0 ? 'Failed' : limit > 0 ? 'Inconclusive' : 'Successful', n };
  }
  return { phase: 'Running', n };
}

/** /judge's answers to a measurement every 30 s, for one generated stream (30 s buckets, as the template asks). */
function* answersFor(spec: StreamSpec): Generator<Record<string, unknown>> {
  const judge = createSequentialJudge();
  for (const b of generate({ ...spec, bucketSeconds: 30 })) {
    const d = judge.observe(b);
    yield { ...d, abort: d.decision === 'abort', promote: d.decision === 'promote' };
  }
}

describe('promotion inside Argo: the suture-judge-promote analysis step (consecutiveSuccessLimit)', () => {
  const tol = { absolute: DEFAULT_JUDGE_OPTIONS.toleranceAbsolute, relative: DEFAULT_JUDGE_OPTIONS.toleranceRelative };
  const [promote] = validateArgoManifests(rendered('argo-rollouts/analysis-web-judge-promote.yaml'));
  const [background] = validateArgoManifests(rendered('argo-rollouts/analysis-web-judge.yaml'));
  const metricOf = (t: typeof promote) => (t!.doc.spec as { metrics: IMetric[] }).metrics[0]!;
  const metric = metricOf(promote);
  const stream = (kind: 'healthy' | 'gross', canaryRps: number, seed: number) => {
    const s = drawSpec(kind, seed, tol, 3600);
    s.totalRps = canaryRps / s.weight;
    return s;
  };

  it('uses Argo Rollouts >= 1.8 fields, validated by the 2.x schema, and asks /judge exactly as suture-judge does', () => {
    expect(metric.consecutiveSuccessLimit).toBe(1);
    expect(metric.failureLimit).toBe(0);
    expect(metric.successCondition).toBe('result.promote == true');
    expect(metric.failureCondition).toBe('result.abort == true');
    expect(metric.provider).toEqual(metricOf(background).provider);
    expect(metric.interval).toBe(metricOf(background).interval);
    // Without consecutiveSuccessLimit (Argo < 1.8 ignores it) the step ends at count, which Argo calls Successful
    // unless a limit was crossed: undecided answers must cross inconclusiveLimit first, never pass.
    const undecided = Array.from({ length: 40 }, () => ({ decision: 'continue', abort: false, promote: false }));
    expect(argoMetricPhase({ ...metric, consecutiveSuccessLimit: 0 }, undecided).phase).toBe('Inconclusive');
    expect(argoMetricPhase(metric, undecided).phase).toBe('Inconclusive');
    const bad = rendered('argo-rollouts/analysis-web-judge-promote.yaml').replace(
      'consecutiveSuccessLimit: 1',
      'consecutiveSuccessLimit: [1]',
    );
    expect(() => validateArgoManifests(bad)).toThrow(/consecutiveSuccessLimit/);
  });

  it('a healthy canary at usual traffic: the step succeeds once the judge promotes, and the Rollout moves on', () => {
    for (let seed = 1; seed <= 5; seed++) {
      expect(argoMetricPhase(metric, answersFor(stream('healthy', 5, seed))).phase).toBe('Successful');
    }
  });

  it('a gross regression fails the step (the run fails, Argo aborts), at 5 and at 0.2 canary requests/s', () => {
    for (const rps of [5, 0.2]) {
      for (let seed = 1; seed <= 5; seed++) {
        expect(argoMetricPhase(metric, answersFor(stream('gross', rps, seed))).phase).toBe('Failed');
      }
    }
  });

  it('too little traffic to decide: Inconclusive after inconclusiveLimit measurements (Argo pauses), never Successful', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const { phase, n } = argoMetricPhase(metric, answersFor(stream('healthy', 0.01, seed)));
      expect(phase).toBe('Inconclusive');
      expect(n).toBe(Number(metric.inconclusiveLimit) + 1);
    }
  });
});

describe('manifest validation rejects what Argo would reject', () => {
  it('a Rollout with a non-integer setWeight', () => {
    const bad = rendered('argo-rollouts/rollout.yaml').replace('setWeight: 10', 'setWeight: ten');
    expect(() => validateArgoManifests(bad, 'rollout.yaml')).toThrow(/setWeight must be integer/);
    expect(() => parseRolloutPlan(bad)).toThrow(/not a valid Rollout/);
  });

  it('an Application without a destination', () => {
    const bad = rendered('argo-cd/application.yaml').replace(/ {2}destination:\n(?: {4}.*\n)+/, '');
    expect(() => validateArgoManifests(bad)).toThrow(/destination/);
  });

  it('an AnalysisTemplate metric without a provider, unknown kinds, other apiVersions, bad YAML, unrendered values', () => {
    const noProvider =
      'apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: x}\nspec:\n  metrics:\n    - name: m\n';
    expect(() => validateArgoManifests(noProvider)).toThrow(/provider/);
    expect(() =>
      validateArgoManifests('apiVersion: argoproj.io/v1alpha1\nkind: Widget\nmetadata: {name: x}\n'),
    ).toThrow(/not an Argo/);
    expect(() => validateArgoManifests('apiVersion: apps/v1\nkind: Deployment\n')).toThrow(/apiVersion apps\/v1/);
    expect(() => validateArgoManifests('kind: [unclosed')).toThrow(/invalid YAML/);
    expect(() => validateArgoManifests('')).toThrow(/no documents/);
    expect(() =>
      validateArgoManifests('apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nspec: {metrics: []}\n'),
    ).toThrow(/metadata.name/);
    expect(() => renderPipelineTemplate(read('argo-cd/application.yaml'), { SERVICE: 'x' })).toThrow(
      /needs values for NAMESPACE, REPO_URL/,
    );
  });

  it('Rollout steps: durations, one action per step, canary required', () => {
    const ro = (steps: unknown[]) => ({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: { name: 'r' },
      spec: { strategy: { canary: { steps } } },
    });
    expect(
      parseRolloutPlan(
        ro([{ pause: { duration: '1m30s' } }, { pause: { duration: 45 } }, { pause: { duration: '500ms' } }]),
      ).steps,
    ).toEqual([
      { kind: 'pause', seconds: 90 },
      { kind: 'pause', seconds: 45 },
      { kind: 'pause', seconds: 0.5 },
    ]);
    expect(parseRolloutPlan(ro([{ setCanaryScale: { replicas: 1 } }])).steps).toEqual([
      { kind: 'unsupported', name: 'setCanaryScale' },
    ]);
    expect(() => parseRolloutPlan(ro([{ pause: { duration: 'soon' } }]))).toThrow(/not a pause duration/);
    expect(() => parseRolloutPlan(ro([{ setWeight: 10, pause: {} }]))).toThrow(/exactly one action/);
    expect(() => parseRolloutPlan(ro([{ setWeight: 120 }]))).toThrow(/not 0–100/);
    expect(() =>
      parseRolloutPlan({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', metadata: { name: 'r' }, spec: {} }),
    ).toThrow(/canary is required/);
    expect(() => parseRolloutPlan('kind: Service\n')).toThrow(/no document of kind Rollout/);
  });
});
