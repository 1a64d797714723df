/**
 * The policy config (.suture/policy.yaml, documented in policies/README.md): thresholds and path globs that
 * tune the default policies without editing Rego. It is read from the *base* revision, so a change cannot
 * loosen the gate that judges it; an explicit file (--config) wins.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { InputError, SutureError } from '../errors.ts';
import { gitShow } from './git.ts';
import { installHostNetworkLevels } from './types.ts';

export const CONFIG_PATH_IN_REPO = '.suture/policy.yaml';

const globs = z.array(z.string().min(1)).default([]);

export const policyConfigSchema = z
  .object({
    thresholds: z
      .object({
        maxSourceLines: z.number().int().min(0).default(40),
        minConfidence: z.number().min(0).max(1).default(0.5),
      })
      .strict()
      .default({ maxSourceLines: 40, minConfidence: 0.5 }),
    paths: z
      .object({
        source: z.array(z.string().min(1)).min(1).default(['**']),
        tests: globs,
        manifests: globs,
        workflows: globs,
        policies: globs,
        dependencies: globs,
        protected: globs,
      })
      .strict()
      .default({
        source: ['**'],
        tests: [],
        manifests: [],
        workflows: [],
        policies: [],
        dependencies: [],
        protected: [],
      }),
    images: z.object({ allowedRegistries: globs }).strict().default({ allowedRegistries: [] }),
    secrets: z
      .object({
        entropyThreshold: z.number().min(0).max(8).default(4),
        allow: globs,
      })
      .strict()
      .default({ entropyThreshold: 4, allow: [] }),
    sandbox: z
      .object({
        // Where the sandbox could only run install in the host's network namespace (no bridge network).
        installHostNetwork: z.enum(installHostNetworkLevels).default('review'),
      })
      .strict()
      .default({ installHostNetwork: 'review' }),
  })
  .strict();

export type PolicyConfig = z.infer<typeof policyConfigSchema>;

export function defaultPolicyConfig(): PolicyConfig {
  return policyConfigSchema.parse({});
}

/** Parses config text; a `policy:` section (as in a suture.yaml) is accepted as well as a bare document. */
export function parsePolicyConfig(text: string, source: string): PolicyConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new SutureError('BAD_CONFIG', `${source}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  if (doc === null || doc === undefined) return defaultPolicyConfig();
  if (typeof doc === 'object' && !Array.isArray(doc) && 'policy' in doc) doc = (doc as { policy: unknown }).policy;
  const parsed = policyConfigSchema.safeParse(doc ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : '(top level)';
    throw new SutureError('BAD_CONFIG', `${source}: ${where}: ${issue.message}`);
  }
  return parsed.data;
}

export async function loadPolicyConfig(opts: {
  repoDir: string;
  base: string;
  configPath?: string;
}): Promise<PolicyConfig> {
  if (opts.configPath) {
    let text: string;
    try {
      text = await readFile(opts.configPath, 'utf8');
    } catch {
      throw new InputError(`policy config ${opts.configPath} cannot be read`);
    }
    return parsePolicyConfig(text, opts.configPath);
  }
  const text = await gitShow(opts.repoDir, opts.base, CONFIG_PATH_IN_REPO);
  return text === null ? defaultPolicyConfig() : parsePolicyConfig(text, `${CONFIG_PATH_IN_REPO}@${opts.base}`);
}
