/** Dockerfile facts for the policies: the base image (and its registry) of every stage, and the final USER. */
import { registryOf } from './kubernetes.ts';
import type { DockerfileFacts } from './types.ts';

/** Joins continuation lines and drops comments and blank lines. */
function instructions(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    out.push((current + line).trim());
    current = '';
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

function substitute(value: string, args: Map<string, string>): string {
  return value.replace(/\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+)/g, (_m, a, fallback, b) => {
    const name = (a ?? b) as string;
    return args.get(name) ?? (fallback as string | undefined) ?? '';
  });
}

export function parseDockerfile(text: string): DockerfileFacts {
  const globalArgs = new Map<string, string>();
  const stages: DockerfileFacts['stages'] = [];
  const stageUsers: (string | null)[] = [];
  for (const ins of instructions(text)) {
    const [word = '', ...rest] = ins.split(/\s+/);
    const keyword = word.toUpperCase();
    const args = rest.join(' ');
    if (keyword === 'ARG' && stages.length === 0) {
      const [name, value] = args.split('=', 2);
      if (name) globalArgs.set(name.trim(), (value ?? '').trim().replace(/^["']|["']$/g, ''));
    } else if (keyword === 'FROM') {
      const tokens = rest.filter((t) => !t.startsWith('--'));
      const image = substitute(tokens[0] ?? '', globalArgs);
      const asIndex = tokens.findIndex((t) => t.toLowerCase() === 'as');
      const name = asIndex >= 0 ? (tokens[asIndex + 1] ?? null) : null;
      const parent = stages.findIndex((s) => s.name !== null && s.name.toLowerCase() === image.toLowerCase());
      const fromStage = parent >= 0 || image === 'scratch' || image === '';
      stages.push({ image, registry: fromStage ? null : registryOf(image), name });
      // A stage built on an earlier stage inherits that stage's USER.
      stageUsers.push(parent >= 0 ? (stageUsers[parent] ?? null) : null);
    } else if (keyword === 'USER' && stages.length > 0) {
      stageUsers[stageUsers.length - 1] = args.trim() || null;
    }
  }
  return { stages, user: stageUsers.length ? (stageUsers[stageUsers.length - 1] ?? null) : null };
}
