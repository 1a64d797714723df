/** Every command prints through one redacting funnel: a secret in a result never reaches stdout. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { emit, printJson, printLines } from '../../src/commands/output.ts';

const TOKEN = `ghp_${'a1B2c3D4e5'.repeat(4)}`;

function captured(run: () => void): string {
  const writes: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    writes.push(String(chunk));
    return true;
  });
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return writes.join('');
}

afterEach(() => vi.restoreAllMocks());

describe('stdout funnel', () => {
  it('redacts JSON documents value by value, keeping their shape', () => {
    const out = captured(() =>
      printJson({ violations: [{ id: 'x', message: `found ${TOKEN}`, password: 'hunter2' }] }),
    );
    expect(out).not.toContain(TOKEN);
    expect(out).not.toContain('hunter2');
    expect(JSON.parse(out).violations[0].id).toBe('x');
  });

  it('redacts text lines and keeps each one a single line', () => {
    const out = captured(() => printLines([`reason: bad token ${TOKEN}\nforged: line`, 'second']));
    expect(out).not.toContain(TOKEN);
    expect(out.split('\n')).toHaveLength(3);
    expect(out.endsWith('second\n')).toBe(true);
  });

  it('emit chooses JSON or text', () => {
    expect(JSON.parse(captured(() => emit(true, { a: 1 }, () => ['x'])))).toEqual({ a: 1 });
    expect(captured(() => emit(false, { a: 1 }, () => ['x']))).toBe('x\n');
  });
});
