/** The differential comparison (pure): noise learned from two base answers, everything else must match. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareAnswers, learnNoise, parseIgnorePath, renderPath } from '../../src/sandbox/differential.ts';
import type { HttpResult } from '../../src/sandbox/plan.ts';

const json = (body: unknown, status = 200, headers: Record<string, string[]> = {}): HttpResult => ({
  status,
  body: JSON.stringify(body),
  headers: { 'content-type': ['application/json'], ...headers },
});
const text = (body: string, status = 200): HttpResult => ({
  status,
  body,
  headers: { 'content-type': ['text/plain'] },
});
const paths = (primary: HttpResult, secondary: HttpResult, candidate: HttpResult, ignore: string[] = []) =>
  compareAnswers(
    'GET /x',
    primary,
    secondary,
    candidate,
    ignore.map((p) => {
      const r = parseIgnorePath(p);
      if ('error' in r) throw new Error(r.error);
      return r.path;
    }),
  ).mismatches.map((m) => m.path);

describe('values that a name-based normaliser hid', () => {
  const order = { orderId: 1700000001, timeout: 30, runtime: 'python', deliveryDate: '2026-11-25' };
  it.each([
    ['an id', { orderId: 1700000002 }, '$.orderId'],
    ['a number', { timeout: 3000 }, '$.timeout'],
    ['a word', { runtime: 'node' }, '$.runtime'],
    ['a date', { deliveryDate: '2026-11-26' }, '$.deliveryDate'],
  ])('a changed %s is a mismatch, with both values', (_what, change, path) => {
    const r = compareAnswers('GET /order', json(order), json(order), json({ ...order, ...change }));
    expect(r.mismatches).toEqual([
      {
        request: 'GET /order',
        path,
        base: order[path.slice(2) as keyof typeof order],
        candidate: Object.values(change)[0],
      },
    ]);
  });

  it('a timestamp and a request id that differ between the two base answers are noise', () => {
    const at = (t: string, id: string) => json({ total: 24, generatedAt: t, requestId: id });
    const r = compareAnswers(
      'POST /quote',
      at('2026-11-20T02:04:11.123Z', '5f0c6f1e'),
      at('2026-11-20T02:04:12.456Z', '0d9e8f7a'),
      at('2026-11-20T02:05:00.000Z', 'c0ffee00'),
    );
    expect(r).toMatchObject({ outcome: 'compared', mismatches: [], noise: ['$.generatedAt', '$.requestId'] });
    // ... but the total next to them is still compared
    expect(
      paths(
        at('2026-11-20T02:04:11Z', 'a'),
        at('2026-11-20T02:04:12Z', 'b'),
        json({ total: 25, generatedAt: 'x', requestId: 'y' }),
      ),
    ).toEqual(['$.total']);
  });

  it('noise in one array element is noise in every element, and nothing else', () => {
    const lines = (ids: string[], qty = 1) => json({ lines: ids.map((id) => ({ lineId: id, qty })) });
    const r = compareAnswers('GET /cart', lines(['a', 'b']), lines(['c', 'b']), lines(['x', 'y']));
    expect(r.noise).toEqual(['$.lines[*].lineId']);
    expect(r.mismatches).toEqual([]);
    expect(paths(lines(['a', 'b']), lines(['c', 'b']), lines(['a', 'b'], 2))).toEqual([
      '$.lines[0].qty',
      '$.lines[1].qty',
    ]);
    // an array whose length differs between the bases is noise as a whole; a new length on the candidate is not
    expect(paths(lines(['a']), lines(['a']), lines(['a', 'b']))).toEqual(['$.lines']);
  });
});

describe('structure, types and headers', () => {
  it('compares JSON by value, not by text', () => {
    const r = compareAnswers(
      'GET /x',
      { status: 200, body: '{"a": 24.0, "b": [1, 2]}', headers: { 'content-type': ['application/json'] } },
      { status: 200, body: '{"b":[1,2],"a":24}', headers: { 'content-type': ['application/json'] } },
      { status: 200, body: '{ "a" : 24 , "b" : [ 1 , 2 ] }', headers: { 'content-type': ['application/json'] } },
    );
    expect(r).toMatchObject({ mismatches: [], noise: [] });
  });

  it('keeps integers past 2^53 exact', () => {
    const big = (n: string) => ({
      status: 200,
      body: `{"id": ${n}}`,
      headers: { 'content-type': ['application/json'] },
    });
    expect(paths(big('12345678901234567891'), big('12345678901234567891'), big('12345678901234567892'))).toEqual([
      '$.id',
    ]);
  });

  it('compares a deeply nested body as text, without overflowing the stack', () => {
    const deep = (x: number, n = 2000) => ({
      status: 200,
      body: `${'['.repeat(n)}${x}${']'.repeat(n)}`,
      headers: { 'content-type': ['application/json'] },
    });
    expect(paths(deep(1), deep(1), deep(2))).toEqual(['$~2000']);
    expect(paths(deep(1, 200), deep(1, 200), deep(2, 200))).toEqual([`$${'[0]'.repeat(200)}`]);
  });

  it('reports a missing field, a new field and a type change', () => {
    const r = compareAnswers('GET /x', json({ a: 1, b: 2 }), json({ a: 1, b: 2 }), json({ a: '1', c: 3 }));
    expect(r.mismatches).toEqual([
      { request: 'GET /x', path: '$.a', base: 1, candidate: '1' },
      { request: 'GET /x', path: '$.b', base: 2, candidate: null, absent: 'candidate' },
      { request: 'GET /x', path: '$.c', base: null, candidate: 3, absent: 'base' },
    ]);
  });

  it('compares the status, content-type, location and set-cookie names; not other headers', () => {
    const a = json({ ok: true }, 201, {
      location: ['/orders/17'],
      'set-cookie': ['sid=abc; HttpOnly', 'theme=dark'],
      date: ['Mon, 23 Nov 2026 04:27:33 GMT'],
      'x-request-id': ['r-1'],
    });
    const same = json({ ok: true }, 201, {
      location: ['/orders/17'],
      'set-cookie': ['theme=light', 'sid=xyz'],
      date: ['Tue, 24 Nov 2026 04:27:33 GMT'],
      'x-request-id': ['r-2'],
    });
    expect(paths(a, a, same)).toEqual([]);
    expect(paths(a, a, { ...same, status: 200 })).toEqual(['status']);
    expect(paths(a, a, json({ ok: true }, 201, { ...same.headers, location: ['/orders/18'] }))).toEqual([
      'header:location~3',
    ]);
    expect(paths(a, a, json({ ok: true }, 201, { ...same.headers, 'set-cookie': ['session=1', 'theme=x'] }))).toEqual([
      'header:set-cookie',
    ]);
    expect(paths(a, a, { ...same, headers: { ...same.headers, 'content-type': ['text/html'] } })).toEqual([
      'header:content-type',
    ]);
  });

  it('compares text token by token: noise spans where the two bases differ, the rest exactly', () => {
    const receipt = (at: string, total: string) => text(`Receipt 1042: total ${total} EUR, printed ${at}\n`);
    const p = receipt('2026-11-20 02:04:11', '37.50');
    const s = receipt('2026-11-20 02:04:12', '37.50');
    expect(paths(p, s, receipt('2026-11-20 09:30:00', '37.50'))).toEqual([]);
    expect(paths(p, s, receipt('2026-11-20 02:04:11', '37.51'))).toEqual(['$~7']);
    // the date did not differ between the two base answers: it is content
    expect(paths(p, s, receipt('2026-11-21 02:04:11', '37.50'))).toEqual(['$~14']);
    const r = compareAnswers(
      'GET /receipt',
      p,
      s,
      text('Receipt 1043: total 37.50 EUR, printed 2026-11-20 02:04:11\n'),
    );
    expect(r.mismatches).toEqual([
      expect.objectContaining({
        path: '$~2',
        base: 'Receipt 1042: total 37.50 ',
        candidate: 'Receipt 1043: total 37.50 ',
      }),
    ]);
    // a text of another length differs as a whole
    expect(paths(p, s, text('Receipt 1042\n'))).toEqual(['$']);
  });

  it('calls a request unstable when the two base answers differ in status', () => {
    const r = compareAnswers('GET /flaky', json({}, 200), json({}, 503), json({ x: 1 }, 500));
    expect(r).toMatchObject({ outcome: 'unstable', mismatches: [] });
  });

  it('an unanswered request on the candidate is a status mismatch', () => {
    expect(paths(json({ a: 1 }), json({ a: 1 }), { status: null, error: 'ConnectionRefusedError' })).toEqual([
      'status',
    ]);
  });
});

describe('the ignore list', () => {
  it('ignores what a team says is volatile, and only that', () => {
    const a = json({ meta: { generatedAt: 1 }, items: [{ id: 1, n: 1 }], sessions: { s1: { expires: 1 } } });
    const b = json({ meta: { generatedAt: 2 }, items: [{ id: 2, n: 1 }], sessions: { s1: { expires: 2 } } });
    expect(paths(a, a, b)).toEqual(['$.meta.generatedAt', '$.items[0].id', '$.sessions.s1.expires']);
    expect(paths(a, a, b, ['$.meta.generatedAt', '$.items[*].id', '$.sessions.*.expires'])).toEqual([]);
    expect(paths(a, a, b, ['$.meta', "$['items'][0]['id']"])).toEqual(['$.sessions.s1.expires']);
    const moved = json({ ok: 1 }, 201, { location: ['/o/1'] });
    expect(paths(moved, moved, json({ ok: 1 }, 201, { location: ['/o/2'] }), ['header:location'])).toEqual([]);
  });

  it('rejects what it cannot read, with the reason', () => {
    expect(parseIgnorePath('meta.generatedAt')).toEqual({ error: expect.stringMatching(/starts with \$/) });
    expect(parseIgnorePath('$.a..b')).toEqual({ error: expect.stringMatching(/cannot read "\.\.b"/) });
    expect(parseIgnorePath('header:date')).toEqual({ error: expect.stringMatching(/only content-type/) });
    expect(parseIgnorePath('$')).toEqual({ path: ['body'] });
  });

  it('reads back every path it reports', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.nat()), { maxLength: 5 }), (segments) => {
        const rendered = renderPath(['body', ...segments]);
        expect(parseIgnorePath(rendered)).toEqual({ path: ['body', ...segments] });
      }),
    );
  });
});

/** Paths to every leaf of a JSON value (empty objects and arrays count as leaves). */
function leaves(v: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v) && v.length) return v.flatMap((x, i) => leaves(x, [...path, i]));
  if (v && typeof v === 'object' && Object.keys(v).length)
    return Object.entries(v).flatMap(([k, x]) => leaves(x, [...path, k]));
  return [path];
}

function setAt(v: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const copy = (Array.isArray(v) ? [...v] : { ...(v as object) }) as Record<string | number, unknown>;
  copy[head!] = setAt(copy[head!], rest, value);
  return copy;
}

function getAt(v: unknown, path: (string | number)[]): unknown {
  return path.reduce<unknown>((n, k) => (n as Record<string | number, unknown>)[k], v);
}

/** A value that differs from `old` in JSON (same type where there is one); `tag` makes two changes differ. */
function changed(old: unknown, tag = 'a'): unknown {
  if (typeof old === 'number') return old === 1 ? 2 : 1;
  if (typeof old === 'string') return `${old}${tag}`;
  if (typeof old === 'boolean') return !old;
  if (Array.isArray(old)) return [tag];
  if (old && typeof old === 'object') return { [tag]: true };
  return tag;
}

const documents = fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { minKeys: 1 });
const statuses = fc.constantFrom(200, 201, 204, 302, 400, 404);

describe('properties', () => {
  it('identical answers never mismatch, and teach no noise', () => {
    fc.assert(
      fc.property(fc.jsonValue(), statuses, (body, status) => {
        const a = json(body, status);
        expect([...learnNoise(a, json(body, status))]).toEqual([]);
        expect(compareAnswers('GET /', a, a, json(body, status)).mismatches).toEqual([]);
      }),
    );
    fc.assert(
      fc.property(fc.string(), (body) => {
        expect([...learnNoise(text(body), text(body))]).toEqual([]);
        expect(compareAnswers('GET /', text(body), text(body), text(body)).mismatches).toEqual([]);
      }),
    );
  });

  it('a candidate that answers like either base instance never mismatches', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), statuses, (p, s, status) => {
        const [primary, secondary] = [json(p, status), json(s, status)];
        expect(compareAnswers('GET /', primary, secondary, json(p, status)).mismatches).toEqual([]);
        expect(compareAnswers('GET /', primary, secondary, json(s, status)).mismatches).toEqual([]);
      }),
    );
    fc.assert(
      fc.property(fc.string(), fc.string(), (p, s) => {
        expect(compareAnswers('GET /', text(p), text(s), text(s)).mismatches).toEqual([]);
      }),
    );
  });

  it('a change outside the learned noise always mismatches, at its path', () => {
    fc.assert(
      fc.property(documents, fc.nat(), fc.nat(), fc.boolean(), (doc, i, j, noisy) => {
        const all = leaves(doc);
        const target = all[i % all.length]!;
        // The secondary differs from the primary at one leaf (or not at all): that is the noise.
        const noiseAt = all[j % all.length]!;
        const secondary = noisy ? setAt(doc, noiseAt, changed(getAt(doc, noiseAt))) : doc;
        const noise = learnNoise(json(doc), json(secondary));
        const general = (p: (string | number)[]) => p.map((s) => (typeof s === 'number' ? '*' : s));
        const covered = general(target)
          .map((_, k) => renderPath(['body', ...general(target).slice(0, k + 1)]))
          .some((g) => noise.has(g));
        fc.pre(!covered);
        const candidate = setAt(doc, target, changed(getAt(doc, target), 'b'));
        const found = compareAnswers('GET /', json(doc), json(secondary), json(candidate)).mismatches;
        // at the changed leaf, or inside it when an empty object or array was filled
        const where = renderPath(['body', ...target]);
        expect(
          found.map((m) => m.path).filter((p) => p === where || p.startsWith(`${where}.`) || p.startsWith(`${where}[`)),
        ).not.toEqual([]);
      }),
    );
  });

  it('a changed token of a text outside the learned noise always mismatches', () => {
    const words = fc.array(fc.stringMatching(/^[a-z0-9]{1,5}$/), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(words, fc.nat(), fc.nat(), (ws, i, j) => {
        const body = ws.join(' ');
        const at = i % ws.length;
        const noiseAt = j % ws.length;
        fc.pre(at !== noiseAt);
        const swap = (k: number) => ws.map((w, n) => (n === k ? `${w}z` : w)).join(' ');
        const found = compareAnswers('GET /', text(body), text(swap(noiseAt)), text(swap(at))).mismatches;
        expect(found.map((m) => m.path)).toEqual([`$~${at * 2}`]);
      }),
    );
  });
});
