/**
 * The operator's GitOps config: which repository Argo CD deploys from, and for each service, the file and
 * the key that hold its image. Read from the file SUTURE_GITOPS_CONFIG names (or --gitops), never from the
 * application repository:
 *
 *   repository:
 *     url: https://git.example.com/platform/deploy.git   # any git URL, or a path (relative to this file)
 *     branch: main
 *   services:
 *     cart-api:
 *       file: apps/cart-api/overlays/production/kustomization.yaml
 *       kustomize: { image: registry.example.com/cart-api }   # images[] entry: newTag, or digest
 *     pricing-api:
 *       file: charts/pricing-api/values-production.yaml
 *       helm: { tag: image.tag, digest: image.digest }       # dotted keys (digest optional)
 *     orders-api:                                           # several targets: suture.yaml may pick one by name
 *       - name: production
 *         file: apps/orders-api/rollout.yaml
 *         manifest: { container: orders-api }               # that container's image, in every workload
 *
 * Why the operator and not suture.yaml: suture pushes to the config repository with the operator's
 * credentials, and that repository deploys every service. suture.yaml lives in the repository under repair,
 * which the security model treats as untrusted (anyone who can commit to it, and what they commit); if it
 * could name the URL, the file or the key, it could point suture's credentials at another repository, or
 * make an incident of one service rewrite another service's image or any YAML value Argo CD applies. So the
 * operator names all three, per service; suture.yaml may only choose among the targets the operator listed
 * for its own service, by name.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SutureError } from '../../errors.ts';
import { isValidRefName } from '../refs.ts';
import { parseRemoteAddress } from '../remote.ts';
import { treePathProblem } from '../tree.ts';
import type { ImageRef, Locator } from './edit.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const KEY = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

const Target = z
  .object({
    name: z.string().regex(NAME).optional(),
    file: z.string().min(1).max(1000),
    kustomize: z
      .object({ image: z.string().min(1).max(300) })
      .strict()
      .optional(),
    helm: z
      .object({ tag: z.string().regex(KEY).optional(), digest: z.string().regex(KEY).optional() })
      .strict()
      .optional(),
    manifest: z
      .object({ container: z.string().regex(NAME) })
      .strict()
      .optional(),
  })
  .strict()
  .refine((t) => [t.kustomize, t.helm, t.manifest].filter(Boolean).length === 1, {
    message: 'needs exactly one of kustomize, helm, manifest',
  })
  .refine((t) => treePathProblem(t.file) === null, { message: 'file must be a path inside the repository' });

const Config = z
  .object({
    repository: z
      .object({
        url: z.string().min(1).max(2000),
        branch: z
          .string()
          .refine((b) => isValidRefName(`refs/heads/${b}`), { message: 'is not a branch name' })
          .default('main'),
      })
      .strict(),
    services: z.record(z.string().regex(NAME), z.union([Target, z.array(Target).min(1)])),
  })
  .strict();

export type GitopsTarget = z.infer<typeof Target>;

export interface OperatorConfig {
  /** The repository's URL (a local path made absolute), and the branch Argo CD follows. */
  url: string;
  branch: string;
  services: Map<string, GitopsTarget[]>;
}

const bad = (msg: string) => new SutureError('BAD_CONFIG', msg);

/** Parses and checks the operator's config text; `base` resolves a relative local path. */
export function parseOperatorConfig(text: string, base: string, source = 'the GitOps config'): OperatorConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw bad(`${source} is not YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const r = Config.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw bad(`${source}: ${issue.path.join('.') || '(top level)'} ${issue.message}`);
  }
  const address = parseRemoteAddress(r.data.repository.url);
  if (address.kind === 'refused') throw bad(`${source}: repository.url is not used: ${address.reason}`);
  const url = address.kind === 'local' ? resolve(base, address.path) : r.data.repository.url;
  const services = new Map(Object.entries(r.data.services).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
  return { url, branch: r.data.repository.branch, services };
}

/** The operator's config from `path`, else SUTURE_GITOPS_CONFIG; a clear one line when there is none. */
export function loadOperatorConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const file = path ?? env.SUTURE_GITOPS_CONFIG;
  if (!file) throw bad("no GitOps config: set SUTURE_GITOPS_CONFIG (or --gitops) to the operator's config file");
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw bad(
      `cannot read the GitOps config ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return parseOperatorConfig(text, dirname(resolve(file)), file);
}

/** The operator's target for `service` (by name when given, as suture.yaml may choose), or a clear error. */
export function targetFor(config: OperatorConfig, service: string, name?: string): GitopsTarget {
  const targets = config.services.get(service);
  if (!targets) throw bad(`the GitOps config names no target for service ${service}`);
  if (name !== undefined) {
    const t = targets.find((x) => x.name === name);
    if (!t) throw bad(`the GitOps config has no target ${name} for service ${service}`);
    return t;
  }
  if (targets.length > 1) throw bad(`the GitOps config has ${targets.length} targets for ${service}: name one`);
  return targets[0]!;
}

/** Where in the target's file the value for `ref` (a tag or a digest) lives. */
export function locatorFor(t: GitopsTarget, ref: ImageRef | 'tag' | 'digest'): Locator {
  const kind = typeof ref === 'string' ? ref : 'tag' in ref ? 'tag' : 'digest';
  if (t.kustomize) return { kind: 'kustomize', image: t.kustomize.image, field: kind === 'tag' ? 'newTag' : 'digest' };
  if (t.manifest) return { kind: 'manifest', container: t.manifest.container };
  const key = t.helm?.[kind];
  if (!key) throw bad(`the GitOps target ${t.file} has no helm.${kind} key`);
  return { kind: 'helm', key };
}
