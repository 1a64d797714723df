/** The HTML report's renderer and writer: escaping by default, the CSP, the chart's data, both files written. */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Incident } from '../../src/incident/types.ts';
import type { HealStatus } from '../../src/pipeline/heal.ts';
import { renderHtmlReport, timelineSteps } from '../../src/report/html.ts';
import { errorRateSeries, niceCeil, rolloutChart, rolloutOf } from '../../src/report/html-chart.ts';
import { codeText, html } from '../../src/report/html-markup.ts';
import { readRunEntries, writeReports } from '../../src/report/html-write.ts';
import { AWS_KEY, hostileReport, IMG, SCRIPT } from './html-fixture.ts';

describe('html template', () => {
  it('escapes every interpolated value, arrays included, and keeps only its own markup', () => {
    const bad = `"><script>x()</script>'`;
    const out = html`<p title="${bad}">${bad}${[bad, html`<b>${bad}</b>`]}${null}${false}${3}</p>`.value;
    expect(out).not.toContain('<script>');
    expect(out).toBe(
      '<p title="&quot;&gt;&lt;script&gt;x()&lt;/script&gt;&#39;">&quot;&gt;&lt;script&gt;x()&lt;/script&gt;&#39;'.repeat(
        1,
      ) + '&quot;&gt;&lt;script&gt;x()&lt;/script&gt;&#39;<b>&quot;&gt;&lt;script&gt;x()&lt;/script&gt;&#39;</b>3</p>',
    );
  });

  it('shows bidi overrides, zero-width and control characters in code as visible tags', () => {
    const out = codeText('a\u202eb\u200bc\u0007d\te').value;
    expect(out).toBe(
      'a<span class="ctl">U+202E</span>b<span class="ctl">U+200B</span>c<span class="ctl">U+0007</span>d\te',
    );
  });
});

describe('renderHtmlReport', () => {
  const page = renderHtmlReport(hostileReport());

  it('carries no element, attribute or URL that the input brought', () => {
    expect(page).not.toMatch(/<(script|img|iframe|svg onload)/i);
    // Real tags only (text's `<` is escaped): none has an event handler.
    expect(page).not.toMatch(/<[a-z][^>]*\son[a-z]+\s*=/i);
    expect(page).toContain('&lt;script&gt;document.title=&quot;pwned-script&quot;');
    expect(page).toContain('&lt;img src=x onerror=&quot;document.title=&#39;pwned-img&#39;');
    // The diff's `</pre>` cannot close the block it sits in.
    expect(page).toContain('+# &lt;/pre&gt;&lt;script&gt;');
  });

  it('is self-contained: a CSP without scripts, its stylesheet allowed by hash, nothing loaded', () => {
    const style = /<style>([\s\S]*?)<\/style>/.exec(page)![1]!;
    const hash = createHash('sha256').update(style).digest('base64');
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/
      .exec(page)![1]!
      .replaceAll('&#39;', "'");
    expect(csp).toBe(
      `default-src 'none'; style-src 'sha256-${hash}'; img-src 'none'; base-uri 'none'; form-action 'none'`,
    );
    // The page's own tags (text's `<` is escaped) load nothing and carry no inline style.
    const tags = page.match(/<[a-z][^>]*>/gi)!;
    expect(tags.filter((t) => /\s(src|href|style|action|srcset|xlink:href)\s*=/i.test(t))).toEqual([]);
    expect(tags.filter((t) => /https?:/.test(t))).toEqual([
      expect.stringMatching(/^<svg .*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/),
    ]);
  });

  it('redacts what it shows', () => {
    expect(page).not.toContain(AWS_KEY);
    expect(page).toContain('[REDACTED:aws-access-key]');
  });

  it('says so when no canary ran, and renders without evidence, candidates or audit entries', () => {
    const input = hostileReport();
    const bare = renderHtmlReport({
      incident: input.incident,
      result: { ...input.result, candidates: [], chosen: null, canary: null, ranking: [], notes: [] },
    });
    expect(bare).toContain('No canary ran for this heal.');
    expect(bare).toContain('No candidate was proposed.');
    expect(bare).toContain('No evidence was gathered');
    // the timeline falls back to the result's stage timings
    expect(bare).toMatch(/<code>verify<\/code>.*6200 ms/);
  });

  it('keeps injected text out of the title and headings', () => {
    expect(/<title>([^<]*)<\/title>/.exec(page)![1]).toBe('suture: pricing-api — aborted');
    expect(SCRIPT).toContain('<script>');
    expect(IMG).toContain('onerror');
  });
});

describe('the rollout chart', () => {
  it('plots cumulative error rates, skipping a side until its first request, and drops unusable buckets', () => {
    const series = errorRateSeries([
      { t: 20, stable: { requests: 10, errors: 1 }, canary: { requests: 2, errors: 1 } },
      { t: 10, stable: { requests: 10, errors: 0 }, canary: { requests: 0, errors: 0 } },
      { t: 30, stable: { requests: 5, errors: 9 }, canary: { requests: 1, errors: 0 } },
      { t: Number.NaN, stable: { requests: 1, errors: 0 }, canary: { requests: 1, errors: 0 } },
    ]);
    expect(series).toEqual([
      { t: 10, stable: 0, canary: null },
      { t: 20, stable: 0.05, canary: 0.5 },
    ]);
  });

  it('takes its data from the result’s canary: series as buckets, decision/at/reason as the decision', () => {
    const series = [{ t: 10, stable: { requests: 50, errors: 1 }, canary: { requests: 5, errors: 2 } }];
    expect(rolloutOf({ decision: 'abort', at: 42, reason: 'worse', series })).toEqual({
      buckets: series,
      decision: { decision: 'abort', at: 42, reason: 'worse' },
    });
    expect(rolloutOf({ series })).toEqual({ buckets: series, decision: null });
    for (const none of [null, undefined, 'abort', { decision: 'abort', at: 1, reason: 'r' }, { series: 'x' }])
      expect(rolloutOf(none)).toBeNull();
  });

  it('a canary that decided without buckets shows its decision, and says there is nothing to chart', () => {
    const input = hostileReport();
    const canary = { decision: 'promote', at: 300, reason: 'within tolerance' };
    const out = renderHtmlReport({ ...input, result: { ...input.result, canary } });
    expect(out).not.toContain('<svg class="chart"');
    expect(out).toContain('The canary reported no usable traffic to chart.');
    expect(out).toMatch(/Decision: <span class="decision-word decision-promote">promote<\/span> at 300 s/);
  });

  it('rounds the axis up to 1, 2, 2.5 or 5 × 10^k', () => {
    expect([0.0123, 0.2, 0.21, 0.3, 0.7, 0].map(niceCeil)).toEqual([0.02, 0.2, 0.25, 0.5, 1, 1]);
  });

  it('marks the decision at its time, and draws nothing without usable buckets', () => {
    const chart = rolloutChart({
      buckets: [{ t: 60, stable: { requests: 100, errors: 1 }, canary: { requests: 10, errors: 0 } }],
      decision: { decision: 'promote', at: 240, reason: 'canary within tolerance' },
    })!.value;
    expect(chart).toMatch(/<g id="decision" class="decision decision-promote"><title>canary within tolerance<\/title>/);
    expect(chart).toContain('promote at 4 min');
    expect(rolloutChart({ buckets: [], decision: null })).toBeNull();
  });
});

describe('timelineSteps', () => {
  it('places each audit entry by its start (its time stamp minus its duration)', () => {
    const steps = timelineSteps(
      [
        { ts: '2026-01-01T00:00:01.000Z', run: 'r', stage: 'intake', outcome: 'ok', durationMs: 1000 },
        { ts: '2026-01-01T00:00:04.000Z', run: 'r', stage: 'verify', outcome: 'error', durationMs: 2000, detail: 'x' },
      ],
      {},
    );
    expect(steps).toEqual([
      { stage: 'intake', outcome: 'ok', start: 0, durationMs: 1000, detail: '' },
      { stage: 'verify', outcome: 'error', start: 2000, durationMs: 2000, detail: 'x' },
    ]);
  });
});

describe('writeReports', () => {
  const incident = {
    ...hostileReport().incident,
    logs: '',
    requests: [],
    healthyRequests: [],
    labels: {},
  } as unknown as Incident;

  it('writes the Markdown report and the HTML page beside it, the timeline from this run’s audit entries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'suture-reports-'));
    const audit = join(dir, 'audit.jsonl');
    const entry = (run: string, stage: string) =>
      `${JSON.stringify({ ts: new Date().toISOString(), run, stage, outcome: 'ok', durationMs: 5, detail: `${run}-${stage}` })}\n`;
    writeFileSync(audit, entry('other', 'intake') + entry('this', 'intake') + '{torn\n' + entry('other', 'verify'));
    appendFileSync(audit, entry('this', 'verify'));
    const input = hostileReport();
    const md = await writeReports(join(dir, 'reports'), incident, structuredClone(input.result), {
      candidates: input.candidates,
      audit,
      run: 'this',
    });
    expect(md).toBe(join(dir, 'reports', `${incident.id}.md`));
    const page = readFileSync(join(dir, 'reports', `${incident.id}.html`), 'utf8');
    expect(page).toContain('this-intake');
    expect(page).toContain('this-verify');
    expect(page).not.toContain('other-');
    expect(existsSync(md)).toBe(true);
  });

  it('writes both files for every heal status, the HTML naming the status', async () => {
    const statuses: HealStatus[] = [
      'observed',
      'proposed',
      'fixed',
      'rejected',
      'no-fix',
      'escalated',
      'duplicate',
      'aborted',
    ];
    const dir = mkdtempSync(join(tmpdir(), 'suture-reports-'));
    for (const status of statuses) {
      const result = { ...structuredClone(hostileReport().result), status, notes: [] };
      const md = await writeReports(join(dir, status), { ...incident, id: `inc-${status}` }, result);
      expect(md).toBe(join(dir, status, `inc-${status}.md`));
      expect(existsSync(md)).toBe(true);
      const page = readFileSync(join(dir, status, `inc-${status}.html`), 'utf8');
      expect(/<title>([^<]*)<\/title>/.exec(page)![1]).toBe(`suture: pricing-api — ${status}`);
      expect(result.notes).toEqual([]);
    }
  });

  it('reads only the log’s tail, dropping the line it starts inside', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'suture-audit-'));
    const audit = join(dir, 'audit.jsonl');
    const line = (stage: string) =>
      `${JSON.stringify({ ts: '2026-01-01T00:00:00Z', run: 'r', stage, outcome: 'ok', durationMs: 1 })}\n`;
    writeFileSync(audit, line('first') + line('second') + line('third'));
    const tail = line('third').length + 10;
    expect((await readRunEntries(audit, 'r', tail)).map((e) => e.stage)).toEqual(['third']);
    expect(await readRunEntries(join(dir, 'missing'), 'r')).toEqual([]);
  });
});
