/** The Markdown report: what a reviewer reads, with the incident's text unable to add structure. */
import { describe, expect, it } from 'vitest';
import type { Evidence } from '../../src/evidence/index.ts';
import type { Incident } from '../../src/incident/types.ts';
import type { HealResult } from '../../src/pipeline/heal.ts';
import { renderReport } from '../../src/report/markdown.ts';

const incident = {
  id: 'abc123def456-20261120020411',
  fingerprint: 'abc123def4567890',
  service: 'cart-api',
  environment: 'production',
  signal: 'crash',
  summary: 'KeyError: coupon\n# Injected heading\n| fake | table |',
  detectedAt: '2026-11-20T02:04:11Z',
  logs: '',
  requests: [],
  healthyRequests: [],
  labels: {},
} as Incident;

const result = {
  status: 'proposed',
  reason: 'verified fix c2 on suture/abc123def456',
  incident: {
    id: incident.id,
    fingerprint: incident.fingerprint,
    service: 'cart-api',
    signal: 'crash',
    summary: incident.summary,
  },
  diagnosis: {
    classification: 'code-defect',
    rootCause: "KeyError: 'coupon' in total (cart.py:12)",
    location: { file: 'cart.py', line: 12, function: 'total' },
    confidence: 0.8,
    reason: 'the crash is in the repo code',
    whatToCheck: ['whether coupon is optional in the API contract'],
    notes: [],
  },
  candidates: [],
  chosen: 'c2',
  branch: 'suture/abc123def456',
  commit: '0123456789abcdef0123',
  pullRequest: null,
  canary: null,
  report: null,
  timings: { total: 1200 },
  notes: ['llm: the LLM strategy is off: SUTURE_LLM_BASE_URL is not set'],
  ranking: [
    { id: 'c2', keys: { policy: 1, differential: 1, fit: 2, size: -1, strategy: 4, confidence: 0.9 } },
    { id: 'c1', keys: { policy: 1, differential: 1, fit: 1, size: -1, strategy: 2, confidence: 0.7 } },
  ],
} as unknown as HealResult;

const evidence: Evidence = {
  frames: [],
  excerpts: [
    {
      file: 'cart.py',
      line: 12,
      startLine: 11,
      lines: ['def total(order):', '    return order["coupon"]  # ```'],
      function: 'total',
    },
  ],
  commits: [
    {
      sha: 'f'.repeat(40),
      author: 'dev | x',
      date: '2026-11-19T10:00:00Z',
      subject: 'drop guard\n## x',
      file: 'cart.py',
      line: 12,
    },
  ],
  logs: '',
  redactions: 0,
};

describe('renderReport', () => {
  const md = renderReport(incident, result, evidence);

  it('shows where it crashed (the faulting line marked) and the commits that last touched it', () => {
    expect(md).toContain('## Where it crashed');
    expect(md).toMatch(/^ {3}12 > {5}return order\["coupon"\]/m);
    expect(md).toContain('## Recent commits on the crashing lines');
    expect(md).toContain('`ffffffffffff`');
  });

  it('fences code so a backtick run inside it cannot close the block', () => {
    expect(md).toContain('````python');
  });

  it('lists what to check, the ranking and the notes', () => {
    expect(md).toContain('- **Check** whether coupon is optional');
    expect(md).toContain('## Ranking of the verified candidates');
    expect(md).toMatch(/\| 1 \| c2 \| allow \| equal \| 2 \| -1 \| 4 \| 0\.9 \|/);
    expect(md).toContain('- llm: the LLM strategy is off');
  });

  it('keeps incident and commit text on one line: no heading or table row can be injected', () => {
    expect(md).not.toMatch(/^# Injected heading/m);
    expect(md).not.toMatch(/^## x/m);
    expect(md).not.toMatch(/^\| fake \| table \|$/m);
    expect(md).toContain('dev \\| x');
  });
});
