/** suture serve's JSON-lines log: pino's shape, one line per call, everything through the redactor. */
import { describe, expect, it } from 'vitest';
import { jsonLogger } from '../../src/serve/log.ts';

describe('jsonLogger', () => {
  const capture = () => {
    const lines: string[] = [];
    return { lines, log: jsonLogger({ write: (l) => void lines.push(l), now: () => 1_700_000_000_000 }) };
  };

  it('writes one JSON object per line: level, time, msg, then the bound and given fields', () => {
    const { lines, log } = capture();
    log.child({ incident: 'abc123def456' }).child({ mode: 'auto' }).warn('heal stopped', { status: 'stopped' });
    expect(lines).toEqual([
      '{"level":"warn","time":1700000000000,"msg":"heal stopped","incident":"abc123def456","mode":"auto","status":"stopped"}\n',
    ]);
  });

  it('keeps a message on one line and redacts it, and masks fields by their key', () => {
    const { lines, log } = capture();
    log.info('crash\n{"level":"error","msg":"forged"} password=hunter2-Secret-1', {
      token: 'not-a-shape-anyone-knows',
      note: `ghp_${'A1b2C3d4E5'.repeat(4)}`,
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.split('\n')).toEqual([expect.any(String), '']);
    const entry = JSON.parse(lines[0]!);
    expect(entry.msg).toBe('crash {"level":"error","msg":"forged"} password=[REDACTED:secret]');
    expect(entry.token).toMatch(/^\[REDACTED/);
    expect(entry.note).toMatch(/^\[REDACTED/);
  });

  it('fields cannot replace level, time or msg', () => {
    const { lines, log } = capture();
    log.child({ level: 'debug' }).error('boom', { time: 0, msg: 'other' });
    expect(JSON.parse(lines[0]!)).toEqual({ level: 'error', time: 1_700_000_000_000, msg: 'boom' });
  });
});
