/**
 * The `suture` command line. Each command group lives in src/commands/<group>.ts and registers itself here.
 * Exit status (DESIGN.md): 0 when a command reached a conclusion, 2 for bad input or usage, 1 for an
 * internal failure. Errors print as one line on stderr; SUTURE_DEBUG=1 adds the stack.
 */
import { Command, CommanderError } from 'commander';
import { registerCanaryCommands } from './commands/canary.ts';
import { registerDeliverCommands } from './commands/deliver.ts';
import { registerDemoCommands } from './commands/demo.ts';
import { registerHealCommands } from './commands/heal.ts';
import { registerKnowledgeCommands } from './commands/knowledge.ts';
import { registerPolicyCommands } from './commands/policy.ts';
import { registerServeCommands } from './commands/serve.ts';
import { errorMessage, SutureError } from './errors.ts';
import { redact } from './evidence/redact.ts';
import { safeLine } from './incident/display.ts';

export function buildProgram(): Command {
  const program = new Command('suture')
    .description('Turn a production crash into a verified, policy-checked fix shipped through GitOps and a canary.')
    .version('0.1.0')
    .showSuggestionAfterError()
    .exitOverride();
  program.configureOutput({ outputError: (str, write) => write(str.trimEnd().split('\n')[0] + '\n') });
  // Command groups: one line each.
  registerHealCommands(program);
  registerDemoCommands(program);
  registerCanaryCommands(program);
  registerServeCommands(program);
  registerPolicyCommands(program);
  registerKnowledgeCommands(program);
  registerDeliverCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
}

/**
 * Prints an error as one redacted line on stderr (error messages quote inputs and exceptions) and returns
 * the exit status.
 */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // Help and version exit 0; every other commander error is a usage error (already printed).
    return err.exitCode === 0 ? 0 : 2;
  }
  const known = err instanceof SutureError;
  process.stderr.write(`suture: ${known ? '' : 'internal error: '}${safeLine(errorMessage(err), 2000)}\n`);
  if (process.env.SUTURE_DEBUG && err instanceof Error) process.stderr.write(`${redact(err.stack ?? '').text}\n`);
  return known ? err.exitCode : 1;
}
