import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
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
  it('reads the differential block: a capture file, a sample cap and an ignore list, with defaults', () => {
    const plain = loadServiceConfig(dirWith({ 'suture.yaml': 'service: a\nlanguage: python\n' }));
    expect(plain.differential).toEqual({ maxSamples: 20, ignore: [] });
    const c = loadServiceConfig(
      dirWith({
        'suture.yaml':
          'service: a\nlanguage: python\ndifferential:\n  samples: captures/traffic.har\n  maxSamples: 5\n  ignore: ["$.meta.generatedAt"]\n',
      }),
    );
    expect(c.differential).toEqual({ samples: 'captures/traffic.har', maxSamples: 5, ignore: ['$.meta.generatedAt'] });
  });
  it('reads the llm setting: an opt-out or a model name, nothing that reaches the endpoint or the key', () => {
    const off = loadServiceConfig(dirWith({ 'suture.yaml': 'service: a\nlanguage: python\nllm: false\n' }));
    expect(off.llm).toBe(false);
    const model = loadServiceConfig(dirWith({ 'suture.yaml': 'service: a\nlanguage: python\nllm: {model: m2}\n' }));
    expect(model.llm).toEqual({ model: 'm2' });
    expect(loadServiceConfig(dirWith({ 'suture.yaml': 'service: a\nlanguage: python\n' })).llm).toBeUndefined();
    for (const key of ['baseUrl: https://attacker.example/v1', 'apiKey: x', 'minConfidence: 0']) {
      const dir = dirWith({ 'suture.yaml': `service: a\nlanguage: python\nllm:\n  ${key}\n` });
      expect(() => loadServiceConfig(dir)).toThrow(/llm/);
    }
  });
  it('reads repair.revertWindowHours; anything else under repair is refused', () => {
    const c = loadServiceConfig(
      dirWith({ 'suture.yaml': 'service: a\nlanguage: python\nrepair: {revertWindowHours: 24}\n' }),
    );
    expect(c.repair).toEqual({ revertWindowHours: 24 });
    const bad = dirWith({ 'suture.yaml': 'service: a\nlanguage: python\nrepair: {revertWindowHours: -1}\n' });
    expect(() => loadServiceConfig(bad)).toThrow(/repair.revertWindowHours/);
  });
  it.each([
    ['an absolute capture path', 'samples: /etc/passwd', /differential.samples: samples must be a path inside/],
    ['a capture path leaving the repo', 'samples: ../other/traffic.har', /differential.samples/],
    ['a capture path with a line break', 'samples: "a\\nb.har"', /differential.samples/],
    ['too many samples', 'maxSamples: 51', /differential.maxSamples/],
    ['an unknown differential key', 'sample: x.har', /differential/],
    ['an ignore entry that is not a string', 'ignore: [{a: 1}]', /differential.ignore/],
  ])('differential with %s → one-line BAD_CONFIG', (_n, line, message) => {
    const dir = dirWith({ 'suture.yaml': `service: a\nlanguage: node\ndifferential:\n  ${line}\n` });
    expect(() => loadServiceConfig(dir)).toThrow(message);
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

describe('suture.yaml is repo content: read confined to the tree', () => {
  const secret = () => {
    const d = tempDir();
    writeFileSync(join(d, 'host.yaml'), 'service: host-secret-value\nlanguage: python\n');
    return join(d, 'host.yaml');
  };
  const refused = (dir: string, message: RegExp) => {
    let thrown: unknown;
    try {
      loadServiceConfig(dir);
    } catch (err) {
      thrown = err;
    }
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toContain('host-secret-value');
    expect((thrown as { exitCode: number }).exitCode).toBe(2);
  };

  it('a symlinked suture.yaml is refused, not followed', () => {
    const d = dirWith({});
    symlinkSync(secret(), join(d, 'suture.yaml'));
    refused(d, /suture.yaml cannot be read: suture.yaml is a symbolic link/);
  });

  it('a FIFO or an oversized suture.yaml is refused without blocking', () => {
    const d = dirWith({});
    execFileSync('mkfifo', [join(d, 'suture.yaml')]);
    refused(d, /not a regular file/);
    const big = dirWith({ 'suture.yaml': `service: a\nlanguage: python\n#${'x'.repeat(2 * 1024 * 1024)}\n` });
    refused(big, /larger than/);
  });

  it('language detection ignores symlinked manifests', () => {
    const d = dirWith({ 'suture.yaml': 'service: a\n' });
    symlinkSync('/dev/zero', join(d, 'requirements.txt'));
    symlinkSync('/etc/hostname', join(d, 'package.json'));
    refused(d, /language is missing/);
  });
});
