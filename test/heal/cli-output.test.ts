/**
 * What the CLI process writes (issue 8, findings 14c and 9): stdout is complete when it is a pipe and the
 * result is bigger than the pipe's 64 KiB buffer, and an error line never carries a secret.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, cli, ROOT, tempDir } from '../helpers/repo.ts';

const dir = tempDir('suture-cli-output-');
const batch = join(dir, 'streams');
afterAll(() => cleanup(dir));

beforeAll(() => {
  mkdirSync(batch);
  const bucket = JSON.stringify({ t: 5, stable: { requests: 100, errors: 1 }, canary: { requests: 20, errors: 10 } });
  for (let i = 0; i < 1500; i++) writeFileSync(join(batch, `stream-${String(i).padStart(4, '0')}.jsonl`), bucket);
});

/** `suture canary judge --batch … --json` (one line per stream, ~260 KB in all) piped into `reader`. */
function judgeInto(reader: string) {
  return execa(
    'sh',
    [
      '-c',
      `"$0" "$1" canary judge --batch "$2" --json | ${reader}`,
      process.execPath,
      join(ROOT, 'src', 'main.ts'),
      batch,
    ],
    { reject: false },
  );
}

describe('the CLI process', () => {
  it('writes all of a >64 KiB --json result into a pipe whose reader is slow', async () => {
    // The reader starts a second late: the pipe fills and the rest must wait in the process, not be dropped.
    const r = await judgeInto('(sleep 1; cat)');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(128 * 1024);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1500);
    expect(lines.map((l) => JSON.parse(l).decision)).toEqual(Array(1500).fill('abort'));
  });

  it('exits quietly when the reader goes away early', async () => {
    const r = await judgeInto('head -c 10');
    expect(r.stdout).toHaveLength(10);
    expect(r.stderr).toBe('');
  });

  it('prints an error as one line, with secrets redacted', async () => {
    const token = 'ghp_R2d2C3poR2d2C3poR2d2C3poR2d2C3po1234';
    const r = await cli(['heal', '--repo', dir, '--incident', join(dir, `password=hunter2-${token}.json`)]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^suture: incident file not found: /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toContain(token);
    expect(r.stderr).not.toContain('hunter2');
  });
});
