/** `suture heal` and `suture verify` (DESIGN.md CLI contract). */
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { defaultStateDir } from '../pipeline/audit.ts';
import { heal, type Mode } from '../pipeline/heal.ts';
import { stderrProgress } from '../pipeline/progress.ts';
import { verifyPatch } from '../pipeline/verify.ts';
import { emit } from './output.ts';

export function registerHealCommands(program: Command): void {
  program
    .command('heal')
    .description('heal one incident: diagnose, verify a fix in the sandbox, gate it, leave it on a branch')
    .requiredOption('--repo <dir>', 'the application repo (a git repository; its working tree is never touched)')
    .requiredOption('--incident <file>', 'crash report or Alertmanager v4 payload (JSON)')
    .addOption(
      new Option('--mode <mode>', "observe | propose | auto, capped by suture.yaml's autonomy (absent: observe)")
        .choices(['observe', 'propose', 'auto'])
        .default('propose'),
    )
    .option('--config <file>', 'suture.yaml to use instead of the one at the repo root')
    .option(
      '--state <dir>',
      'state dir for the audit log, journal and knowledge (default $SUTURE_STATE or ~/.local/state/suture)',
    )
    .option('--no-push', 'do not push the branch to origin')
    .option('--json', 'print the result as one JSON document on stdout')
    .action(
      async (o: {
        repo: string;
        incident: string;
        mode: Mode;
        config?: string;
        state?: string;
        push: boolean;
        json?: boolean;
      }) => {
        const result = await heal({
          repo: resolve(o.repo),
          incidentFile: resolve(o.incident),
          mode: o.mode,
          ...(o.config ? { configFile: resolve(o.config) } : {}),
          stateDir: resolve(o.state ?? defaultStateDir()),
          push: o.push,
          progress: stderrProgress(),
        });
        emit(o.json, result, () => [
          `${result.status}: ${result.reason}`,
          ...(result.branch
            ? [`branch: ${result.branch}${result.commit ? ` (${result.commit.slice(0, 12)})` : ''}`]
            : []),
          ...(result.report ? [`report: ${result.report}`] : []),
        ]);
      },
    );

  program
    .command('verify')
    .description('verify one patch in the sandbox: reproduce, fixed, differential replay, tests, regression test')
    .requiredOption('--repo <dir>', "the application repo (the base is the incident's revision, else HEAD)")
    .requiredOption('--incident <file>', 'crash report or Alertmanager v4 payload (JSON)')
    .requiredOption('--patch <file>', 'the patch to verify (unified diff, as git diff prints it)')
    .option('--config <file>', 'suture.yaml to use instead of the one at the repo root')
    .option('--json', 'print the verdict as one JSON document on stdout')
    .action(async (o: { repo: string; incident: string; patch: string; config?: string; json?: boolean }) => {
      const v = await verifyPatch({
        repo: resolve(o.repo),
        incidentFile: resolve(o.incident),
        patchFile: resolve(o.patch),
        ...(o.config ? { configFile: resolve(o.config) } : {}),
        progress: stderrProgress(),
      });
      emit(o.json, v, () => [
        `verdict: ${v.verdict} (reproduced ${v.reproduced}, fixed ${v.fixed}, tests ${v.testsPassed ? 'pass' : 'fail'})`,
        ...v.reasons.map((r) => `- ${r}`),
      ]);
    });
}
