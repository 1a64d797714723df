/**
 * Whether a model's answer obeys instructions injected through the evidence. Pure.
 *
 * Logs, request bodies, exception messages and commit messages are data, but a model can be talked into
 * following them ("to fix this, add `os.system(…)`", "include this line verbatim"). Two rules recognise the
 * answers that did, whatever the wording of the injection:
 *
 * 1. Capabilities. A crash fix guards, validates or corrects data flow; it never needs to run processes,
 *    reach the network, evaluate code, deserialise unsafe formats, read the environment, write files, read
 *    absolute paths or obfuscate strings — exactly what an injected payload wants. A candidate is refused when a line it adds
 *    uses one of these (in comment-free code), or when a file's use of one grows. Its regression test may
 *    use only capabilities that the repository's existing tests already use (an HTTP-level test may
 *    `fetch` when the suite does).
 * 2. Provenance. Code the model could only have copied from the untrusted evidence is transcription, not
 *    repair: a candidate is refused when its added code (comments dropped, whitespace collapsed) contains a
 *    run of RUN_CHARS or more characters that occurs in the untrusted text the prompt carried and that the
 *    repository does not contain. Text the traceback quotes from the repo's own code is in the repo and
 *    stays allowed; a regression test's string literals (the failing request replayed as data) are exempt.
 */
import { diffLines } from 'diff';
import type { Language } from '../../../incident/types.ts';

export interface Capability {
  name: string;
  patterns: RegExp[];
}

const IMPORT = String.raw`(?:require\s*\(|from\s+|import\s*\(?)\s*['"](?:node:)?`;

export const CAPABILITIES: Capability[] = [
  {
    name: 'process execution',
    patterns: [
      /\bsubprocess\b/,
      /\bos\s*\.\s*(?:system|popen|exec[lv]p?e?|spawn[lv]p?e?|posix_spawnp?|fork|forkpty|kill|killpg)\b/,
      /\bpty\s*\.\s*spawn\b/,
      /\bcommands\s*\.\s*getoutput/,
      /\bshell\s*=\s*True\b/,
      /\bchild_process\b/,
      /(?<![\w.$])(?:execSync|execFileSync|spawnSync|execFile|spawn|fork)\s*\(/,
      // The method names whatever object they hang on (`import os as o; o.system(…)`).
      /\.\s*(?:system|popen2?|spawn[lv]?p?e?|posix_spawnp?|getoutput|getstatusoutput|check_output|check_call)\s*\(/,
      /\bfrom\s+(?:os|posix|nt)\s+import\b[^\n]*\b(?:system|popen|exec\w*|spawn\w*|posix_spawn\w*|fork\w*|kill\w*)\b/,
      /\bimport\s+(?:pty|posix|nt)\b/,
      /\bprocess\s*\.\s*(?:binding|_linkedBinding|dlopen|kill)\b/,
      /\bDeno\s*\.\s*(?:run|Command)\b/,
      /\bBun\s*\.\s*spawn/,
    ],
  },
  {
    name: 'network access',
    patterns: [
      /\bimport\s+socket\b/,
      /\bsocket\s*\.\s*(?:socket|create_connection)\b/,
      /\burllib\d?\b/,
      /\bhttp\s*\.\s*client\b/,
      /\b(?:httplib2?|httpx|aiohttp|ftplib|smtplib|telnetlib|paramiko|xmlrpc|pycurl)\b/,
      /\b(?:import|from)\s+requests\b/,
      /\brequests\s*\.\s*(?:get|post|put|patch|delete|head|request|Session)\b/,
      /(?<![\w.$])fetch\s*\(/,
      /\b(?:XMLHttpRequest|WebSocket|EventSource|axios|undici|node-fetch|superagent)\b/,
      new RegExp(`${IMPORT}(?:https?|http2|net|dgram|tls|dns)['"]`),
      /\bnavigator\s*\.\s*sendBeacon\b/,
    ],
  },
  {
    name: 'dynamic code',
    patterns: [
      /(?<![\w.$])(?:eval|exec|execfile|compile)\s*\(/,
      /\b__import__\b/,
      /\bimportlib\b/,
      /\brunpy\b/,
      /(?<![\w.$])(?:new\s+)?Function\s*\(/,
      /\bvm\s*\.\s*(?:run\w*|Script|compileFunction|SourceTextModule)\b/,
      new RegExp(`${IMPORT}vm['"]`),
      /\bset(?:Timeout|Interval|Immediate)\s*\(\s*['"`]/,
      /(?<![\w.$])import\s*\(\s*[^'"`\s)]/,
      /\brequire\s*\(\s*[^'"`\s)]/,
    ],
  },
  {
    name: 'unsafe deserialisation',
    patterns: [
      /\b(?:c?[pP]ickle|marshal|shelve|dill|jsonpickle)\b/,
      /\byaml\s*\.\s*(?:load|load_all|unsafe_load|full_load)\s*\(/,
      /\bnode-serialize\b/,
    ],
  },
  {
    name: 'environment access',
    patterns: [
      /\bos\s*\.\s*(?:environ|getenv|putenv|unsetenv)\b/,
      /\bprocess\s*\.\s*env\b/,
      /\bprocess\s*\[\s*['"`]env['"`]\s*\]/,
      /\bfrom\s+os\s+import\b[^\n]*\b(?:environ|getenv|putenv)\b/,
      /\bDeno\s*\.\s*env\b/,
      /\bimport\s*\.\s*meta\s*\.\s*env\b/,
    ],
  },
  {
    name: 'file-system access',
    patterns: [
      // Reads of absolute paths and of places where secrets live, e.g. to echo them into a response.
      /\bopen\s*\(\s*(?:f|r|rb|b)?['"]\//,
      /(?<![\w$])read(?:File|FileSync|_text|_bytes)\s*\(\s*['"`]\//,
      /['"`]\/(?:etc|proc|root|run\/secrets|var\/run\/secrets|dev\/tcp)\//,
      /\bfrom\s+os\s+import\b[^\n]*\b(?:remove|unlink|rmdir|removedirs|rename|replace|chmod|chown|symlink|link|truncate)\b/,
      /\bopen\s*\([^)]*['"][wax][bt+]*['"]/,
      /\bfs(?:\/promises)?\s*\.\s*(?:write|append|unlink|rm|rmdir|rename|chmod|chown|symlink|link|copyFile|cp|truncate|createWriteStream)\w*/,
      /(?<![\w.$])(?:writeFile|writeFileSync|appendFile|appendFileSync|unlink|unlinkSync|rmSync|createWriteStream)\s*\(/,
      /\bshutil\s*\.\s*(?:rmtree|move|copy\w*|chown)\b/,
      /\bos\s*\.\s*(?:remove|unlink|rmdir|removedirs|rename|replace|chmod|chown|symlink|link|truncate)\b/,
      /\.\s*(?:write_text|write_bytes|unlink|rmdir|chmod|symlink_to|hardlink_to)\s*\(/,
    ],
  },
  {
    name: 'obfuscation or introspection',
    patterns: [
      /\bbase64\b/,
      /(?<![\w.$])atob\s*\(/,
      /\bBuffer\s*\.\s*from\s*\([^)]*['"](?:base64|base64url|hex)['"]/,
      /\bcodecs\s*\.\s*decode\b/,
      /\bString\s*\.\s*fromCharCode\b/,
      /(?:\\x[0-9a-fA-F]{2}){4,}/,
      /(?:\\u[0-9a-fA-F]{4}){4,}/,
      /\b__(?:builtins|subclasses|globals|code|loader)__\b/,
      /\bbuiltins\b/,
      /\bgetattr\s*\(\s*(?:os|sys|subprocess|socket)\b/,
      /\bglobals\s*\(\s*\)\s*\[/,
      /\bctypes\b/,
      /\bsys\s*\.\s*modules\b/,
      /\b__dict__\b/,
      /\bvars\s*\(\s*(?:os|sys|subprocess|builtins)\s*\)/,
      /\bgetattr\s*\([^)\n]*['"]\s*\+/,
      /\bimport\s+(?:os|subprocess|sys)\s+as\b/,
      /\bprocess\s*\.\s*mainModule\b/,
      /\bmodule\s*\.\s*(?:require|constructor)\b/,
      /\bglobalThis\s*\.\s*process\b/,
      /\bconstructor\s*\.\s*constructor\b/,
      /\[\s*['"`]constructor['"`]\s*\]/,
      /\bglobalThis\s*\[/,
    ],
  },
];

/**
 * The text with comments removed and, when `literals` is false, the contents of string literals emptied
 * (quotes kept). A small scanner, not a parser: good enough to tell code from prose in a few lines.
 */
export function codeOnly(text: string, language: Language, opts: { literals: boolean }): string {
  let out = '';
  let i = 0;
  const n = text.length;
  const py = language === 'python';
  while (i < n) {
    const c = text[i]!;
    const two = text.slice(i, i + 2);
    if (py ? c === '#' : two === '//') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (!py && two === '/*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
      out += ' ';
      continue;
    }
    const triple = py ? text.slice(i, i + 3) : '';
    const quote = triple === '"""' || triple === "'''" ? triple : c === '"' || c === "'" || (!py && c === '`') ? c : '';
    if (!quote) {
      out += c;
      i++;
      continue;
    }
    // A string literal: copy it or just its quotes. A one-quote Python/JS string ends at a newline too.
    let j = i + quote.length;
    while (j < n && !text.startsWith(quote, j) && !(quote.length === 1 && quote !== '`' && text[j] === '\n')) {
      j += text[j] === '\\' ? 2 : 1;
    }
    const close = text.startsWith(quote, j) ? j + quote.length : j;
    out += opts.literals ? text.slice(i, close) : quote + quote;
    i = close;
  }
  return out;
}

function matches(text: string, re: RegExp): number {
  return text.match(new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`))?.length ?? 0;
}

/** `name (pattern text)` of every capability used in `text`. */
export function capabilitiesIn(text: string): { name: string; example: string }[] {
  const found: { name: string; example: string }[] = [];
  for (const cap of CAPABILITIES) {
    for (const re of cap.patterns) {
      const m = re.exec(text);
      if (m) found.push({ name: cap.name, example: m[0].trim().slice(0, 40) });
    }
  }
  return found;
}

/** The lines of AFTER that are not in BEFORE (a line diff), joined. */
export function addedLines(before: string, after: string): string {
  return diffLines(before, after)
    .filter((p) => p.added)
    .map((p) => p.value)
    .join('\n');
}

/**
 * Why changing BEFORE into AFTER (one source file) adds a capability, or undefined: an added line uses one,
 * or the file's use of one grows.
 */
export function capabilityAdded(path: string, before: string, after: string, language: Language): string | undefined {
  const strip = (t: string) => codeOnly(t, language, { literals: true });
  const added = capabilitiesIn(strip(addedLines(before, after)));
  if (added[0]) return `the change of ${path} adds ${added[0].name} (${added[0].example})`;
  const [b, a] = [strip(before), strip(after)];
  for (const cap of CAPABILITIES) {
    for (const re of cap.patterns) {
      if (matches(a, re) > matches(b, re)) return `the change of ${path} adds ${cap.name}`;
    }
  }
  return undefined;
}

/** Why a new test adds a capability none of the repository's tests (`existing`) uses, or undefined. */
export function testCapabilityAdded(
  path: string,
  content: string,
  existing: string[],
  language: Language,
): string | undefined {
  const strip = (t: string) => codeOnly(t, language, { literals: true });
  const baseline = existing.map(strip);
  for (const cap of CAPABILITIES) {
    for (const re of cap.patterns) {
      const m = re.exec(strip(content));
      if (m && !baseline.some((t) => re.test(t))) {
        return `the regression test ${path} uses ${cap.name} (${m[0].trim().slice(0, 40)}), which no test of the repository does`;
      }
    }
  }
  return undefined;
}

/** Minimum length of a copied run that counts (after whitespace is collapsed). */
export const RUN_CHARS = 40;

const collapse = (t: string) => t.replace(/\s+/g, ' ');

/** One level of JSON/JS string escaping undone, for text that sat in a JSON log line or body. */
function unescapeOnce(t: string): string {
  return t.replace(/\\(["\\/bfnrt])/g, (_, ch: string) =>
    ch === 'n' ? '\n' : ch === 't' ? '\t' : ch === 'r' ? '\r' : ch === 'b' || ch === 'f' ? ' ' : ch,
  );
}

/**
 * The untrusted corpus: each text as sent and with one and two levels of escaping undone, whitespace
 * collapsed, as the set of its RUN_CHARS-long windows.
 */
export function untrustedWindows(untrusted: string[]): Set<string> {
  const windows = new Set<string>();
  for (const raw of untrusted) {
    const once = unescapeOnce(raw);
    for (const t of new Set([raw, once, unescapeOnce(once)])) {
      const c = collapse(t);
      for (let i = 0; i + RUN_CHARS <= c.length; i++) windows.add(c.slice(i, i + RUN_CHARS));
    }
  }
  return windows;
}

/** Maximal runs of `code` (collapsed) made of windows that occur in the untrusted corpus. */
export function copiedRuns(code: string, windows: Set<string>): string[] {
  const c = collapse(code);
  const runs: string[] = [];
  let start = -1;
  let end = -1;
  for (let i = 0; i + RUN_CHARS <= c.length; i++) {
    if (!windows.has(c.slice(i, i + RUN_CHARS))) continue;
    if (start !== -1 && i <= end) end = i + RUN_CHARS;
    else {
      if (start !== -1) runs.push(c.slice(start, end));
      start = i;
      end = i + RUN_CHARS;
    }
  }
  if (start !== -1) runs.push(c.slice(start, end));
  return runs.filter((r) => r.trim().length >= RUN_CHARS);
}

/** Whether every RUN_CHARS-window of `run` occurs in one of the repository texts (collapsed). */
export function inRepo(run: string, repoTexts: string[]): boolean {
  if (repoTexts.some((t) => t.includes(run))) return true;
  for (let i = 0; i + RUN_CHARS <= run.length; i++) {
    const w = run.slice(i, i + RUN_CHARS);
    if (!repoTexts.some((t) => t.includes(w))) return false;
  }
  return true;
}

/** The code a candidate adds, as the provenance rule reads it: comments dropped; test literals emptied. */
export function addedCode(
  edits: { before?: string; after: string }[],
  test: { after: string },
  language: Language,
): string {
  const parts = edits.map((e) => codeOnly(addedLines(e.before ?? '', e.after), language, { literals: true }));
  parts.push(codeOnly(test.after, language, { literals: false }));
  return parts.join('\n');
}

export const collapseWhitespace = collapse;
