/** Dockerfile facts for the policies: the base image (and its registry) of every stage, and the final USER. */
import { registryOf } from './kubernetes.ts';
import type { DockerfileFacts } from './types.ts';

/** The escape character set by a leading `# escape=` parser directive (BuildKit reads only the file's head). */
function escapeChar(lines: string[]): string {
  let char = '\\';
  for (const line of lines) {
    const m = /^#\s*([A-Za-z]+)\s*=\s*(\S*)\s*$/.exec(line);
    if (!m) break;
    if (m[1]!.toLowerCase() === 'escape' && (m[2] === '`' || m[2] === '\\')) char = m[2];
  }
  return char;
}

/**
 * The instructions of a Dockerfile as BuildKit splits them: continuation lines joined (with the file's
 * escape character), comments and blank lines dropped, heredoc bodies (`RUN <<EOF … EOF`) skipped so a
 * `USER` line inside one is not taken for an instruction.
 */
export function instructions(text: string): string[] {
  const lines = text.split(/\r?\n/);
  const continuation = escapeChar(lines);
  const out: string[] = [];
  let current = '';
  let heredocs: { word: string; strip: boolean }[] = [];
  for (const raw of lines) {
    if (heredocs.length > 0) {
      const { word, strip } = heredocs[0]!;
      if ((strip ? raw.replace(/^\t+/, '') : raw) === word) heredocs = heredocs.slice(1);
      continue;
    }
    const line = raw.trim();
    if (line.startsWith('#') || (current === '' && line === '')) continue;
    if (line.endsWith(continuation)) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    const ins = (current + line).trim();
    current = '';
    if (ins === '') continue;
    out.push(ins);
    heredocs = [...ins.matchAll(/<<(-?)(["']?)([A-Za-z_][\w-]*)\2/g)].map((m) => ({
      word: m[3]!,
      strip: m[1] === '-',
    }));
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

/** Expands $NAME, ${NAME}, ${NAME:-default}; null when a variable has no value (the build decides it). */
function substitute(value: string, vars: Map<string, string>): string | null {
  let unknown = false;
  const out = value.replace(/\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+)/g, (_m, a, fallback, b) => {
    const name = (a ?? b) as string;
    const v = vars.get(name) ?? (fallback as string | undefined);
    if (v === undefined) unknown = true;
    return v ?? '';
  });
  return unknown ? null : out;
}

/** NAME=value pairs of an ARG or ENV instruction (also the legacy `ENV NAME value`). */
function assignments(keyword: string, args: string): [string, string | undefined][] {
  if (keyword === 'ENV' && !/^[\w.-]+=/.test(args)) {
    const [name, ...rest] = args.split(/\s+/);
    return name ? [[name, rest.join(' ')]] : [];
  }
  return [...args.matchAll(/([\w.-]+)(?:=("[^"]*"|'[^']*'|\S*))?/g)].map((m) => [
    m[1]!,
    m[2] === undefined ? undefined : m[2].replace(/^["']|["']$/g, ''),
  ]);
}

export function parseDockerfile(text: string): DockerfileFacts {
  const globalArgs = new Map<string, string>();
  const stages: DockerfileFacts['stages'] = [];
  const stageUsers: (string | null)[] = [];
  let vars = new Map<string, string>();
  for (const ins of instructions(text)) {
    const [word = '', ...rest] = ins.split(/\s+/);
    const keyword = word.toUpperCase();
    const args = rest.join(' ');
    if (keyword === 'ARG' && stages.length === 0) {
      for (const [name, value] of assignments(keyword, args)) {
        if (value !== undefined) globalArgs.set(name, value);
      }
    } else if (keyword === 'FROM') {
      const tokens = rest.filter((t) => !t.startsWith('--'));
      const image = substitute(tokens[0] ?? '', globalArgs) ?? tokens[0] ?? '';
      const asIndex = tokens.findIndex((t) => t.toLowerCase() === 'as');
      const name = asIndex >= 0 ? (tokens[asIndex + 1] ?? null) : null;
      const parent = stages.findIndex((s) => s.name !== null && s.name.toLowerCase() === image.toLowerCase());
      const fromStage = parent >= 0 || image === 'scratch' || image === '';
      stages.push({ image, registry: fromStage ? null : registryOf(image), name });
      // A stage built on an earlier stage inherits that stage's USER.
      stageUsers.push(parent >= 0 ? (stageUsers[parent] ?? null) : null);
      vars = new Map();
    } else if ((keyword === 'ARG' || keyword === 'ENV') && stages.length > 0) {
      for (const [name, value] of assignments(keyword, args)) {
        const v = value === undefined ? globalArgs.get(name) : (substitute(value, vars) ?? undefined);
        if (v === undefined) vars.delete(name);
        else vars.set(name, v);
      }
    } else if (keyword === 'USER' && stages.length > 0) {
      const raw = args.trim();
      // A user only the build arguments decide stays as written: the rules cannot call it non-root.
      stageUsers[stageUsers.length - 1] = raw ? substitute(raw, vars) || raw : null;
    }
  }
  return { stages, user: stageUsers.length ? (stageUsers[stageUsers.length - 1] ?? null) : null };
}
