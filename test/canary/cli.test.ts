/**
 * `suture canary judge` through commander, in process: output shape, --batch ordering, and the one-line
 * file:line errors (exit 2 via InputError) with nothing printed on stdout.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerCanaryCommands } from '../../src/commands/canary.ts';
import { InputError } from '../../src/errors.ts';

let dir: string;
let out: string[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'suture-canary-cli-'));
  out = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

async function judge(...args: string[]): Promise<void> {
  const program = new Command('suture').exitOverride();
  registerCanaryCommands(program);
  await program.parseAsync(['canary', 'judge', ...args], { from: 'user' });
}

const line = (t: number, s: [number, number], c: [number, number]) =>
  JSON.stringify({ t, stable: { requests: s[0], errors: s[1] }, canary: { requests: c[0], errors: c[1] } });

function write(name: string, lines: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const failing = Array.from({ length: 20 }, (_, i) => line(5 * (i + 1), [100, 1], [20, 10]));
const healthy = Array.from({ length: 200 }, (_, i) => line(5 * (i + 1), [200, 2], [50, i % 2]));

describe('suture canary judge', () => {
  it('prints one JSON line {file, decision, at, reason} for --input', async () => {
    const file = write('bad-fix.jsonl', failing);
    await judge('--input', file, '--json');
    expect(out).toHaveLength(1);
    const v = JSON.parse(out[0]!);
    expect(Object.keys(v)).toEqual(['file', 'decision', 'at', 'reason']);
    expect(v).toMatchObject({ file, decision: 'abort' });
    expect(v.at).toBeLessThanOrEqual(15);
  });

  it('judges every .jsonl in a --batch directory, in name order, ignoring other files', async () => {
    write('b-healthy.jsonl', healthy);
    write('a-failing.jsonl', failing);
    write('notes.txt', ['not a stream']);
    await judge('--batch', dir, '--json');
    const verdicts = out.map((o) => JSON.parse(o));
    expect(verdicts.map((v) => [v.file, v.decision])).toEqual([
      [join(dir, 'a-failing.jsonl'), 'abort'],
      [join(dir, 'b-healthy.jsonl'), 'promote'],
    ]);
  });

  it('prints a readable line without --json and tolerates blank lines', async () => {
    const file = write('s.jsonl', ['', ...failing.slice(0, 5), '  ']);
    await judge('--input', file);
    expect(out.join('')).toMatch(/s\.jsonl: abort at t=\d+ s \(canary .* regression beyond tolerance/);
  });

  it('reports an empty stream as continue', async () => {
    const file = write('empty.jsonl', []);
    await judge('--input', file, '--json');
    expect(JSON.parse(out[0]!)).toMatchObject({ decision: 'continue', at: 0 });
  });

  it.each([
    ['invalid JSON', '{"t": 10, "stable":', /:2: not valid JSON/],
    ['a non-object', '[1, 2]', /:2: expected a JSON object/],
    ['a missing key', JSON.stringify({ t: 10, stable: { requests: 1, errors: 0 } }), /:2: missing "canary"/],
    ['errors above requests', line(10, [5, 6], [1, 0]), /:2: stable.errors \(6\) exceeds stable.requests \(5\)/],
    ['a fractional count', line(10, [5, 1], [2.5, 0]), /:2: canary.requests must be a whole count/],
    ['a negative count', line(10, [5, 1], [-2, 0]), /:2: canary.requests must be a number ≥ 0/],
    ['time going backwards', line(5, [5, 1], [2, 0]), /:2: t must increase: 5 after 5/],
    ['a string t', JSON.stringify({ t: '10', stable: {}, canary: {} }), /:2: t must be a number ≥ 0/],
  ])('rejects %s with one line naming file:line, and prints no verdicts', async (_name, bad, message) => {
    write('a-ok.jsonl', failing);
    const file = write('b-bad.jsonl', [line(5, [5, 0], [1, 0]), bad, line(100, [5, 0], [1, 0])]);
    const err = await judge('--batch', dir, '--json').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).exitCode).toBe(2);
    expect((err as Error).message.startsWith(`${file}:2: `)).toBe(true);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
    expect(out).toEqual([]);
  });

  it('validates lines after the decision too', async () => {
    const file = write('late.jsonl', [...failing, '{oops']);
    await expect(judge('--input', file)).rejects.toThrow(
      new RegExp(`late\\.jsonl:${failing.length + 1}: not valid JSON`),
    );
  });

  it.each([
    [[], /exactly one of --input FILE or --batch DIR/],
    [['--input', 'x.jsonl', '--batch', '.'], /exactly one of --input FILE or --batch DIR/],
    [['--input', '/nonexistent/s.jsonl'], /cannot read \/nonexistent\/s\.jsonl: ENOENT/],
    [['--batch', '/nonexistent'], /cannot read directory \/nonexistent/],
  ])('usage and missing input are bad input: %j', async (args, message) => {
    const err = await judge(...args).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(message);
  });

  it('rejects a --batch directory without streams', async () => {
    write('readme.txt', ['x']);
    await expect(judge('--batch', dir)).rejects.toThrow(/holds no \.jsonl streams/);
  });
});
