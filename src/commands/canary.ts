/** `suture canary …` (DESIGN.md CLI contract). `judge` replays recorded canary streams through the judge. */
import type { Command } from 'commander';
import { judgeFile, type StreamVerdict, streamFiles } from '../canary/stream.ts';
import { InputError } from '../errors.ts';
import { registerCanaryWatchCommand } from './canary-watch.ts';
import { printJson, printLines } from './output.ts';

/** Registers the `canary` group and returns it, so other canary subcommands can join the same group. */
export function registerCanaryCommands(program: Command): Command {
  const canary = program.command('canary').description('canary analysis: judge error-rate streams, drive rollouts');
  canary
    .command('judge')
    .description('judge canary streams (JSON lines, one bucket per line): abort, promote or continue')
    .option('--input <file>', 'one stream (.jsonl; "-" for stdin)')
    .option('--batch <dir>', 'every .jsonl stream in a directory')
    .option('--json', 'print one JSON line per stream: {file, decision, at, reason}')
    .action(async (o: { input?: string; batch?: string; json?: boolean }) => {
      if (Boolean(o.input) === Boolean(o.batch))
        throw new InputError('give exactly one of --input FILE or --batch DIR');
      const files = o.input ? [o.input] : await streamFiles(o.batch!);
      // Verdicts are printed only once every stream has validated, so a bad line yields exit 2 and no partial output.
      const verdicts: StreamVerdict[] = [];
      for (const file of files) verdicts.push(await judgeFile(file));
      for (const v of verdicts) {
        if (o.json) printJson(v);
        else printLines([`${v.file}: ${v.decision} at t=${v.at} s (${v.reason})`]);
      }
    });
  registerCanaryWatchCommand(canary);
  return canary;
}
