/**
 * Remote-facing decisions, pure: which origin URLs suture will talk to, which bits of the repository's
 * config it carries along as data, and how a failed push or ls-remote is told to a human in one line.
 */

/** `git config --null --list`: `key\nvalue\0` entries (`key\0` for a bare boolean); keys as git prints them. */
export function parseConfigList(text: string): Map<string, string[]> {
  const config = new Map<string, string[]>();
  for (const entry of text.split('\0')) {
    if (entry === '') continue;
    const nl = entry.indexOf('\n');
    const key = nl < 0 ? entry : entry.slice(0, nl);
    const value = nl < 0 ? 'true' : entry.slice(nl + 1);
    config.set(key, [...(config.get(key) ?? []), value]);
  }
  return config;
}

/**
 * The extra HTTP headers the repository's config sets (`http.<url>.extraheader`): how actions/checkout
 * hands a job its token. They are data sent to the matching URL, never a program, so they are carried over;
 * nothing else from the repository's config is.
 */
export function extraHeaders(config: Map<string, string[]>): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, values] of config) {
    if (!/^http\.(?:.+\.)?extraheader$/i.test(key)) continue;
    for (const v of values) if (!/[\r\n\0]/.test(v)) out.push([key, v]);
  }
  return out;
}

const SCHEMES = new Set(['http', 'https', 'ssh', 'git', 'git+ssh', 'ssh+git', 'file']);

export type RemoteAddress = { kind: 'url'; scheme: string } | { kind: 'scp' } | { kind: 'local'; path: string };

/** How git reads an address (transport.c): `helper::…`, `scheme://…`, a local path, or scp-like `host:path`. */
export function parseRemoteAddress(url: string): RemoteAddress | { kind: 'refused'; reason: string } {
  if (url === '') return { kind: 'refused', reason: 'it is empty' };
  if (/[\u0000-\u001f\u007f]/.test(url)) return { kind: 'refused', reason: 'it contains control characters' };
  if (url.startsWith('-')) return { kind: 'refused', reason: 'it starts with "-"' };
  const helper = /^([A-Za-z0-9][A-Za-z0-9+.-]*)::/.exec(url);
  if (helper) return { kind: 'refused', reason: `it names a remote helper (${helper[1]}::), a program` };
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);
  if (scheme) {
    const name = scheme[1]!.toLowerCase();
    if (!SCHEMES.has(name)) return { kind: 'refused', reason: `${name}:// is not a transport suture uses` };
    if (name === 'file') return { kind: 'local', path: decodeURIComponent(url.slice('file://'.length)) };
    return { kind: 'url', scheme: name };
  }
  const colon = url.indexOf(':');
  const slash = url.indexOf('/');
  if (colon < 0 || (slash >= 0 && slash < colon)) return { kind: 'local', path: url };
  return { kind: 'scp' };
}

/** Hides the password (or token) of `scheme://user:secret@host` addresses in text meant for humans. */
export function redactUrls(text: string): string {
  return text.replace(/(\b[A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@\s]*@/g, '$1***@');
}

export type GitFailureKind =
  | 'protected-branch'
  | 'non-fast-forward'
  | 'authentication'
  | 'not-found'
  | 'unreachable'
  | 'timeout'
  | 'other';

export interface GitFailure {
  kind: GitFailureKind;
  /** Worth another attempt: the network, not the request, failed. */
  transient: boolean;
  /** The line of git's output that says what happened (prefixes and URL credentials removed). */
  line: string;
}

// Most specific first: a protected branch is also "[remote rejected]", an ssh refusal also ends in
// "Could not read from remote repository".
const KINDS: [Exclude<GitFailureKind, 'timeout' | 'other'>, RegExp][] = [
  [
    'protected-branch',
    /protected branch|GH006|GH013|rule violations|not allowed to (?:force )?push|hook declined|push declined|denied to update|refusing to update checked out|deny(?:Current|NonFastforwards|Deletes)|TF402455|pushes to this branch are not permitted|only be modified through pull requests/i,
  ],
  [
    'non-fast-forward',
    /non-fast-forward|\(fetch first\)|\(stale info\)|updates were rejected|\[rejected\]|cannot lock ref/i,
  ],
  [
    'authentication',
    /authentication failed|could not read (?:username|password)|terminal prompts disabled|permission denied|permission to \S+ denied|write access to repository not granted|invalid (?:username|credentials)|access denied|\b40[13]\b|unauthori[sz]ed|forbidden|host key verification failed|no credential/i,
  ],
  ['not-found', /does not appear to be a git repository|repository .*not found|\b404\b|no such file or directory/i],
  [
    'unreachable',
    /could not resolve|connection (?:refused|reset|timed out|closed)|network is unreachable|no route to host|failed to connect|could not connect|timed out|hung up|early eof|rpc failed|\b50[0-9]\b|unable to access|could not read from remote/i,
  ],
];

const LABEL: Record<GitFailureKind, string> = {
  'protected-branch': 'the remote refused the update (protected branch or server hook)',
  'non-fast-forward': 'the remote branch moved on (non-fast-forward)',
  authentication: 'authentication failed',
  'not-found': 'no repository at that address',
  unreachable: 'remote unreachable',
  timeout: 'remote unreachable (no answer before the timeout)',
  other: 'git failed',
};

function clean(line: string): string {
  return redactUrls(line.replace(/^\s*(?:error|fatal|remote|hint|warning):\s*/i, '').trim());
}

export function classifyGitFailure(stderr: string, timedOut = false): GitFailure {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (timedOut) return { kind: 'timeout', transient: false, line: clean(lines[0] ?? '') };
  for (const [kind, re] of KINDS) {
    const hit = lines.find((l) => re.test(l));
    if (hit) return { kind, transient: kind === 'unreachable', line: clean(hit) };
  }
  return { kind: 'other', transient: false, line: clean(lines[0] ?? '') };
}

/** One line: what kind of failure, then git's own words. */
export function describeGitFailure(f: GitFailure): string {
  return f.line ? `${LABEL[f.kind]}: ${f.line}` : LABEL[f.kind];
}
