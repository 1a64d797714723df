/**
 * `suture canary judge` as a process (src/main.ts on this Node): exit status and stream contract end to end.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const main = join(import.meta.dirname, '../../src/main.ts');
const dir = mkdtempSync(join(tmpdir(), 'suture-canary-proc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function suture(...args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const line = (t: number, s: [number, number], c: [number, number]) =>
  JSON.stringify({ t, stable: { requests: s[0], errors: s[1] }, canary: { requests: c[0], errors: c[1] } });

describe('suture canary judge (process)', () => {
  it('exits 0 with one JSON line per stream', () => {
    const file = join(dir, 'failing.jsonl');
    writeFileSync(file, [1, 2, 3, 4].map((i) => line(5 * i, [100, 1], [20, 10])).join('\n'));
    const r = suture('canary', 'judge', '--input', file, '--json');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ file, decision: 'abort' });
  });

  it('exits 2 with one stderr line naming file:line for an invalid bucket', () => {
    const file = join(dir, 'broken.jsonl');
    writeFileSync(file, `${line(5, [10, 0], [2, 0])}\n${line(10, [10, 0], [2, 3])}\n`);
    const r = suture('canary', 'judge', '--input', file, '--json');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`suture: ${file}:2: canary.errors (3) exceeds canary.requests (2)\n`);
  });
});
