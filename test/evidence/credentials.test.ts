/**
 * One secret detector (issue 10, item 10): log redaction and the policy's secret scan read the same table
 * of known credential formats, so every format one of them knows, the other knows too. Each format has an
 * example here (a format added to the table without one fails the first test); the examples are built from
 * pieces so that no credential-shaped literal sits in the repository.
 */
import { describe, expect, it } from 'vitest';
import { CREDENTIAL_FORMATS, findCredential } from '../../src/evidence/credentials.ts';
import { redact } from '../../src/evidence/redact.ts';
import { findSecrets } from '../../src/policy/secrets.ts';

const run = (unit: string, n: number) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
const ALNUM = 'Ab3dE5gH7jK9mN2pQ4sT6vW8yZ0cF1';

/** kind → [examples as they appear in a line, the part that must not survive redaction]. */
const EXAMPLES: Record<string, [string, string][]> = {
  'private-key': [
    ['-----BEGIN ' + 'PRIVATE KEY-----', 'PRIVATE KEY'],
    ['-----BEGIN OPENSSH ' + 'PRIVATE KEY-----', 'OPENSSH'],
    ['-----BEGIN ENCRYPTED ' + 'PRIVATE KEY-----', 'ENCRYPTED'],
  ],
  'slack-webhook': [
    [`https://hooks.slack.com/services/T0${run(ALNUM, 8)}/B0${run(ALNUM, 8)}/${run(ALNUM, 24)}`, run(ALNUM, 24)],
    [`https://hooks.slack.com/workflows/T0${run(ALNUM, 8)}/A0${run(ALNUM, 8)}/${run(ALNUM, 20)}`, run(ALNUM, 20)],
  ],
  'url-password': [['postgres://app:' + 's3cr3tpass' + '@db:5432/app', 's3cr3tpass']],
  jwt: [[`eyJ${run(ALNUM, 20)}.eyJ${run(ALNUM, 30)}.${run(ALNUM, 43)}`, run(ALNUM, 43)]],
  'aws-secret-key': [
    [`aws_secret_access_key = ${run(`${ALNUM}/+`, 40)}`, run(`${ALNUM}/+`, 40)],
    [`"SecretAccessKey": "${run(ALNUM, 40)}"`, run(ALNUM, 40)],
  ],
  'aws-access-key': ['AKIA', 'ASIA', 'ABIA', 'ACCA', 'AGPA', 'AIDA', 'AROA', 'AIPA', 'ANPA', 'ANVA'].map((p) => [
    `${p}Q7XK2M4N6P8R3T5V`,
    `${p}Q7XK2M4N6P8R3T5V`,
  ]),
  'github-token': [
    ...['ghp', 'gho', 'ghu', 'ghs', 'ghr'].map((p): [string, string] => [`${p}_${run(ALNUM, 36)}`, run(ALNUM, 36)]),
    // Fine-grained tokens as GitHub issues them, and with a shorter body (still nobody's word).
    [`github_pat_11${run(ALNUM, 20)}_${run(ALNUM, 59)}`, run(ALNUM, 59)],
    [`github_pat_${run(ALNUM, 30)}`, run(ALNUM, 30)],
  ],
  'gitlab-token': ['glpat', 'gldt', 'glrt', 'glptt', 'glsoat', 'gloas'].map((p) => [
    `${p}-${run(ALNUM, 20)}`,
    run(ALNUM, 20),
  ]),
  'slack-token': [
    [`xoxb-1234567890-${run(ALNUM, 24)}`, run(ALNUM, 24)],
    [`xapp-1-A0${run(ALNUM, 10)}-${run(ALNUM, 30)}`, run(ALNUM, 30)],
  ],
  'stripe-key': [
    [`sk_live_${run(ALNUM, 24)}`, run(ALNUM, 24)],
    [`rk_test_${run(ALNUM, 16)}`, run(ALNUM, 16)],
  ],
  'google-api-key': [[`AIza${run(`${ALNUM}_-`, 35)}`, run(`${ALNUM}_-`, 35)]],
  'npm-token': [[`npm_${run(ALNUM, 36)}`, run(ALNUM, 36)]],
  'openai-key': [
    [`sk-${run(ALNUM, 48)}`, run(ALNUM, 48)],
    [`sk-proj-${run(`${ALNUM}_-`, 120)}`, run(`${ALNUM}_-`, 120)],
  ],
};

const scan = (line: string) =>
  findSecrets('app/settings.py', [{ line: 7, text: line }], { entropyThreshold: 4.5, entropyCheck: false });

describe('one table of credential formats', () => {
  it('has examples for every format (and no example without a format)', () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual(CREDENTIAL_FORMATS.map((f) => f.kind).sort());
  });

  for (const format of CREDENTIAL_FORMATS) {
    describe(format.kind, () => {
      for (const [example, secret] of EXAMPLES[format.kind] ?? []) {
        for (const line of [`value = "${example}"`, `log: using ${example}, retrying`, `{"msg":"\\n${example}"}`]) {
          it(`redaction and the policy both see it in ${JSON.stringify(line.slice(0, 60))}`, () => {
            const red = redact(line);
            expect(red.kinds).toContain(format.kind);
            expect(red.text).not.toContain(secret);
            const facts = scan(line);
            expect(facts).toHaveLength(1);
            expect(facts[0]).toMatchObject({ path: 'app/settings.py', line: 7, kind: format.label });
            // The fact quotes four characters at most, never the credential.
            expect(facts[0]!.redacted).not.toContain(secret);
          });
        }
      }
    });
  }

  it('the drift the two copies had is gone', () => {
    // AWS prefixes, GitHub and Stripe lengths, Slack app tokens, GitLab deploy tokens: the policy missed them.
    for (const line of [
      'k = "ABIAQ7XK2M4N6P8R3T5V"',
      `t = "github_pat_${run(ALNUM, 30)}"`,
      `s = "sk_live_${run(ALNUM, 16)}"`,
      `a = "xapp-1-A0${run(ALNUM, 10)}-${run(ALNUM, 30)}"`,
      `d = "gldt-${run(ALNUM, 20)}"`,
    ]) {
      expect(scan(line), line).toHaveLength(1);
    }
    // OpenAI keys: redaction missed them.
    expect(redact(`OPENAI=sk-proj-${run(ALNUM, 64)}`).kinds).toContain('openai-key');
  });

  it('placeholders and look-alikes are neither redacted as a format nor reported', () => {
    for (const line of [
      'url = "redis://:$' + '{REDIS_PASSWORD}@cache:6379/0"',
      'url = "https://user:<password>@example.com/"',
      'class Name = "sk-learn-a-very-long-kebab-case-identifier-name"',
      'commit = "3f786850e387550fdab836ed7e6dc881de23001b"',
      'ask-for-a-very-long-kebab-case-identifier-name-here',
    ]) {
      expect(findCredential(line), line).toBeUndefined();
      expect(scan(line), line).toEqual([]);
    }
  });
});
