/**
 * action.yml and the workflow templates in pipelines/github/ parse, carry the keys GitHub requires, and
 * agree with the entry point: the inputs action.yml declares and passes are the ones src/action reads, the
 * outputs it declares are the ones src/action writes, and nothing installs suture with `npm ci`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { INPUT_NAMES, OUTPUT_NAMES } from '../../src/action/run.ts';
import { renderPipelineTemplate, templatePlaceholders } from '../../src/canary/argo/manifests.ts';
import { ROOT } from '../helpers/repo.ts';

const DIR = join(ROOT, 'pipelines', 'github');
const FILES = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));
const VALUES: Record<string, string> = {
  SERVICE: 'cart-api',
  NAMESPACE: 'shop',
  PROMETHEUS_URL: 'http://prometheus.monitoring.svc:9090',
  POLICY_DIR: '.suture/policies',
  SUTURE_REPO: 'example/suture',
  SUTURE_REF: 'v0.1.0',
};

type Step = {
  uses?: string;
  run?: string;
  shell?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
};
type Workflow = {
  name?: string;
  on: Record<string, unknown>;
  jobs: Record<string, { 'runs-on': unknown; steps: Step[] }>;
};

/** A GitHub expression as it appears in the YAML: `${{ expr }}`. */
const gh = (expr: string) => `$${'{{'} ${expr} }}`;

const workflow = (file: string) =>
  parse(renderPipelineTemplate(readFileSync(join(DIR, file), 'utf8'), VALUES)) as Workflow;

/** An action reference GitHub accepts: owner/repo[/path]@ref, ./local, or docker://image. */
const USES = /^([A-Za-z0-9-]+\/[A-Za-z0-9._-]+(\/[^@\s]+)?@[^\s@]+|\.\/\S+|docker:\/\/\S+)$/;

describe('workflow templates (pipelines/github)', () => {
  it('are the three the README names', () => {
    expect(FILES.sort()).toEqual(['suture-canary-watch.yaml', 'suture-heal.yaml', 'suture-policy-build.yaml']);
  });

  it.each(FILES)('%s documents exactly the placeholders it uses', (file) => {
    const text = readFileSync(join(DIR, file), 'utf8');
    const header = text.match(/# Placeholders: (.*(?:\n#\s+\$\{.*)*)/)?.[1] ?? '';
    expect(templatePlaceholders(header)).toEqual(templatePlaceholders(text));
  });

  it.each(FILES)('%s has what GitHub requires: on, jobs, runs-on, steps that each use or run', (file) => {
    const wf = workflow(file);
    expect(wf.name).toEqual(expect.any(String));
    expect(Object.keys(wf.on ?? {}).length).toBeGreaterThan(0);
    const jobs = Object.entries(wf.jobs ?? {});
    expect(jobs.length).toBeGreaterThan(0);
    for (const [id, job] of jobs) {
      expect(id).toMatch(/^[A-Za-z_][A-Za-z0-9_-]*$/);
      expect(job['runs-on'], `${file} ${id}`).toEqual(expect.any(String));
      expect(job.steps.length).toBeGreaterThan(0);
      for (const step of job.steps) {
        expect(Number(step.uses !== undefined) + Number(step.run !== undefined), JSON.stringify(step)).toBe(1);
        if (step.uses) expect(step.uses).toMatch(USES);
      }
    }
    // rendered: no placeholder left, GitHub's own expressions kept
    expect(JSON.stringify(wf)).not.toMatch(/\$\{[A-Z]/);
  });

  it.each(FILES)('%s never installs with npm ci (suture’s lock fails its sync check off this platform)', (file) => {
    const runs = workflow(file)
      .jobs[Object.keys(workflow(file).jobs)[0]!]!.steps.map((s) => s.run ?? '')
      .join('\n');
    expect(runs).not.toMatch(/\bnpm ci\b/);
  });

  it('the heal workflow: dispatched as suture-incident, runs the action, the mode not taken from the sender', () => {
    const wf = workflow('suture-heal.yaml');
    expect(wf.on.repository_dispatch).toEqual({ types: ['suture-incident'] });
    expect(wf.on).toHaveProperty('workflow_dispatch');
    const step = wf.jobs.heal!.steps.find((s) => s.uses === 'example/suture@v0.1.0')!;
    expect(step.with).toEqual({ incident: gh('inputs.incident'), mode: gh("inputs.mode || 'propose'") });
    expect(JSON.stringify(wf)).not.toContain('client_payload.mode');
    // fetch-depth 0: evidence reads the history (blame, recent commits)
    expect(wf.jobs.heal!.steps[0]).toEqual({ uses: 'actions/checkout@v4', with: { 'fetch-depth': 0 } });
  });

  it('the canary-watch workflow runs suture canary watch; the policy workflow tests and builds the Rego', () => {
    const watch = workflow('suture-canary-watch.yaml')
      .jobs.watch!.steps.map((s) => s.run ?? '')
      .join('\n');
    expect(watch).toMatch(/src\/main\.ts canary watch cart-api -n shop\s+\\\s+--prometheus http:\/\/prometheus/);
    const build = workflow('suture-policy-build.yaml').jobs.build!.steps;
    const runs = build.map((s) => s.run ?? '').join('\n');
    expect(runs).toContain('policy test --src .suture/policies');
    expect(runs).toContain('policy build --src .suture/policies --out');
    // the opa that compiles is the version suture pins for its own bundle
    const pinned = /github\.com\/open-policy-agent\/opa v(\S+)/.exec(
      readFileSync(join(ROOT, 'policies', 'tools', 'go.mod'), 'utf8'),
    )![1];
    expect(build.find((s) => s.uses?.startsWith('open-policy-agent/setup-opa@'))?.with).toEqual({ version: pinned });
  });
});

describe('action.yml', () => {
  const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as {
    name: string;
    description: string;
    inputs: Record<string, { description: string; default?: string }>;
    outputs: Record<string, { description: string; value: string }>;
    runs: { using: string; steps: (Step & { id?: string })[] };
  };

  it('is a composite action whose run steps name their shell', () => {
    expect(action.name).toEqual(expect.any(String));
    expect(action.description).toEqual(expect.any(String));
    expect(action.runs.using).toBe('composite');
    for (const s of action.runs.steps) {
      if (s.run !== undefined) expect(s.shell, s.run).toBe('bash');
      else expect(s.uses).toMatch(USES);
    }
  });

  it('declares the inputs the entry point reads, and passes each as INPUT_<NAME>', () => {
    const heal = action.runs.steps.find((s) => s.id === 'heal')!;
    expect(heal.run).toBe('node "$GITHUB_ACTION_PATH/src/action/main.ts"');
    expect(existsSync(join(ROOT, 'src', 'action', 'main.ts'))).toBe(true);
    for (const name of INPUT_NAMES) {
      expect(action.inputs[name]?.description, name).toEqual(expect.any(String));
      expect(heal.env?.[`INPUT_${name.toUpperCase()}`]).toBe(gh(`inputs.${name}`));
    }
    // the rest are the action's own: the token and where the image's base comes from
    expect(Object.keys(action.inputs).filter((k) => !(INPUT_NAMES as readonly string[]).includes(k))).toEqual([
      'token',
      'image-source',
    ]);
    expect(heal.env?.GITHUB_TOKEN).toBe(gh('inputs.token'));
    expect(heal.env?.SUTURE_PROVIDER).toBe('github');
  });

  it('declares exactly the outputs the entry point writes, each from the heal step', () => {
    expect(Object.keys(action.outputs)).toEqual([...OUTPUT_NAMES]);
    for (const [name, o] of Object.entries(action.outputs)) expect(o.value).toBe(gh(`steps.heal.outputs.${name}`));
  });

  it('installs runtime dependencies in its own checkout without npm ci, and builds the image with the script', () => {
    const runs = action.runs.steps.map((s) => s.run ?? '');
    expect(runs).toContain('npm install --omit=dev --no-save --no-audit --no-fund --loglevel=error');
    expect(runs.join('\n')).not.toMatch(/\bnpm ci\b/);
    const image = action.runs.steps.find((s) => s.run?.includes('sandbox/build-image.sh'))!;
    expect(image.env).toEqual({ SUTURE_IMAGE_SOURCE: gh('inputs.image-source') });
  });
});
