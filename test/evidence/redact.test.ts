import { describe, expect, it } from 'vitest';
import { isSecretKey, redact } from '../../src/evidence/redact.ts';

// Fake but correctly shaped credentials (AWS's documented example keys, made-up tokens).
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const GHP = 'ghp_R2d2C3poR2d2C3poR2d2C3poR2d2C3po1234';
const PEM_LINES = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2UxQmVvz5eRZ1C6vQdX0y4xJmC0w',
  'k8b5Y2xWq1nZ7dP0sR3fT6gH9jK2lL4mN5oP7qR8sT0uV1wX2yZ3aB4cD5eF6gH7',
  '-----END RSA PRIVATE KEY-----',
];

/** [description, input, expected output, expected kinds] */
const POSITIVE: [string, string, string, string[]][] = [
  [
    'AWS access key id',
    'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE',
    'AWS_ACCESS_KEY_ID=[REDACTED:aws-access-key]',
    ['aws-access-key'],
  ],
  [
    'AWS temporary key id in prose',
    'assumed role with ASIAY34FZKBOKMUTVV7A ok',
    'assumed role with [REDACTED:aws-access-key] ok',
    ['aws-access-key'],
  ],
  [
    'AWS secret key in credentials file',
    'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    'aws_secret_access_key = [REDACTED:aws-secret-key]',
    ['aws-secret-key'],
  ],
  [
    'AWS secret key in JSON',
    '{"AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}',
    '{"AccessKeyId": "[REDACTED:aws-access-key]", "SecretAccessKey": "[REDACTED:aws-secret-key]"}',
    ['aws-secret-key', 'aws-access-key'],
  ],
  ['GitHub classic token', `GITHUB_TOKEN=${GHP}`, 'GITHUB_TOKEN=[REDACTED:github-token]', ['github-token']],
  [
    'GitHub token in a clone URL',
    `git clone https://${GHP}@github.com/acme/orders.git`,
    'git clone https://[REDACTED:github-token]@github.com/acme/orders.git',
    ['github-token'],
  ],
  [
    'GitHub app token',
    'using ghs_abcdefghijklmnopqrstuvwxyz0123456789',
    'using [REDACTED:github-token]',
    ['github-token'],
  ],
  [
    'GitHub fine-grained PAT',
    'pat github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV',
    'pat [REDACTED:github-token]',
    ['github-token'],
  ],
  [
    'GitLab token',
    'PRIVATE-TOKEN glpat-xT3kq9vB2mN8pL4wZ7yR',
    'PRIVATE-TOKEN [REDACTED:gitlab-token]',
    ['gitlab-token'],
  ],
  [
    'Slack bot token',
    'slack client init xoxb-2411113212-4712345678901-AbCdEfGhIjKlMnOpQrStUvWx',
    'slack client init [REDACTED:slack-token]',
    ['slack-token'],
  ],
  [
    'Slack user and app tokens',
    'xoxp-1234567890-0987654321 xapp-1-A0123456789-1234',
    '[REDACTED:slack-token] [REDACTED:slack-token]',
    ['slack-token'],
  ],
  [
    'Slack webhook URL',
    'POST https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX failed',
    'POST [REDACTED:slack-webhook] failed',
    ['slack-webhook'],
  ],
  [
    'bare JWT',
    `session=${JWT.slice(0, 20)}x id_token ${JWT}`,
    `session=[REDACTED:secret] id_token [REDACTED:jwt]`,
    ['jwt', 'secret'],
  ],
  [
    'Authorization Bearer header',
    `Authorization: Bearer ${JWT}`,
    'Authorization: Bearer [REDACTED:authorization]',
    ['authorization'],
  ],
  [
    'Authorization Basic header',
    'authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l',
    'authorization: Basic [REDACTED:authorization]',
    ['authorization'],
  ],
  [
    'Authorization with an unknown scheme',
    'Authorization: Custom abc123def rejected',
    'Authorization: [REDACTED:authorization] rejected',
    ['authorization'],
  ],
  [
    'authorization in a JSON log line',
    `{"headers":{"authorization":"Bearer ${JWT}","accept":"*/*"}}`,
    '{"headers":{"authorization":"Bearer [REDACTED:authorization]","accept":"*/*"}}',
    ['authorization'],
  ],
  [
    'bearer in a curl command',
    "curl -H 'X-Trace: 1' --oauth2-bearer x Bearer 7f9a1c0d2b3e4f56",
    "curl -H 'X-Trace: 1' --oauth2-bearer x Bearer [REDACTED:authorization]",
    ['authorization'],
  ],
  [
    'password in a database URL',
    'DATABASE_URL=postgres://orders:s3cr3t-P4ss@db.internal:5432/orders',
    'DATABASE_URL=postgres://orders:[REDACTED:url-password]@db.internal:5432/orders',
    ['url-password'],
  ],
  [
    'password in a redis URL with empty user',
    'redis://:hunter22@cache:6379/0',
    'redis://:[REDACTED:url-password]@cache:6379/0',
    ['url-password'],
  ],
  [
    'password=value',
    'login failed user=bob password=hunter2 ip=10.0.0.7',
    'login failed user=bob password=[REDACTED:secret] ip=10.0.0.7',
    ['secret'],
  ],
  [
    'secrets in a query string',
    'GET /oauth/callback?code=abc&access_token=ya29.a0AfH6SMB&state=xyz',
    'GET /oauth/callback?code=abc&access_token=[REDACTED:secret]&state=xyz',
    ['secret'],
  ],
  [
    'quoted logfmt value',
    'msg="connect" db_password="correct horse" retry=3',
    'msg="connect" db_password="[REDACTED:secret]" retry=3',
    ['secret'],
  ],
  [
    'JSON keys (camelCase, api key)',
    '{"user":"bob","clientSecret":"Zx9-QmR7","apiKey":"k-1234","x-api-key":"abcd"}',
    '{"user":"bob","clientSecret":"[REDACTED:secret]","apiKey":"[REDACTED:secret]","x-api-key":"[REDACTED:secret]"}',
    ['secret'],
  ],
  [
    'escaped JSON body inside a JSON log line',
    '{"request":{"body":"{\\"email\\":\\"a@b.io\\",\\"password\\":\\"hunter2\\"}"}}',
    '{"request":{"body":"{\\"email\\":\\"a@b.io\\",\\"password\\":\\"[REDACTED:secret]\\"}"}}',
    ['secret'],
  ],
  [
    'Python repr dict',
    "kwargs={'user': 'bob', 'passwd': 'pa55'}",
    "kwargs={'user': 'bob', 'passwd': '[REDACTED:secret]'}",
    ['secret'],
  ],
  [
    'YAML / header style',
    'client_secret: 4f8a9b2c1d\nX-Auth-Token: tok_live_123',
    'client_secret: [REDACTED:secret]\nX-Auth-Token: [REDACTED:secret]',
    ['secret'],
  ],
  [
    'Azure storage connection string',
    'AZURE_STORAGE=DefaultEndpointsProtocol=https;AccountName=ordersprod;AccountKey=Zm9vYmFyYmF6cXV4MTIz==;EndpointSuffix=core.windows.net',
    'AZURE_STORAGE=DefaultEndpointsProtocol=https;AccountName=ordersprod;AccountKey=[REDACTED:secret];EndpointSuffix=core.windows.net',
    ['secret'],
  ],
  [
    'MongoDB SRV URL with an encoded password',
    'MongoServerSelectionError: mongodb+srv://orders:p%40ss-w0rd@cluster0.ab1cd.mongodb.net/app',
    'MongoServerSelectionError: mongodb+srv://orders:[REDACTED:url-password]@cluster0.ab1cd.mongodb.net/app',
    ['url-password'],
  ],
  [
    'OpenSSH and PGP private keys',
    '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----\n' +
      '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF3jk2wBCAC5\n=abcd\n-----END PGP PRIVATE KEY BLOCK-----',
    '[REDACTED:private-key]\n[REDACTED:private-key]',
    ['private-key'],
  ],
  [
    'cookie headers',
    'Cookie: session=s%3Aabc123.xyz; theme=dark\nSet-Cookie: sid=9f8e7d6c; Path=/; HttpOnly',
    'Cookie: session=[REDACTED:secret]; theme=dark\nSet-Cookie: [REDACTED:secret]; Path=/; HttpOnly',
    ['secret'],
  ],
  [
    'PEM private key block',
    `key loaded:\n${PEM_LINES.join('\n')}\ndone`,
    'key loaded:\n[REDACTED:private-key]\ndone',
    ['private-key'],
  ],
  [
    'PEM in a JSON string with escaped newlines',
    JSON.stringify({ msg: 'tls', key: `${PEM_LINES.join('\n').replace('RSA ', 'EC ').replaceAll('RSA ', 'EC ')}\n` }),
    '{"msg":"tls","key":"[REDACTED:private-key]\\n"}',
    ['private-key'],
  ],
  [
    'truncated PEM',
    `-----BEGIN PRIVATE KEY-----\n${PEM_LINES[1]}\n${PEM_LINES[2]}\n[log truncated]`,
    '[REDACTED:private-key]\n[log truncated]',
    ['private-key'],
  ],
  [
    'Stripe and Google keys',
    'sk_live_4eC39HqLyjWDarjtT1zdp7dc AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q',
    '[REDACTED:stripe-key] [REDACTED:google-api-key]',
    ['stripe-key', 'google-api-key'],
  ],
  [
    'card numbers in a row or grouped, CVV and PIN by key',
    'charge failed card=4111111111111111 {"pan":"5500-0000-0000-0004","cvv":"123"} pin=0000 amex 3782 822463 10005',
    'charge failed card=[REDACTED:card-number] {"pan":"[REDACTED:card-number]","cvv":"[REDACTED:secret]"} pin=[REDACTED:secret] amex [REDACTED:card-number]',
    ['card-number', 'secret'],
  ],
  [
    'a token right after an escaped newline in a JSON string',
    '{"msg":"config:\\nghp_R2d2C3poR2d2C3poR2d2C3poR2d2C3po1234\\tpin=4321"}',
    '{"msg":"config:\\n[REDACTED:github-token]\\tpin=[REDACTED:secret]"}',
    ['github-token', 'secret'],
  ],
  [
    'a secret pair inside a harmless quoted logfmt value',
    'level=error msg="login failed password=hunter22 user=bob" retry=1',
    'level=error msg="login failed password=[REDACTED:secret] user=bob" retry=1',
    ['secret'],
  ],
  [
    'a JSON pair escaped twice (JSON in a JSON string in a JSON string)',
    JSON.stringify({ a: JSON.stringify({ b: JSON.stringify({ password: 'p\\"w"1', ok: 1 }) }) }),
    JSON.stringify({ a: JSON.stringify({ b: JSON.stringify({ password: '[REDACTED:secret]', ok: 1 }) }) }),
    ['secret'],
  ],
  [
    'an unterminated secret value (truncated line) up to the line end',
    '{"user":"bob","password":"hunter2 and more\nnext line',
    '{"user":"bob","password":"[REDACTED:secret]\nnext line',
    ['secret'],
  ],
];

const NEGATIVE: [string, string][] = [
  ['full commit SHA', 'fix landed in 9fceb02d0ae598e95dc970b74767f19372d61af8 (HEAD -> main)'],
  ['short SHAs', 'Merge 3e4f1a2 into b7c9d0e1f2a3'],
  [
    'sha256 image digest',
    'image ghcr.io/acme/orders@sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
  ],
  ['UUIDs', 'request_id=123e4567-e89b-12d3-a456-426614174000 trace 6f1c2a9e-0b7d-4c55-9d1e-3a8b7c6d5e4f'],
  ['ISO timestamps', '{"time":"2026-11-23T04:12:09.481Z","ts":1763871129481}'],
  ['IPs and ports', 'connect ECONNREFUSED 10.0.3.17:5432 from [::1]:53000'],
  ['tokenizer and token counts', 'tokenizer=bpe max_tokens=100 token_count: 42 prompt_tokens=17'],
  ['secret words in URL paths', 'POST /account/password_reset_url?email=bob%40example.com 302 /api/tokens/list'],
  ['prose about tokens', 'invalid token: expected 3 segments; password: required'],
  ['Authorization without a credential', 'authorization failed for user bob'],
  ['Bearer in prose', 'missing Bearer token in request'],
  ['ordinary base64-ish ids', 'order_id=b3JkZXItMTIzNDU2Nzg5MA trace_id=4bf92f3577b34da6a3ce929d0e0e4736'],
  ['URL with user but no password', 'git clone https://git@github.com/acme/orders.git and http://host:8080/path'],
  ['working directory from an env dump', 'PWD=/srv/pricing-api HOME=/root'],
  [
    'placeholders and already-redacted values',
    `password=$\{DB_PASSWORD} token=*** secret=[REDACTED:secret] "password": null`,
  ],
  [
    'Python traceback with secret-ish function names',
    '  File "/srv/auth/tokens.py", line 12, in refresh_token\n    return self.token_store.get(key)',
  ],
  [
    'public keys and certificates',
    '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----',
  ],
  [
    'code lines in a traceback',
    '    token=request.headers.get("X-Token")\n    db.connect(user=user, password=password)',
  ],
  [
    'numbers that are not card numbers',
    '{"ts":1763871129481,"latency":0.4111111111111111,"order":4111111111111112,"v":"1.4111111111111111"}',
  ],
  [
    'Node stack frames',
    '    at verifyPassword (/app/auth/password.js:14:9)\n    at async login (/app/routes/session.js:40:5)',
  ],
];

describe('redact', () => {
  for (const [name, input, expected, kinds] of POSITIVE) {
    it(`redacts: ${name}`, () => {
      const out = redact(input);
      expect(out.text).toBe(expected);
      expect([...out.kinds].sort()).toEqual([...kinds].sort());
      expect(out.count).toBe(expected.match(/\[REDACTED:/g)!.length - (input.match(/\[REDACTED:/g)?.length ?? 0));
    });
  }

  for (const [name, input] of NEGATIVE) {
    it(`leaves alone: ${name}`, () => {
      expect(redact(input)).toEqual({ text: input, count: 0, kinds: [] });
    });
  }

  it('redacts a realistic JSON log line completely and keeps it valid JSON', () => {
    const line = JSON.stringify({
      level: 50,
      time: '2026-11-23T04:12:09.481Z',
      msg: 'unhandled error',
      commit: '9fceb02d0ae598e95dc970b74767f19372d61af8',
      request: {
        method: 'POST',
        path: '/orders',
        headers: { authorization: `Bearer ${JWT}`, cookie: 'sid=s%3Aabc123.xyz' },
        body: JSON.stringify({ card: { number: '4242' }, password: 'hunter2', note: 'ok' }),
      },
      env: { DATABASE_URL: 'postgres://orders:s3cr3t@db:5432/orders', GITHUB_TOKEN: GHP },
      tls: PEM_LINES.join('\n'),
    });
    const out = redact(line);
    for (const secret of ['hunter2', 's3cr3t', GHP, JWT, 'MIIEpAIBAAKCAQEA', 'abc123'])
      expect(out.text).not.toContain(secret);
    const parsed = JSON.parse(out.text);
    expect(parsed.commit).toBe('9fceb02d0ae598e95dc970b74767f19372d61af8');
    expect(parsed.request.headers.authorization).toBe('Bearer [REDACTED:authorization]');
    expect(JSON.parse(parsed.request.body)).toEqual({
      card: { number: '4242' },
      password: '[REDACTED:secret]',
      note: 'ok',
    });
    expect(parsed.env.DATABASE_URL).toBe('postgres://orders:[REDACTED:url-password]@db:5432/orders');
    expect(parsed.tls).toBe('[REDACTED:private-key]');
    expect(out.count).toBe(6);
  });

  it('is idempotent and total', () => {
    const once = redact(`password=hunter2 ${GHP} Authorization: Bearer ${JWT}`);
    expect(redact(once.text)).toEqual({ text: once.text, count: 0, kinds: [] });
    expect(redact('')).toEqual({ text: '', count: 0, kinds: [] });
    expect(redact(undefined as unknown as string).text).toBe('');
  });

  it('stays fast on large and adversarial input', () => {
    const big = `${'{"level":30,"msg":"ok","id":"123e4567-e89b-12d3-a456-426614174000"}\n'.repeat(20_000)}password=x`;
    const started = performance.now();
    expect(redact(big).count).toBe(1);
    const adversarial = `${'"a": "'.repeat(5000)}${'\\'.repeat(5000)}${'-----BEGIN PRIVATE KEY-----'.repeat(200)}`;
    redact(adversarial);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('isSecretKey', () => {
  it('decides on the last word of the key', () => {
    for (const k of [
      'password',
      'DB_PASSWORD',
      'accessToken',
      'apiKey',
      'x-api-key',
      'client_secret',
      'aws_secret_access_key',
      'auth',
      'pwd',
      'cvv',
      'card_number',
      'cardNumber',
      'pin',
      'x-upstream-token',
      'private-token',
      'x-internal-auth',
      'api-key',
      'iban',
      'otp',
    ])
      expect([k, isSecretKey(k)]).toEqual([k, true]);
    for (const k of [
      'password_reset_url',
      'tokenizer',
      'max_tokens',
      'token_type',
      'author',
      'key',
      'secretary_name',
      'Authorization',
      'spin',
      'pinned',
      'card_type',
      'span',
    ])
      expect([k, isSecretKey(k)]).toEqual([k, false]);
  });
});
