/**
 * The pipelines/ templates: placeholder rendering (`${NAME}`, upper-case names only, so GitHub's `${{ … }}` and
 * Argo's `{{args.x}}` pass through untouched) and validation of Argo manifests against the Argo Rollouts and
 * Argo CD schemas (@kubernetes-models: the model is built from the parsed YAML and .validate() run).
 */

import { Application } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application';
import { ApplicationSet } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/ApplicationSet';
import { AppProject } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject';
import { AnalysisRun } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisRun';
import { AnalysisTemplate } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisTemplate';
import { ClusterAnalysisTemplate } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/ClusterAnalysisTemplate';
import { Experiment } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Experiment';
import { Rollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout';
import { parseAllDocuments } from 'yaml';
import { InputError } from '../../errors.ts';

const PLACEHOLDER = /\$\{([A-Z][A-Z0-9_]*)\}/g;

/** Names of the `${NAME}` placeholders in a template, sorted, each once. */
export function templatePlaceholders(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]!))].sort();
}

/** Replaces every `${NAME}`; a placeholder without a value is an error (no half-rendered manifests). */
export function renderPipelineTemplate(text: string, values: Record<string, string>): string {
  const missing = templatePlaceholders(text).filter((n) => values[n] === undefined);
  if (missing.length > 0) throw new InputError(`template needs values for ${missing.join(', ')}`);
  return text.replace(PLACEHOLDER, (_, name: string) => values[name]!);
}

// biome-ignore lint/suspicious/noExplicitAny: each model takes its own data type; the schema check is the point.
type ModelClass = new (data: any) => { validate(): void };

const MODELS: Record<string, ModelClass> = {
  Rollout,
  AnalysisTemplate,
  ClusterAnalysisTemplate,
  AnalysisRun,
  Experiment,
  Application,
  AppProject,
  ApplicationSet,
};

export interface ValidatedManifest {
  kind: string;
  name: string;
  /** The parsed document. */
  doc: Record<string, unknown>;
}

/** Parses every YAML document and validates it against its Argo schema; throws InputError on the first problem. */
export function validateArgoManifests(text: string, origin = 'manifest'): ValidatedManifest[] {
  const out: ValidatedManifest[] = [];
  for (const [i, d] of parseAllDocuments(text).entries()) {
    const where = `${origin} document ${i + 1}`;
    if (d.errors.length > 0) throw new InputError(`${where}: invalid YAML: ${d.errors[0]!.message.split('\n')[0]}`);
    const doc = d.toJS() as unknown;
    if (doc === null || doc === undefined) continue;
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new InputError(`${where}: not a Kubernetes object`);
    const o = doc as Record<string, unknown>;
    if (o.apiVersion !== 'argoproj.io/v1alpha1') {
      throw new InputError(`${where}: apiVersion ${String(o.apiVersion)} is not argoproj.io/v1alpha1`);
    }
    const Model = MODELS[String(o.kind)];
    if (!Model) throw new InputError(`${where}: kind ${String(o.kind)} is not an Argo Rollouts or Argo CD kind`);
    try {
      new Model(o).validate();
    } catch (err) {
      throw new InputError(`${where} (${String(o.kind)}): ${(err as Error).message}`, { cause: err });
    }
    const meta = (o.metadata ?? {}) as { name?: string };
    if (!meta.name) throw new InputError(`${where} (${String(o.kind)}): metadata.name is required`);
    out.push({ kind: String(o.kind), name: meta.name, doc: o });
  }
  if (out.length === 0) throw new InputError(`${origin}: no documents`);
  return out;
}
