/**
 * The HTML report as a reader sees it: rendered by headless Chromium (Debian's package) and asserted on
 * what is visible — the verdict table, the policy decision, the chart's decision marker — and on what must
 * not happen: markup injected through the incident, the code, a commit, a diff, a mismatch or the judge's
 * reason shows as text, and nothing runs. A screenshot is written under the test TMPDIR, or the directory
 * SUTURE_TEST_ARTIFACTS names, and its path printed.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../src/report/html.ts';
import { Browser, type Page } from '../helpers/chromium.ts';
import { AWS_KEY, hostileReport, IMG, SCRIPT } from './html-fixture.ts';

const dir = mkdtempSync(join(tmpdir(), 'suture-html-report-'));
let browser: Browser;
let page: Page;
const text = () => page.evaluate<string>('document.body.innerText');

beforeAll(async () => {
  const file = join(dir, 'report.html');
  writeFileSync(file, renderHtmlReport(hostileReport()));
  browser = Browser.launch();
  page = await browser.open(pathToFileURL(file).href);
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

describe('the HTML report in Chromium', () => {
  it('keeps a full-page screenshot as a test artifact', async () => {
    // Under the test TMPDIR (removed when the run ends) unless SUTURE_TEST_ARTIFACTS names a directory to keep.
    const keep = process.env.SUTURE_TEST_ARTIFACTS;
    if (keep) mkdirSync(keep, { recursive: true });
    const shot = join(keep || dir, 'html-report.png');
    await page.screenshot(shot);
    console.log(`HTML report screenshot: ${shot}`);
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.length).toBeGreaterThan(20_000);
  });

  it('shows the outcome and every candidate in the verdict table with its checks', async () => {
    expect(await page.evaluate('document.title')).toBe('suture: pricing-api — aborted');
    const rows = await page.evaluate<string[][]>(
      `[...document.querySelectorAll('table.verdicts tbody tr')].map(r => [...r.cells].map(c => c.innerText.trim()))`,
    );
    expect(rows.map((r) => r[0])).toEqual(['c1 ✔ chosen', 'c2', 'c3']);
    // candidate, strategy, summary, verdict, reproduced, fixed, tests, regression test, differential, policy
    expect(rows[0]!.slice(3, 10)).toEqual([
      'pass',
      'yes',
      'yes (2xx)',
      'yes',
      'fails before: yes, passes after: yes',
      '2 compared, 0 mismatches',
      'allow',
    ]);
    expect(rows[1]![3]).toBe('fail');
    expect(rows[1]![8]).toBe('2 compared, 1 mismatch');
    expect(rows[2]![9]).toBe('deny');
    const mismatch = await page.evaluate<string>(`document.querySelector('table.mismatches tbody tr').innerText`);
    expect(mismatch).toContain('$.total');
    expect(mismatch).toContain('"<b>bold-mismatch</b>"');
  });

  it('shows the timeline, the faulting line, the diff and the policy violations', async () => {
    const body = await text();
    expect(body).toMatch(/verify\s+ok\s+\+0\.5 s\s+6200 ms/);
    const fault = await page.evaluate<string>(`document.querySelector('pre.code .fault').innerText`);
    expect(fault).toMatch(/^\s+6 >\s+return total \/ len\(discounts\)/);
    const added = await page.evaluate<string[]>(
      `[...document.querySelectorAll('#diff pre.diff > .add')].map(e => e.innerText)`,
    );
    expect(added.slice(0, 2)).toEqual(['+    if len(discounts) == 0:', '+        return 0']);
    // The bidi controls in the diff are shown as tags, not obeyed.
    expect(added[2]).toContain('U+202E');
    expect(added[2]).toContain('U+2066');
    expect(body).toContain('Decision on the chosen candidate c1: allow');
    expect(body).toContain('tests/deleted');
  });

  it('marks the canary decision on the chart, inside the plot, where it was taken', async () => {
    const m = await page.evaluate<{
      label: string;
      stroke: string;
      line: { x: number; top: number; bottom: number; width: number };
      frame: { left: number; right: number; top: number; bottom: number };
      lines: string[];
    }>(`(() => {
      const d = document.querySelector('svg.chart #decision');
      const l = d.querySelector('line').getBoundingClientRect();
      const f = document.querySelector('svg.chart .frame').getBoundingClientRect();
      return {
        label: d.querySelector('text').textContent,
        stroke: getComputedStyle(d.querySelector('line')).stroke,
        line: { x: l.left + l.width / 2, top: l.top, bottom: l.bottom, width: l.width },
        frame: { left: f.left, right: f.right, top: f.top, bottom: f.bottom },
        lines: [...document.querySelectorAll('svg.chart polyline')].map(p => p.getAttribute('class')),
      };
    })()`);
    expect(m.label).toBe('abort at 95 s');
    // The page's own stylesheet applies (its CSP hash matches): the abort marker is drawn in red.
    expect(m.stroke).toBe('rgb(207, 34, 46)');
    expect(m.lines).toEqual(['line stable', 'line canary']);
    // at = 95 s of a 120 s axis
    const expected = m.frame.left + (95 / 120) * (m.frame.right - m.frame.left);
    expect(Math.abs(m.line.x - expected)).toBeLessThan(2);
    expect(m.line.top).toBeCloseTo(m.frame.top, 0);
    expect(m.line.bottom).toBeCloseTo(m.frame.bottom, 0);
    expect(await text()).toContain('Decision: abort at 95 s');
  });

  it('renders injected scripts and event handlers as text and runs none of them', async () => {
    const body = await text();
    expect(body).toContain(SCRIPT);
    expect(body).toContain(IMG);
    expect(body).toContain('<iframe src="javascript:alert(1)">');
    expect(body).toContain('drop the guard <img src=x onerror=alert(1)>');
    expect(await page.evaluate('typeof window.pwned')).toBe('undefined');
    const active = await page.evaluate<number>(
      `document.querySelectorAll('script, iframe, img, object, embed, link, base, [onerror], [onload], [src], [href]').length`,
    );
    expect(active).toBe(0);
    // Nothing even tried: no CSP violation, no console message, no exception.
    const noise = page
      .events()
      .filter((e) => /^(Log\.entryAdded|Runtime\.consoleAPICalled|Runtime\.exceptionThrown)$/.test(e.method));
    expect(noise).toEqual([]);
  });

  it('redacts secrets in what it shows', async () => {
    const body = await text();
    expect(body).not.toContain(AWS_KEY);
    expect(body).toContain('[REDACTED');
  });

  it('would not run a script even if one slipped past the escaping: the CSP forbids it', async () => {
    const file = join(dir, 'tampered.html');
    writeFileSync(
      file,
      renderHtmlReport(hostileReport()).replace(
        '<body>',
        `<body><script>document.title='ran'</script><img src=x onerror="document.title='ran'"><div style="display:none" id="styled">x</div>`,
      ),
    );
    const tampered = await browser.open(pathToFileURL(file).href);
    expect(await tampered.evaluate('document.title')).toBe('suture: pricing-api — aborted');
    // An injected style attribute does not apply either (styles only by the page stylesheet's hash).
    expect(await tampered.evaluate(`getComputedStyle(document.getElementById('styled')).display`)).toBe('block');
    const violations = tampered
      .events()
      .filter((e) => e.method === 'Log.entryAdded')
      .map((e) => String((e.params.entry as { text: string }).text));
    expect(violations.some((t) => /Content Security Policy/.test(t))).toBe(true);
  });
});
