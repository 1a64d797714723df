import { describe, expect, it } from 'vitest';
import {
  confidenceStop,
  DEFAULT_GUARDRAILS,
  decideGuardrails,
  deliveryMode,
  type GuardrailInput,
  guardrailLimits,
} from '../../src/pipeline/guardrails.ts';

const NOW = new Date('2026-11-27T12:00:00Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();
const input = (over: Partial<GuardrailInput> = {}): GuardrailInput => ({
  requested: 'auto',
  autonomy: 'auto',
  killSwitch: { flag: false, file: false },
  history: [],
  autoMergesLastHour: 0,
  limits: DEFAULT_GUARDRAILS,
  now: NOW,
  ...over,
});

describe('decideGuardrails', () => {
  it('lets an opted-in repository run the mode asked for, and says nothing', () => {
    const { report, stop } = decideGuardrails(input());
    expect(stop).toBeNull();
    expect(report).toMatchObject({ requested: 'auto', mode: 'auto', applied: [] });
  });

  it('observe mode until suture.yaml opts in, whatever the operator asked for', () => {
    for (const requested of ['propose', 'auto'] as const) {
      const { report } = decideGuardrails(input({ requested, autonomy: undefined }));
      expect(report.mode).toBe('observe');
      expect(report.applied.join()).toMatch(/until suture\.yaml opts in/);
    }
  });

  it('autonomy caps the mode and never raises it', () => {
    expect(decideGuardrails(input({ autonomy: 'propose' })).report.mode).toBe('propose');
    expect(decideGuardrails(input({ requested: 'propose', autonomy: 'auto' })).report.mode).toBe('propose');
    expect(decideGuardrails(input({ requested: 'observe', autonomy: 'auto' })).report.mode).toBe('observe');
  });

  it('the kill switch (flag or file) forces observe mode', () => {
    for (const killSwitch of [
      { flag: true, file: false },
      { flag: false, file: true },
    ]) {
      const { report, stop } = decideGuardrails(input({ killSwitch }));
      expect(stop).toBeNull();
      expect(report.mode).toBe('observe');
      expect(report.applied.join()).toMatch(/kill switch/);
    }
  });

  it('escalates after maxAttempts failed heals in a row, counting only the streak since the last success', () => {
    const failed = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ status: 'no-fix', recordedAt: minutesAgo(600 + i) }));
    expect(decideGuardrails(input({ history: failed(3) })).stop).toMatchObject({
      status: 'escalated',
      reason: expect.stringMatching(/3 failed heals in a row/),
    });
    expect(decideGuardrails(input({ history: failed(2) })).stop).toBeNull();
    // A success in between resets the count.
    const mixed = [...failed(2), { status: 'proposed', recordedAt: minutesAgo(700) }, ...failed(5)];
    expect(decideGuardrails(input({ history: mixed })).stop).toBeNull();
    for (const status of ['rejected', 'aborted']) {
      const h = [0, 1, 2].map((i) => ({ status, recordedAt: minutesAgo(600 + i) }));
      expect(decideGuardrails(input({ history: h })).stop?.status).toBe('escalated');
    }
  });

  it('waits out the cool-down after a failed heal, and only after a failed one', () => {
    const recent = [{ status: 'aborted', recordedAt: minutesAgo(5) }];
    expect(decideGuardrails(input({ history: recent })).stop?.reason).toMatch(/cool-down .* until 2026-11-27T12:10:00/);
    expect(decideGuardrails(input({ history: [{ status: 'aborted', recordedAt: minutesAgo(16) }] })).stop).toBeNull();
    expect(decideGuardrails(input({ history: [{ status: 'proposed', recordedAt: minutesAgo(1) }] })).stop).toBeNull();
  });

  it('proposes instead of merging once the hourly budget of autonomous merges is spent', () => {
    const spent = decideGuardrails(input({ autoMergesLastHour: 3 }));
    expect(spent.report.mode).toBe('propose');
    expect(spent.report.applied.join()).toMatch(/3 autonomous merges in the last hour/);
    expect(decideGuardrails(input({ autoMergesLastHour: 2 })).report.mode).toBe('auto');
  });
});

describe('confidence', () => {
  it('escalates a diagnosis below the floor and proposes a fix below the merge threshold', () => {
    expect(confidenceStop(0.2, DEFAULT_GUARDRAILS)?.status).toBe('escalated');
    expect(confidenceStop(0.3, DEFAULT_GUARDRAILS)).toBeNull();
    expect(deliveryMode('auto', 0.55, DEFAULT_GUARDRAILS)).toMatchObject({ mode: 'propose' });
    expect(deliveryMode('auto', 0.6, DEFAULT_GUARDRAILS)).toEqual({ mode: 'auto' });
    expect(deliveryMode('propose', 0.1, DEFAULT_GUARDRAILS)).toEqual({ mode: 'propose' });
  });
});

describe('guardrailLimits', () => {
  it('reads the operator limits from the environment and lets suture.yaml only tighten them', () => {
    const env = { SUTURE_MAX_ATTEMPTS: '5', SUTURE_COOLDOWN_MINUTES: '10', SUTURE_MAX_AUTO_MERGES_PER_HOUR: '1' };
    expect(guardrailLimits(env)).toMatchObject({ maxAttempts: 5, cooldownMinutes: 10, maxAutoMergesPerHour: 1 });
    const tightened = guardrailLimits(env, { maxAttempts: 2, cooldownMinutes: 60, minConfidence: 0.8 });
    expect(tightened).toMatchObject({ maxAttempts: 2, cooldownMinutes: 60, minConfidence: 0.8 });
    const loosened = guardrailLimits(env, { maxAttempts: 50, cooldownMinutes: 0, minConfidence: 0 });
    expect(loosened).toMatchObject({
      maxAttempts: 5,
      cooldownMinutes: 10,
      minConfidence: DEFAULT_GUARDRAILS.minConfidence,
    });
  });

  it('refuses a malformed operator value in one line', () => {
    expect(() => guardrailLimits({ SUTURE_MAX_ATTEMPTS: 'three' })).toThrow(
      /SUTURE_MAX_ATTEMPTS must be a whole number/,
    );
    expect(() => guardrailLimits({ SUTURE_COOLDOWN_MINUTES: '-1' })).toThrow(/SUTURE_COOLDOWN_MINUTES/);
  });
});
