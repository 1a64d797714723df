/**
 * `suture deliver revert --incident ID` (DESIGN.md CLI contract) and `suture deliver bump`: the GitOps
 * config repository's image bump for an incident, and its exact revert (src/gitops/config-repo). Where the
 * config repository and each service's file and key are comes from the operator's config (--gitops FILE or
 * SUTURE_GITOPS_CONFIG), never from an application repository. A refused revert (the value was changed since
 * by someone else) is a conclusion: status `refused` and the reason on one line, exit 0 like every status.
 */
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { InputError } from '../errors.ts';
import { bumpImage, revertBump } from '../gitops/config-repo/index.ts';
import { loadOperatorConfig } from '../gitops/config-repo/operator.ts';
import { defaultStateDir } from '../pipeline/audit.ts';
import { stderrProgress } from '../pipeline/progress.ts';
import { emit } from './output.ts';

interface Common {
  incident: string;
  gitops?: string;
  state?: string;
  json?: boolean;
}

const common = (cmd: Command) =>
  cmd
    .requiredOption('--incident <id>', 'the incident id (as in the heal result, e.g. 0123456789ab-20261120020411)')
    .option('--gitops <file>', "the operator's GitOps config (default $SUTURE_GITOPS_CONFIG)")
    .option('--state <dir>', 'state dir holding the journal (default $SUTURE_STATE or ~/.local/state/suture)')
    .option('--json', 'print the result as one JSON document');

export function registerDeliverCommands(program: Command): void {
  const deliver = program
    .command('deliver')
    .description("the GitOps config repository: an incident's image bump and its revert");

  common(
    deliver
      .command('revert')
      .description('revert exactly the image bump made for an incident (a new commit restoring the previous value)')
      .option('--service <name>', 'which service, when the incident bumped several'),
  ).action(async (o: Common & { service?: string }) => {
    const config = loadOperatorConfig(o.gitops ? resolve(o.gitops) : undefined);
    const r = await revertBump({
      stateDir: resolve(o.state ?? defaultStateDir()),
      config,
      incident: o.incident,
      ...(o.service ? { service: o.service } : {}),
      progress: stderrProgress(),
    });
    emit(o.json, r, () => [
      r.status === 'reverted'
        ? `reverted: ${r.file} ${r.key} ${r.from} -> ${r.to} (${r.commit.slice(0, 12)}, undoing ${r.reverts.slice(0, 12)})`
        : r.status === 'already-reverted'
          ? `already-reverted: ${r.reverts.slice(0, 12)} was reverted by ${r.by.slice(0, 12)}`
          : `refused: ${r.reason}`,
    ]);
  });

  common(
    deliver
      .command('bump')
      .description("set a service's image in the GitOps config repository for an incident's merged fix")
      .requiredOption('--service <name>', 'the service (as the GitOps config names it)')
      .addOption(new Option('--tag <tag>', 'the new image tag').conflicts('digest'))
      .addOption(new Option('--digest <digest>', 'the new image digest (sha256:…)'))
      .option('--target <name>', "which of the service's targets in the GitOps config")
      .option('--fingerprint <fp>', "the incident's fingerprint (a trailer of the commit)"),
  ).action(
    async (o: Common & { service: string; tag?: string; digest?: string; target?: string; fingerprint?: string }) => {
      if (!o.tag && !o.digest) throw new InputError('give the new image as --tag or --digest');
      const config = loadOperatorConfig(o.gitops ? resolve(o.gitops) : undefined);
      const r = await bumpImage({
        stateDir: resolve(o.state ?? defaultStateDir()),
        config,
        service: o.service,
        image: o.tag ? { tag: o.tag } : { digest: o.digest! },
        incident: o.incident,
        ...(o.target ? { target: o.target } : {}),
        ...(o.fingerprint ? { fingerprint: o.fingerprint } : {}),
        progress: stderrProgress(),
      });
      emit(o.json, r, () => [
        `${r.status}: ${r.file} ${r.key} ${r.previous} -> ${r.value}${r.commit ? ` (${r.commit.slice(0, 12)})` : ''}`,
      ]);
    },
  );
}
