/**
 * A simulated GitHub Actions runner for the action's entry point: the environment a runner sets for a step
 * (GITHUB_* variables, RUNNER_TEMP, the file-command files, the event payload file, INPUT_* for inputs), and
 * a reader for GITHUB_OUTPUT that parses it as the runner does.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/repo.ts';

export interface SimulatedRunner {
  dir: string;
  env: Record<string, string>;
  /** The outputs the runner would read from GITHUB_OUTPUT. */
  outputs: () => Record<string, string>;
  summary: () => string;
  /** The delimiters the output blocks used, in order. */
  delimiters: () => string[];
}

export function simulatedRunner(opts: {
  event?: { name: string; payload: unknown };
  inputs?: Record<string, string>;
  workspace?: string;
}): SimulatedRunner {
  const dir = tempDir('suture-runner-');
  const temp = join(dir, '_temp');
  mkdirSync(temp);
  const output = join(temp, 'set_output');
  const summary = join(temp, 'step_summary');
  const eventPath = join(dir, 'event.json');
  writeFileSync(output, '');
  writeFileSync(summary, '# earlier step\n\n');
  writeFileSync(eventPath, JSON.stringify(opts.event?.payload ?? {}));
  const env: Record<string, string> = {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: opts.workspace ?? dir,
    GITHUB_EVENT_NAME: opts.event?.name ?? 'workflow_dispatch',
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_OUTPUT: output,
    GITHUB_STEP_SUMMARY: summary,
    GITHUB_REPOSITORY: 'acme/pricing-api',
    GITHUB_RUN_ID: '4242',
    RUNNER_TEMP: temp,
  };
  for (const [k, v] of Object.entries(opts.inputs ?? {})) env[`INPUT_${k.toUpperCase()}`] = v;
  return {
    dir,
    env,
    outputs: () => parseOutputFile(readFileSync(output, 'utf8')),
    summary: () => readFileSync(summary, 'utf8'),
    delimiters: () => [...readFileSync(output, 'utf8').matchAll(/^[A-Za-z0-9_-]+<<(.+)$/gm)].map((m) => m[1]!),
  };
}

/** GITHUB_OUTPUT as the runner reads it: `name=value` lines and `name<<DELIM` … `DELIM` blocks. */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line) continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delim] = heredoc;
      const body: string[] = [];
      i++;
      while (i < lines.length && lines[i] !== delim) body.push(lines[i++]!);
      if (i >= lines.length) throw new Error(`unterminated output ${name}`);
      out[name!] = body.join('\n');
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 1) throw new Error(`not an output line: ${line}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}
