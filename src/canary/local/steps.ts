/**
 * Reads the canary steps out of a service's Argo Rollouts `Rollout` manifest, so the local backend rehearses
 * exactly the spec the cluster will run. The manifest is checked against the Argo Rollouts schema first.
 */
import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Rollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout';
import { parseAllDocuments } from 'yaml';
import { InputError } from '../../errors.ts';

export type RolloutStep =
  | { kind: 'setWeight'; weight: number }
  /** `seconds: null` is an indefinite pause: Argo waits for a human; locally the judge decides. */
  | { kind: 'pause'; seconds: number | null }
  | { kind: 'analysis'; templates: string[] }
  /** experiment, setCanaryScale, header/mirror routes, plugins: no local meaning, skipped with a note. */
  | { kind: 'unsupported'; name: string };

export interface RolloutPlan {
  name: string;
  steps: RolloutStep[];
  /** Templates of the background analysis (`strategy.canary.analysis`), which runs across all steps. */
  backgroundAnalysis: string[];
}

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Argo pause durations: an integer (seconds) or a Go duration such as "30s", "1m30s", "1h". */
export function parseDuration(value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === 'string') {
    if (/^[0-9]+$/.test(value)) return Number(value);
    const parts = [...value.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)];
    if (parts.length > 0 && parts.map((p) => p[0]).join('') === value) {
      return parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_SECONDS[p[2]!]!, 0);
    }
  }
  throw new InputError(`not a pause duration: ${JSON.stringify(value)} (use e.g. 30s, 5m, 1h or seconds)`);
}

/** Parses YAML text (the first document of kind Rollout) or an already-parsed object. */
export function parseRolloutPlan(source: string | object, origin = 'rollout manifest'): RolloutPlan {
  const doc = typeof source === 'string' ? firstRollout(source, origin) : source;
  const model = new Rollout(doc as ConstructorParameters<typeof Rollout>[0]);
  if (model.kind !== 'Rollout' || model.apiVersion !== 'argoproj.io/v1alpha1') {
    throw new InputError(`${origin}: expected an argoproj.io/v1alpha1 Rollout`);
  }
  try {
    model.validate();
  } catch (err) {
    throw new InputError(`${origin}: not a valid Rollout: ${(err as Error).message}`, { cause: err });
  }
  const canary = model.spec.strategy?.canary;
  if (!canary) throw new InputError(`${origin}: spec.strategy.canary is required for a canary rollout`);
  const steps: RolloutStep[] = (canary.steps ?? []).map((s, i) => {
    const keys = Object.keys(s).filter((k) => (s as Record<string, unknown>)[k] !== undefined);
    if (keys.length !== 1)
      throw new InputError(`${origin}: step ${i} must have exactly one action, has ${keys.join(', ') || 'none'}`);
    if (s.setWeight !== undefined) {
      if (s.setWeight < 0 || s.setWeight > 100)
        throw new InputError(`${origin}: step ${i}: setWeight ${s.setWeight} is not 0–100`);
      return { kind: 'setWeight', weight: s.setWeight };
    }
    if (s.pause !== undefined) {
      return { kind: 'pause', seconds: s.pause.duration === undefined ? null : parseDuration(s.pause.duration) };
    }
    if (s.analysis !== undefined) {
      return { kind: 'analysis', templates: (s.analysis.templates ?? []).map((t) => t.templateName ?? '') };
    }
    return { kind: 'unsupported', name: keys[0]! };
  });
  const background = (canary.analysis?.templates ?? []).map((t) => t.templateName ?? '');
  return { name: model.metadata?.name ?? 'rollout', steps, backgroundAnalysis: background };
}

function firstRollout(text: string, origin: string): object {
  const docs = parseAllDocuments(text);
  for (const d of docs) {
    if (d.errors.length > 0) throw new InputError(`${origin}: invalid YAML: ${d.errors[0]!.message.split('\n')[0]}`);
  }
  const found = docs.map((d) => d.toJS() as unknown).find((o) => isObject(o) && o.kind === 'Rollout');
  if (!found) throw new InputError(`${origin}: no document of kind Rollout`);
  return found as object;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const SKIP_DIRS = new Set(['.git', 'node_modules', '.venv', 'venv', '__pycache__', 'dist', 'build']);

/**
 * Finds the service's Rollout manifest in an application repo (YAML files up to 4 levels deep, skipping
 * .git, node_modules and build output) and parses it. With several Rollouts, the one named `service` wins.
 */
export async function findRolloutPlan(repoDir: string, service?: string): Promise<RolloutPlan & { file: string }> {
  const found: Array<{ file: string; name: string; doc: object }> = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (depth === 0) throw new InputError(`cannot read ${repoDir}: ${(err as Error).message}`);
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory() && depth < 4 && !SKIP_DIRS.has(e.name)) await walk(path, depth + 1);
      else if (e.isFile() && /\.ya?ml$/.test(e.name)) {
        const text = await readFile(path, 'utf8');
        if (!/^kind:\s*Rollout\s*$/m.test(text)) continue;
        for (const d of parseAllDocuments(text)) {
          if (d.errors.length > 0) continue;
          const o = d.toJS() as unknown;
          if (isObject(o) && o.kind === 'Rollout') {
            const meta = isObject(o.metadata) ? o.metadata : {};
            found.push({ file: relative(repoDir, path), name: String(meta.name ?? ''), doc: o });
          }
        }
      }
    }
  };
  await walk(repoDir, 0);
  found.sort((a, b) => a.file.localeCompare(b.file));
  const pick = service
    ? (found.find((f) => f.name === service) ?? (found.length === 1 ? found[0] : undefined))
    : found[0];
  if (!pick) {
    const names = found.map((f) => `${f.name} (${f.file})`).join(', ');
    throw new InputError(
      found.length === 0
        ? `no Argo Rollouts Rollout manifest in ${repoDir}`
        : `no Rollout named ${service} in ${repoDir} (found ${names})`,
    );
  }
  return { ...parseRolloutPlan(pick.doc, pick.file), file: pick.file };
}
