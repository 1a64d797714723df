/** suture serve's JSON-lines log: pino, one line per call, everything through the redactor. */
import { describe, expect, it } from 'vitest';
import { jsonLogger } from '../../src/serve/log.ts';

describe('jsonLogger', () => {
  const capture = () => {
    const lines: string[] = [];
    return { lines, log: jsonLogger({ write: (l) => void lines.push(l), now: () => 1_700_000_000_000 }) };
  };

  it('writes one JSON object per line as pino does: level, time, the bound and given fields, msg', () => {
    const { lines, log } = capture();
    log.child({ incident: 'abc123def456' }).child({ mode: 'auto' }).warn('heal stopped', { status: 'stopped' });
    expect(lines).toEqual([
      '{"level":"warn","time":1700000000000,"incident":"abc123def456","mode":"auto","status":"stopped","msg":"heal stopped"}\n',
    ]);
  });

  it('a token quoted by an incident reaches no line: not in the message, a field, a nested value or a binding', () => {
    const { lines, log } = capture();
    const token = `ghp_${'Zx9Yw8Vu7T'.repeat(4)}`;
    const heal = log.child({ incident: 'abc123def456', alert: { annotations: { logs: `auth ${token}` } } });
    heal.info(`incident abc: KeyError while calling with ${token}`);
    heal.error('heal failed', { detail: { stderr: [`Authorization: Bearer ${token}`] } });
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      expect(l).not.toContain(token);
      expect(l).not.toContain(token.slice(4, 24));
      expect(JSON.parse(l)).toMatchObject({ incident: 'abc123def456' });
    }
    expect(lines.join('')).toContain('[REDACTED');
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
