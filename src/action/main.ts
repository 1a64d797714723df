#!/usr/bin/env node
/**
 * The GitHub Action's entry point (action.yml: `node "$GITHUB_ACTION_PATH/src/action/main.ts"`, Node 24
 * runs the TypeScript as is, so the action needs no build step). The heal runs as `suture heal --json` in a
 * child process: its progress lines go straight to the job log, its result to a file (a pipe loses what it
 * had no room for when the child exits). Bad input: one `::error::` line and exit 2.
 */
import { spawn } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, unlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { errorMessage, SutureError } from '../errors.ts';
import { safeLine } from '../incident/display.ts';
import { siblingModule } from '../serve/modules.ts';
import { type HealRequest, type HealRun, runAction } from './run.ts';
import { annotation } from './runner.ts';

const CLI = fileURLToPath(siblingModule(import.meta.url, '../main'));

export function healInChild(req: HealRequest): Promise<HealRun> {
  const args = [CLI, 'heal', '--repo', req.repo, '--incident', req.incidentFile, '--mode', req.mode];
  args.push('--state', req.state, '--json', ...(req.config ? ['--config', req.config] : []));
  const resultFile = `${req.incidentFile}.out`;
  const fd = openSync(
    resultFile,
    constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
    0o600,
  );
  const child = spawn(process.execPath, args, { stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
  let lastLine = '';
  let partial = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    process.stderr.write(c);
    const lines = (partial + c).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) if (l.trim()) lastLine = l;
  });
  return new Promise((resolve) => {
    child.on('error', (err) =>
      resolve({ exitCode: 1, result: null, lastLine: `could not start the heal: ${err.message}` }),
    );
    child.on('close', (code) => {
      let result: unknown = null;
      try {
        result = JSON.parse(readFileSync(resultFile, 'utf8'));
      } catch {
        // no result: the exit code and last line say why
      }
      try {
        unlinkSync(resultFile);
      } catch {
        // already gone
      }
      resolve({ exitCode: code ?? 1, result, lastLine: safeLine(partial.trim() || lastLine, 1000) });
    });
  });
}

async function main(): Promise<number> {
  try {
    return await runAction(process.env, {
      heal: healInChild,
      stdout: (t) => void process.stdout.write(t),
      log: (l) => void process.stderr.write(`${l}\n`),
    });
  } catch (err) {
    // One line, redacted; never a stack trace.
    process.stdout.write(annotation('error', `suture: ${safeLine(errorMessage(err), 2000)}`));
    return err instanceof SutureError ? err.exitCode : 1;
  }
}

process.exitCode = await main();
