/** The demo's pure parts: the alert rule and configs, the traffic mix, the step lines, the scripted model's choice. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alertRules, imageOfValues, operatorConfig, valuesFile } from '../../src/demo/configs.ts';
import { loadScript, scriptedAnswer } from '../../src/demo/llm-server.ts';
import { auditStep, formatStep, resultStatus } from '../../src/demo/steps.ts';
import { type Mix, pick } from '../../src/demo/traffic.ts';
import { parseOperatorConfig } from '../../src/gitops/config-repo/operator.ts';
import { ROOT } from '../helpers/repo.ts';

describe('demo configs', () => {
  it('alerts per kind of crash and carries its log line as the logs annotation', () => {
    const rules = alertRules();
    expect(rules).toContain('max by (crash, log) (pricing_crash_info)');
    expect(rules).toContain("logs: '{{ $labels.log }}'");
    expect(rules).toMatch(/> 0\.02'/);
  });
  it('writes an operator config suture accepts, and reads back the image a bump writes', () => {
    const c = parseOperatorConfig(operatorConfig('/tmp/deploy.git'), '/');
    expect(c.url).toBe('/tmp/deploy.git');
    expect(c.services.get('pricing-api')?.[0]?.helm?.tag).toBe('image.tag');
    expect(imageOfValues(valuesFile('suture-demo/pricing-api', 'abc123'))).toBe('suture-demo/pricing-api:abc123');
    expect(imageOfValues(valuesFile('x', 'suture/pricing-api:fix1'))).toBe('suture/pricing-api:fix1');
    expect(imageOfValues('image: {}\n')).toBeNull();
  });
});

describe('demo traffic mix', () => {
  it('sends exactly the crash share, evenly spread', () => {
    const mix: Mix = {
      healthy: [{ method: 'GET', path: '/ok' }],
      crashing: [{ method: 'POST', path: '/crash' }],
      crashShare: 0.2,
    };
    const paths = Array.from({ length: 100 }, (_, i) => pick(mix, i).path);
    expect(paths.filter((p) => p === '/crash')).toHaveLength(20);
    expect(paths.slice(0, 5).filter((p) => p === '/crash')).toHaveLength(1);
    expect(pick({ ...mix, crashing: [] }, 4).path).toBe('/ok');
  });
});

describe('demo step lines', () => {
  it('one line with the time since start and the duration', () => {
    expect(formatStep({ at: 3.14, mark: 'ok', text: 'heal: verify', ms: 6800 })).toBe(
      '[   3.1s] ✔ heal: verify (6.8 s)',
    );
    expect(formatStep({ at: 0, mark: 'info', text: 'x', ms: 12 })).toBe('[   0.0s] · x (12 ms)');
    expect(auditStep({ stage: 'diagnose:llm:repair', outcome: 'ok', durationMs: 1 })).toBeNull();
    expect(auditStep({ stage: 'verify', outcome: 'error', durationMs: 5, detail: 'boom\nmore' })).toEqual({
      mark: 'fail',
      text: 'heal: verify: boom',
      ms: 5,
    });
    expect(resultStatus('aborted: the canary …')).toBe('aborted');
    expect(resultStatus(undefined)).toBe('unknown');
  });
});

describe('the scripted model', () => {
  const script = loadScript(join(ROOT, 'demo', 'llm', 'answers.json'));
  const repair = (prompt: string) => ({
    messages: [{ role: 'user', content: prompt }],
    response_format: { type: 'json_schema', json_schema: { name: 'suture_repair' } },
  });
  it('gives the bad fix only for the currency crash, nothing for others, and accepts in critiques', () => {
    expect(scriptedAnswer(script, repair('ValueError: no exchange rate for CHF\n...')).name).toBe('bad-fix');
    // the source quoted in every prompt mentions the message: only the trace's line selects the bad fix
    expect(scriptedAnswer(script, repair('raise ValueError(f"no exchange rate for {currency}")')).name).toBe(
      'fallback',
    );
    const critique = { messages: [], response_format: { json_schema: { name: 'suture_critique' } } };
    expect(scriptedAnswer(script, critique)).toMatchObject({ name: 'critique', answer: { verdict: 'accept' } });
  });
});
