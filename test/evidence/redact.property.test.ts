/**
 * Properties of the redactor (issue 8, findings 6 and 9): whatever surrounds a secret of a supported kind —
 * arbitrary text, a JSON log line, JSON escaped inside JSON, logfmt, HTTP headers — it never survives; and
 * redaction time is linear in the input, also on inputs built to make regular expressions backtrack.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCardNumber, redact, redactDeep } from '../../src/evidence/redact.ts';

const chars = (alphabet: string, min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...alphabet), minLength: min, maxLength: max });
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const B64 = `${ALNUM}+/`;
const URLSAFE = `${ALNUM}_-`;
/** An opaque credential: letters and digits with at least one digit (so it reads as a credential anywhere). */
const opaque = fc.tuple(chars(ALNUM, 8, 24), fc.integer({ min: 0, max: 9 })).map(([s, d]) => `${s}${d}`);

/** A Luhn-valid card number with a network prefix: 13–19 digits in a row, or 16 grouped by four. */
const cardNumber = fc
  .tuple(
    fc.constantFrom('4', '51', '55', '2221', '37', '6011'),
    chars('0123456789', 18, 18),
    fc.integer({ min: 13, max: 19 }),
    fc.boolean(),
  )
  .map(([prefix, body, length, grouped]) => {
    const partial = (prefix + body).slice(0, (grouped ? 16 : length) - 1);
    for (let d = 0; d <= 9; d++) {
      const n = `${partial}${d}`;
      if (isCardNumber(n)) return grouped ? n.replace(/(\d{4})(?=\d)/g, '$1 ') : n;
    }
    throw new Error('unreachable: one check digit always fits');
  });

const SECRET_KEYS = [
  'password',
  'db_password',
  'clientSecret',
  'api_key',
  'x-upstream-token',
  'private-token',
  'accessToken',
  'cvv',
  'pin',
  'otp',
];

/** [kind, arbitrary of {text: what is planted, secret: what must not survive}] */
const PLANTS: [string, fc.Arbitrary<{ text: string; secret: string }>][] = [
  [
    'aws-access-key',
    fc
      .tuple(fc.constantFrom('AKIA', 'ASIA', 'ABIA', 'ACCA', 'AROA'), chars(UPPER_DIGITS, 16, 16))
      .map(([p, s]) => ({ text: `${p}${s}`, secret: `${p}${s}` })),
  ],
  ['aws-secret-key', chars(B64, 40, 40).map((s) => ({ text: `aws_secret_access_key=${s}`, secret: s }))],
  ['github-token', chars(ALNUM, 36, 36).map((s) => ({ text: `ghp_${s}`, secret: s }))],
  ['github-pat', chars(`${ALNUM}_`, 82, 82).map((s) => ({ text: `github_pat_${s}`, secret: s }))],
  ['gitlab-token', chars(URLSAFE, 20, 30).map((s) => ({ text: `glpat-${s}`, secret: `glpat-${s}` }))],
  ['slack-token', chars(ALNUM, 24, 24).map((s) => ({ text: `xoxb-1234567890-${s}`, secret: s }))],
  [
    'slack-webhook',
    chars(ALNUM, 24, 24).map((s) => ({ text: `https://hooks.slack.com/services/T0000/B0000/${s}`, secret: s })),
  ],
  ['stripe-key', chars(ALNUM, 24, 24).map((s) => ({ text: `sk_live_${s}`, secret: s }))],
  ['google-api-key', chars(URLSAFE, 35, 35).map((s) => ({ text: `AIza${s}`, secret: `AIza${s}` }))],
  ['npm-token', chars(ALNUM, 36, 36).map((s) => ({ text: `npm_${s}`, secret: s }))],
  [
    'openai-key',
    fc
      .tuple(fc.constantFrom('sk-', 'sk-proj-', 'sk-svcacct-'), chars(ALNUM, 40, 120), fc.integer({ min: 0, max: 9 }))
      .map(([p, s, d]) => ({ text: `${p}${s}${d}`, secret: `${s}${d}` })),
  ],
  [
    'jwt',
    fc
      .tuple(chars(URLSAFE, 10, 40), chars(URLSAFE, 10, 40), chars(URLSAFE, 10, 40))
      .map(([a, b, c]) => ({ text: `eyJ${a}.${b}.${c}`, secret: `${a}.${b}.${c}` })),
  ],
  [
    'private-key',
    fc.array(chars(B64, 40, 64), { minLength: 1, maxLength: 4 }).chain((lines) =>
      fc.constantFrom('', 'RSA ', 'EC ', 'OPENSSH ').map((label) => ({
        text: `-----BEGIN ${label}PRIVATE KEY-----\n${lines.join('\n')}\n-----END ${label}PRIVATE KEY-----`,
        secret: lines[0]!,
      })),
    ),
  ],
  [
    'url-password',
    fc
      .tuple(fc.constantFrom('postgres', 'redis', 'mongodb+srv', 'amqps', 'https'), opaque)
      .map(([scheme, pass]) => ({ text: `${scheme}://svc:${pass}@db.internal:5432/x`, secret: pass })),
  ],
  [
    'authorization',
    fc
      .tuple(
        fc.constantFrom('Authorization', 'authorization', 'Proxy-Authorization'),
        fc.constantFrom('Bearer', 'Basic', 'Token', 'SharedKey', 'X-Custom'),
        opaque,
      )
      .map(([name, scheme, cred]) => ({ text: `${name}: ${scheme} ${cred}`, secret: cred })),
  ],
  ['bearer', opaque.map((cred) => ({ text: `curl -H x Bearer ${cred}0000000000`, secret: cred }))],
  ['key=value', fc.tuple(fc.constantFrom(...SECRET_KEYS), opaque).map(([k, v]) => ({ text: `${k}=${v}`, secret: v }))],
  ['header', fc.tuple(fc.constantFrom(...SECRET_KEYS), opaque).map(([k, v]) => ({ text: `${k}: ${v}`, secret: v }))],
  [
    'json pair',
    fc
      .tuple(fc.constantFrom(...SECRET_KEYS), fc.string({ minLength: 1, maxLength: 30 }), opaque)
      .map(([k, v, o]) => ({ text: JSON.stringify({ [k]: `${o}${v}` }), secret: o })),
  ],
  ['card-number', cardNumber.map((n) => ({ text: n, secret: n }))],
];

/** Text around the secret: arbitrary characters, weighted towards the ones the patterns care about. */
const noise = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom('"', "'", '\\', ':', '=', ' ', '\n', '{', '}', 'a', '1', '-', '.', '/', '@', '://', 'key'),
    maxLength: 30,
  }),
);
/** What ends a token in real logs. */
const sep = fc.constantFrom(' ', '\n', '\t', ',', ';', '&', '"', "'", ')', ']', '}', '<', '>');

type Context = (planted: string) => string;
const CONTEXTS: [string, Context][] = [
  ['text', (p) => p],
  ['JSON log line', (p) => JSON.stringify({ level: 'error', msg: p, n: 1 })],
  ['JSON escaped in JSON', (p) => JSON.stringify({ request: { body: JSON.stringify({ note: p }) } })],
  ['logfmt', (p) => `level=error msg=${JSON.stringify(p)} retry=3`],
  ['Python repr', (p) => `kwargs={'note': ${JSON.stringify(p).replace(/^"|"$/g, "'")}}`],
  ['HTTP headers', (p) => `GET / HTTP/1.1\r\nHost: x\r\nX-Note: ${p.replace(/[\r\n]/g, ' ')}\r\nAccept: */*\r\n`],
];

describe('redact never lets a planted secret through', () => {
  for (const [kind, plant] of PLANTS) {
    it(`${kind}, in any context`, () => {
      fc.assert(
        fc.property(
          plant,
          noise,
          sep,
          sep,
          noise,
          fc.constantFrom(...CONTEXTS),
          (p, before, s1, s2, after, [, ctx]) => {
            const input = ctx(`${before}${s1}${p.text}${s2}${after}`);
            const out = redact(input).text;
            expect(out).not.toContain(p.secret);
          },
        ),
        { numRuns: 300 },
      );
    });
  }

  it('redactDeep masks whole what sits under a secret-looking key, whatever its type or shape', () => {
    const out = redactDeep({
      password: 'correct horse',
      card: { number: '4111 1111 1111 1111', cvv: 123 },
      pin: 1234,
      nested: [{ 'x-upstream-token': 'plain words', Authorization: 'Basic dXNlcjpw' }],
      fine: 'ok',
      empty: { password: null, token: '' },
      // A `__proto__` key from JSON stays data (and is not a secret).
      ...JSON.parse('{"__proto__": {"api_key": "k-1"}}'),
    });
    expect(out).toEqual({
      password: '[REDACTED:secret]',
      card: '[REDACTED:secret]',
      pin: '[REDACTED:secret]',
      nested: [{ 'x-upstream-token': '[REDACTED:secret]', Authorization: '[REDACTED:secret]' }],
      fine: 'ok',
      empty: { password: null, token: '' },
      ...JSON.parse('{"__proto__": {"api_key": "[REDACTED:secret]"}}'),
    });
    expect(JSON.stringify(out)).not.toMatch(/correct horse|1111|1234|plain words|dXNl/);
  });
});

/** Best of three, in ms. */
function timeOf(input: string): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    redact(input);
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

/**
 * How the time grows from `size` to 8 × `size` characters of `unit` repeated: linear is ~8×, quadratic
 * ~64×. Other work on the machine only ever makes one measurement slower, so a family that looks slow is
 * measured again and its best showing counts; a backtracking pattern is slow every time.
 */
function growth(unit: string, size: number): { ratio: number; small: number; large: number } {
  let best = { ratio: Number.POSITIVE_INFINITY, small: 0, large: 0 };
  for (let attempt = 0; attempt < 4 && best.ratio > 16; attempt++) {
    const small = timeOf(repeatTo(unit, size));
    const large = timeOf(repeatTo(unit, 8 * size));
    // Below ~80 ms at 8 × size, timer and GC noise dominate; it is fast whatever the ratio says.
    const ratio = large < 80 ? 1 : large / Math.max(small, 0.5);
    if (ratio < best.ratio) best = { ratio, small, large };
  }
  return best;
}

const repeatTo = (unit: string, size: number) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

/**
 * Repetitions of short strings built from the patterns' own alphabets and literals: the inputs on which a
 * backtracking pattern goes quadratic (`a.b-` repeated froze `suture serve` for minutes).
 */
const ADVERSARIAL = [
  'a.b-',
  'a.',
  'a:',
  'a=',
  'a ',
  ':a',
  '=a',
  '"a":"',
  "'a': '",
  '\\"a\\": \\"',
  '\\\\\\"a\\\\\\": \\\\\\"',
  'x://',
  'a://u:',
  'a:b@',
  "a='",
  'a="',
  '"',
  "'",
  '\\',
  '\\"',
  '-----BEGIN PRIVATE KEY-----',
  '-----BEGIN A ',
  '-----END PRIVATE KEY-----',
  'eyJaaaaaaaaa.',
  'eyJ',
  'Bearer ',
  'authorization: ',
  'authorization\\"',
  'ghp_',
  'glpat-',
  'sk-',
  'sk-a',
  'hooks.slack.com/services/',
  'xapp-',
  'AKIA',
  'secret_access_key=',
  'password=',
  '"password": "',
  "'password': '",
  '\\"password\\": \\"',
  '1-',
  '1 ',
  '4111 ',
  '0000',
  '\\n',
];

const N = 64 * 1024;

describe('redact runs in linear time', () => {
  it('on every adversarial family, 8× the input costs about 8× the time, not 64×', () => {
    redact(repeatTo('warm up the regexes ', N));
    const slow: string[] = [];
    for (const unit of ADVERSARIAL) {
      const g = growth(unit, N);
      if (g.ratio > 24) slow.push(`${JSON.stringify(unit)}: ${g.small.toFixed(1)} → ${g.large.toFixed(1)} ms`);
    }
    expect(slow).toEqual([]);
  });

  it('on generated families (units drawn from the patterns alphabets, repeated)', () => {
    const token = fc.constantFrom(
      'a',
      'Z',
      '0',
      '4',
      '.',
      '-',
      '_',
      ':',
      '=',
      '/',
      '"',
      "'",
      '\\',
      ' ',
      '\n',
      '@',
      '{',
      '}',
      'eyJ',
      'ghp_',
      'sk-',
      '-----BEGIN ',
      'PRIVATE KEY-----',
      '-----END ',
      '://',
      'Bearer ',
      'authorization',
      'password',
      'key',
    );
    const units = fc.sample(
      fc.array(token, { minLength: 1, maxLength: 6 }).map((t) => t.join('')),
      {
        numRuns: 40,
        seed: 8,
      },
    );
    const slow: string[] = [];
    for (const unit of units) {
      const g = growth(unit, N / 2);
      if (g.ratio > 24) slow.push(`${JSON.stringify(unit)}: ${g.small.toFixed(1)} → ${g.large.toFixed(1)} ms`);
    }
    expect(slow).toEqual([]);
  });

  it('1 MiB of the worst families redacts well under a second', () => {
    const worst: [string, number][] = [];
    for (const unit of [
      'a.b-',
      "a='",
      'a="',
      '"password": "',
      '-----BEGIN PRIVATE KEY-----',
      'eyJaaaaaaaaa.',
      '4111 ',
    ]) {
      worst.push([unit, timeOf(repeatTo(unit, 1024 * 1024))]);
    }
    expect(worst.filter(([, ms]) => ms >= 1000)).toEqual([]);
  });
});
