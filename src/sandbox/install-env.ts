/**
 * What the prepare phase's `install` gets from the host so package managers work behind a corporate proxy
 * that inspects TLS: the host's proxy variables and the host's trusted CA bundle (copied into the install
 * container, never mounted). Both are the operator's (the suture process's environment), never suture.yaml's:
 * a repository must not point its own install at a proxy or a CA. They reach the install step only, through
 * the driver's plan, so they are neither in the container's configuration nor in the prepared image.
 * Pure: the environment and a file-existence check are passed in.
 */
import { SutureError } from '../errors.ts';

/** Proxy variables copied from the host when set (curl, pip, npm, git and uv read these names). */
export const PROXY_VARS = [
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
  'NO_PROXY',
  'no_proxy',
  'ALL_PROXY',
  'all_proxy',
] as const;

/** Where distributions keep the system bundle (Debian/Ubuntu/Alpine, Fedora/RHEL, macOS/BSD, openSUSE). */
export const SYSTEM_CA_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/cert.pem',
  '/etc/ssl/ca-bundle.pem',
];

/**
 * The host CA bundle to hand to install: SUTURE_CA_BUNDLE (a PEM file; `none` hands none), else the file in
 * SSL_CERT_FILE, else the first system bundle that exists; null when there is none. A named file that does
 * not exist is the operator's mistake: one clear line.
 */
export function hostCaBundle(env: NodeJS.ProcessEnv, exists: (path: string) => boolean): string | null {
  const wanted = env.SUTURE_CA_BUNDLE?.trim();
  if (wanted === 'none') return null;
  if (wanted) {
    if (!exists(wanted)) {
      throw new SutureError('BAD_CONFIG', `SUTURE_CA_BUNDLE names ${wanted}, which is not a readable file`);
    }
    return wanted;
  }
  const ssl = env.SSL_CERT_FILE?.trim();
  if (ssl && exists(ssl)) return ssl;
  return SYSTEM_CA_BUNDLES.find(exists) ?? null;
}

/** The CA variables the usual tools read: OpenSSL/Python/uv, requests/pip/poetry, curl, git, Node/npm/yarn. */
export const CA_VARS = [
  'SSL_CERT_FILE',
  'REQUESTS_CA_BUNDLE',
  'PIP_CERT',
  'CURL_CA_BUNDLE',
  'GIT_SSL_CAINFO',
  'NODE_EXTRA_CA_CERTS',
  'npm_config_cafile',
] as const;

/**
 * The install step's extra environment: the host's proxy variables, and, when a bundle is in the container
 * at `caPath`, every CA variable of CA_VARS pointed at it.
 */
export function installEnv(env: NodeJS.ProcessEnv, caPath: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PROXY_VARS) {
    const v = env[name];
    if (v !== undefined && v !== '') out[name] = v;
  }
  if (caPath) for (const name of CA_VARS) out[name] = caPath;
  return out;
}
