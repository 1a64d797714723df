/**
 * `suture policy …` (DESIGN.md CLI contract): `check` judges a revision range with the compiled bundle,
 * `build` compiles the Rego sources to that bundle, `test` runs the Rego unit tests.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InputError, SutureError } from '../errors.ts';
import { checkChange } from '../policy/check.ts';
import { git, resolveCommit } from '../policy/git.ts';
import { buildBundle, opaVersion, pinnedOpaVersion, testPolicies } from '../policy/opa.ts';
import { packagedBundlePath, policiesDir } from '../policy/paths.ts';
import { type PolicyDecision, type VerdictLike, verdictFileSchema } from '../policy/types.ts';
import { printJson, printLines } from './output.ts';

async function readVerdict(file: string): Promise<VerdictLike> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new InputError(`--verdict ${file}: ${err instanceof SyntaxError ? 'not valid JSON' : 'cannot be read'}`);
  }
  const parsed = verdictFileSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`--verdict ${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return parsed.data;
}

async function requireRepo(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) throw new InputError(`--repo ${dir} is not a directory`);
  await git(dir, ['rev-parse', '--git-dir']).catch(() => {
    throw new SutureError('NOT_A_REPO', `--repo ${dir} is not a git repository`);
  });
}

export function formatDecision(d: PolicyDecision): string {
  const lines = [`decision: ${d.decision}`];
  if (d.violations.length === 0) lines.push('no violations: a verified source fix inside the source paths');
  for (const v of d.violations) {
    lines.push(`  ${(v.level ?? 'deny').padEnd(6)}  ${v.id}${v.path ? `  (${v.path})` : ''}`, `          ${v.message}`);
  }
  return lines.join('\n') + '\n';
}

export function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('the policy gate: Rego no-go zones compiled to WebAssembly');

  policy
    .command('check')
    .description('judge the change BASE..HEAD of a repository: allow, review or deny')
    .requiredOption('--repo <dir>', 'the git repository')
    .requiredOption('--base <rev>', 'the revision before the change')
    .requiredOption('--head <rev>', 'the revision with the change')
    .option('--bundle <file>', 'compiled policy bundle (default: the bundled policies/dist/bundle.tar.gz)')
    .option(
      '--verdict <file>',
      'sandbox verdict JSON (suture verify --json); without it, verification is assumed passed',
    )
    .option('--config <file>', 'policy config (default: .suture/policy.yaml at BASE)')
    .option('--json', 'print {decision, violations} as JSON')
    .action(
      async (o: {
        repo: string;
        base: string;
        head: string;
        bundle?: string;
        verdict?: string;
        config?: string;
        json?: boolean;
      }) => {
        await requireRepo(o.repo);
        for (const [flag, rev] of [
          ['--base', o.base],
          ['--head', o.head],
        ] as const) {
          if ((await resolveCommit(o.repo, rev)) === null)
            throw new InputError(`${flag} ${rev} is not a commit in ${o.repo}`);
        }
        const verdict = o.verdict ? await readVerdict(o.verdict) : undefined;
        const decision = await checkChange({
          repoDir: o.repo,
          base: o.base,
          head: o.head,
          bundlePath: o.bundle,
          configPath: o.config,
          context: verdict ? { verdict } : {},
        });
        if (o.json) printJson(decision);
        else printLines(formatDecision(decision).replace(/\n$/, '').split('\n'));
      },
    );

  policy
    .command('build')
    .description('compile the Rego policies to a WASM bundle (opa build -t wasm, entrypoint suture/decision)')
    .option('--src <dir>', 'directory of .rego sources', join(policiesDir(), 'suture'))
    .option('--out <file>', 'bundle to write', packagedBundlePath())
    .action(async (o: { src: string; out: string }) => {
      const [have, pinned] = await Promise.all([opaVersion(), pinnedOpaVersion()]);
      // Another opa version compiles different bytes, which the stale-bundle check then rejects.
      if (have !== pinned) process.stderr.write(`suture: warning: opa ${have} is not the pinned ${pinned}\n`);
      await buildBundle({ srcDir: o.src, out: o.out });
      process.stderr.write(`suture: built ${o.out}\n`);
    });

  policy
    .command('test')
    .description('run the Rego unit tests (opa test)')
    .option('--src <dir>', 'directory of .rego sources', join(policiesDir(), 'suture'))
    .option('--tests <dir>', 'directory of Rego tests', join(policiesDir(), 'test'))
    .option('-v, --verbose', 'list every test')
    .action(async (o: { src: string; tests: string; verbose?: boolean }) => {
      const run = await testPolicies({ srcDir: o.src, testDir: o.tests, verbose: o.verbose });
      process.stdout.write(run.stdout);
      if (!run.ok) {
        process.stderr.write(run.stderr);
        throw new SutureError('POLICY', 'policy tests failed (see the opa test output above)');
      }
    });
}
