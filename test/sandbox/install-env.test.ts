/** What install gets from the host for a TLS-inspecting proxy: pure choices over the environment. */
import { describe, expect, it } from 'vitest';
import { CA_VARS, hostCaBundle, installEnv } from '../../src/sandbox/install-env.ts';

const exists = (present: string[]) => (p: string) => present.includes(p);

describe('host CA bundle for install', () => {
  it("SUTURE_CA_BUNDLE wins, `none` hands none, and a missing file is the operator's one-line error", () => {
    expect(hostCaBundle({ SUTURE_CA_BUNDLE: '/corp/ca.pem' }, exists(['/corp/ca.pem']))).toBe('/corp/ca.pem');
    expect(hostCaBundle({ SUTURE_CA_BUNDLE: 'none' }, exists(['/etc/ssl/certs/ca-certificates.crt']))).toBeNull();
    expect(() => hostCaBundle({ SUTURE_CA_BUNDLE: '/nope.pem' }, exists([]))).toThrow(
      /SUTURE_CA_BUNDLE names \/nope.pem, which is not a readable file/,
    );
  });

  it("then SSL_CERT_FILE, then the system's bundle, else none", () => {
    const system = '/etc/ssl/certs/ca-certificates.crt';
    expect(hostCaBundle({ SSL_CERT_FILE: '/x/bundle.pem' }, exists(['/x/bundle.pem', system]))).toBe('/x/bundle.pem');
    expect(hostCaBundle({ SSL_CERT_FILE: '/gone.pem' }, exists([system]))).toBe(system);
    expect(hostCaBundle({}, exists(['/etc/pki/tls/certs/ca-bundle.crt']))).toBe('/etc/pki/tls/certs/ca-bundle.crt');
    expect(hostCaBundle({}, exists([]))).toBeNull();
  });
});

describe('install environment', () => {
  it("copies the host's proxy variables as set, and nothing else of the host", () => {
    const env = installEnv(
      {
        HTTPS_PROXY: 'http://proxy.corp:3128',
        no_proxy: 'localhost,.corp',
        HTTP_PROXY: '',
        AWS_SECRET_ACCESS_KEY: 'do-not-pass',
        PATH: '/host/bin',
      },
      null,
    );
    expect(env).toEqual({ HTTPS_PROXY: 'http://proxy.corp:3128', no_proxy: 'localhost,.corp' });
  });

  it("points every tool's CA variable at the copied bundle (pip, requests, OpenSSL, curl, git, Node, npm)", () => {
    const env = installEnv({}, '/opt/suture-in/ca-bundle.pem');
    expect(Object.keys(env).sort()).toEqual([...CA_VARS].sort());
    expect(new Set(Object.values(env))).toEqual(new Set(['/opt/suture-in/ca-bundle.pem']));
    // the ones pip and npm read in particular
    expect(CA_VARS).toEqual(expect.arrayContaining(['PIP_CERT', 'REQUESTS_CA_BUNDLE', 'npm_config_cafile']));
  });
});
