/** Command-line arguments split into options (with their values) and positionals, per a runner's option table. */

export interface ArgItem {
  /** The option's name (`--config`, `-k`), absent for a positional. */
  opt?: string;
  /** The option's value, or the positional itself. */
  value?: string;
  /** The words as given (one or two), for re-emitting a kept option unchanged. */
  words: string[];
  /** Set on positionals given unquoted with glob characters: the shell expands them. */
  shellGlob?: boolean;
}

export interface OptionTable {
  /** Options that take the next word as their value (unless given as `--opt=value` or `-kvalue`). */
  value: Set<string>;
  /** Options whose value is optional (argparse `nargs='?'`): the next word is theirs unless it starts with `-`. */
  optional?: Set<string>;
}

export function parseArgs(words: { text: string; shellGlob?: boolean }[], table: OptionTable): ArgItem[] {
  const out: ArgItem[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!.text;
    if (w === '--') {
      for (const rest of words.slice(i + 1)) {
        out.push({ value: rest.text, words: [rest.text], ...(rest.shellGlob ? { shellGlob: true } : {}) });
      }
      break;
    }
    if (w.startsWith('--') && w.includes('=')) {
      const eq = w.indexOf('=');
      out.push({ opt: w.slice(0, eq), value: w.slice(eq + 1), words: [w] });
      continue;
    }
    if (w.startsWith('-') && w.length > 1) {
      if (table.value.has(w) && i + 1 < words.length) {
        out.push({ opt: w, value: words[i + 1]!.text, words: [w, words[i + 1]!.text] });
        i++;
        continue;
      }
      if (table.optional?.has(w)) {
        const next = words[i + 1]?.text;
        if (next !== undefined && !next.startsWith('-')) {
          out.push({ opt: w, value: next, words: [w, next] });
          i++;
        } else out.push({ opt: w, words: [w] });
        continue;
      }
      // `-kexpr`: a short option with its value attached.
      const short = w.slice(0, 2);
      if (!w.startsWith('--') && w.length > 2 && table.value.has(short)) {
        out.push({ opt: short, value: w.slice(2), words: [w] });
        continue;
      }
      out.push({ opt: w, words: [w] });
      continue;
    }
    out.push({ value: w, words: [w], ...(words[i]!.shellGlob ? { shellGlob: true } : {}) });
  }
  return out;
}

export const positionals = (items: ArgItem[]) => items.filter((a) => a.opt === undefined);
export const optionValues = (items: ArgItem[], ...names: string[]) =>
  items.filter((a) => a.opt !== undefined && names.includes(a.opt) && a.value !== undefined).map((a) => a.value!);
export const hasFlag = (items: ArgItem[], ...names: string[]) =>
  items.some((a) => a.opt !== undefined && names.includes(a.opt));
