import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, loadServiceConfig } from '../src/config/service.ts';
import { tempDir } from './helpers/repo.ts';

function dirWith(files: Record<string, string>): string {
  const d = tempDir();
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(d, name, '..'), { recursive: true });
    writeFileSync(join(d, name), text);
  }
  return d;
}

describe('suture.yaml', () => {
  it('fills defaults and detects the language', () => {
    const c = loadServiceConfig(
      dirWith({ 'suture.yaml': 'service: cart-api\nstart: node s.js\n', 'package.json': '{}' }),
    );
    expect(c).toMatchObject({
      service: 'cart-api',
      language: 'node',
      test: 'node --test',
      port: 8080,
      health: '/healthz',
    });
    expect(c.limits).toEqual(DEFAULT_LIMITS);
  });
  it('merges limits', () => {
    const c = loadServiceConfig(
      dirWith({ 'suture.yaml': 'service: a\nlanguage: python\nlimits:\n  memory: 1g\n  pids: 64\n' }),
    );
    expect(c.limits).toMatchObject({ memory: '1g', pids: 64, cpus: DEFAULT_LIMITS.cpus });
  });
  it.each([
    ['missing', {}, /suture.yaml not found/],
    ['not YAML', { 'suture.yaml': 'service: [unclosed\n' }, /not valid YAML/],
    ['a list', { 'suture.yaml': '- a\n' }, /must be a mapping/],
    ['no service', { 'suture.yaml': 'language: python\n' }, /service/],
    ['bad port', { 'suture.yaml': 'service: a\nlanguage: python\nport: 70000\n' }, /port/],
    ['unknown key', { 'suture.yaml': 'service: a\nlanguage: python\nstrat: x\n' }, /strat|Unrecognized/i],
    ['bad language', { 'suture.yaml': 'service: a\nlanguage: cobol\n' }, /language/],
    ['undetectable language', { 'suture.yaml': 'service: a\n' }, /language is missing/],
    ['bad limit', { 'suture.yaml': 'service: a\nlanguage: node\nlimits:\n  memory: lots\n' }, /limits.memory/],
  ])('%s → one-line BAD_CONFIG', (_n, files, message) => {
    try {
      loadServiceConfig(dirWith(files as Record<string, string>));
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toContain('\n');
      expect((err as { exitCode: number }).exitCode).toBe(2);
    }
  });
});
