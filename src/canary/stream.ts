/**
 * Canary streams on disk (DESIGN.md): one JSON bucket per line,
 * `{"t": 17, "stable": {"requests": 41, "errors": 0}, "canary": {"requests": 5, "errors": 1}}`.
 * Read line by line (readline) so a stream of any length costs constant memory; every line is validated,
 * also after the judge has decided, and the first bad one is reported as `FILE:LINE: problem`.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { InputError } from '../errors.ts';
import {
  type Bucket,
  bucketProblem,
  createSequentialJudge,
  type JudgeDecision,
  type JudgeOptions,
} from './judge/index.ts';

/** One judged stream, as `suture canary judge` prints it. */
export interface StreamVerdict {
  file: string;
  decision: JudgeDecision['decision'];
  at: number;
  reason: string;
}

/** Parses one line into a bucket, or throws a one-line problem (no file:line; the caller adds it). */
export function parseBucketLine(text: string, prevT: number | null): Bucket {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputError(`not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InputError('expected a JSON object {t, stable, canary}');
  }
  const b = raw as Bucket;
  for (const key of ['t', 'stable', 'canary'] as const) {
    if (!(key in b)) throw new InputError(`missing "${key}"`);
  }
  const problem = bucketProblem(b, prevT);
  if (problem) throw new InputError(problem);
  for (const side of ['stable', 'canary'] as const) {
    for (const k of ['requests', 'errors'] as const) {
      if (!Number.isInteger(b[side][k])) throw new InputError(`${side}.${k} must be a whole count (got ${b[side][k]})`);
    }
  }
  return { t: b.t, stable: { ...b.stable }, canary: { ...b.canary } };
}

/** Judges one stream from `input` (a file's contents, or stdin); `file` names it in messages and the verdict. */
export async function judgeStream(
  file: string,
  input: Readable,
  opts: Partial<JudgeOptions> = {},
): Promise<StreamVerdict> {
  const judge = createSequentialJudge(opts);
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  let last: JudgeDecision | null = null;
  try {
    for await (const text of lines) {
      lineNo++;
      if (text.trim() === '') continue;
      try {
        last = judge.observe(parseBucketLine(text, judge.state.lastT));
      } catch (err) {
        if (err instanceof InputError) throw new InputError(`${file}:${lineNo}: ${err.message}`);
        throw err;
      }
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    lines.close();
    input.destroy();
  }
  if (!last) return { file, decision: 'continue', at: 0, reason: 'no buckets in the stream' };
  return { file, ...last };
}

export async function judgeFile(file: string, opts: Partial<JudgeOptions> = {}): Promise<StreamVerdict> {
  return judgeStream(file, file === '-' ? process.stdin : createReadStream(file), opts);
}

/** The `.jsonl` files directly inside `dir`, sorted by name. */
export async function streamFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw new InputError(`${dir} is not a directory`);
    names = await readdir(dir);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot read directory ${dir}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const files = names.filter((n) => n.endsWith('.jsonl')).sort();
  if (files.length === 0) throw new InputError(`${dir} holds no .jsonl streams`);
  return files.map((n) => join(dir, n));
}
