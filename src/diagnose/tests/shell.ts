/**
 * Just enough POSIX shell to read a test command (`NODE_ENV=test npx jest 'src/**' && echo ok`) the way
 * `sh -c` and npm scripts do: words with their quoting removed, control operators between them, and for
 * each word whether it held an unquoted glob (the shell expands those, with `**` meaning `*`). Pure.
 */

export interface Word {
  text: string;
  /** The word had a `*`, `?` or `[` outside quotes: the shell expands it against the tree. */
  shellGlob: boolean;
}

export type Segment = Word[];

const OPERATORS = ['&&', '||', ';;', ';', '|', '&', '\n'];

/**
 * Splits a command into simple commands (separated by `&&`, `||`, `;`, `|`, `&`, newlines). Redirections
 * and what they name are dropped; subshells and `$(…)` are read as plain words (a test command that
 * needs them is beyond what placement reasons about, and is then left to the fallback).
 */
export function splitCommand(command: string): Segment[] {
  const segments: Segment[] = [];
  let words: Word[] = [];
  let cur = '';
  let inWord = false;
  let glob = false;
  let skipNext = false;
  const endWord = () => {
    if (inWord) {
      if (!skipNext) words.push({ text: cur, shellGlob: glob });
      else skipNext = false;
    }
    cur = '';
    inWord = false;
    glob = false;
  };
  const endSegment = () => {
    endWord();
    if (words.length) segments.push(words);
    words = [];
  };
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (c === '\\') {
      const n = command[i + 1];
      i++;
      if (n === undefined || n === '\n') continue;
      cur += n;
      inWord = true;
      continue;
    }
    if (c === "'") {
      const end = command.indexOf("'", i + 1);
      const stop = end === -1 ? command.length : end;
      cur += command.slice(i + 1, stop);
      inWord = true;
      i = stop;
      continue;
    }
    if (c === '"') {
      i++;
      for (; i < command.length && command[i] !== '"'; i++) {
        if (command[i] === '\\' && /["\\$`\n]/.test(command[i + 1] ?? '')) i++;
        cur += command[i];
      }
      inWord = true;
      continue;
    }
    if (c === '#' && !inWord) {
      const nl = command.indexOf('\n', i);
      i = nl === -1 ? command.length : nl - 1;
      continue;
    }
    const op = OPERATORS.find((o) => command.startsWith(o, i));
    if (op) {
      endSegment();
      i += op.length - 1;
      continue;
    }
    if (c === ' ' || c === '\t') {
      endWord();
      continue;
    }
    if (c === '<' || c === '>') {
      // `2>&1`, `> out.txt`: the fd number before it and the target after it are not arguments.
      if (/^\d+$/.test(cur)) {
        cur = '';
        inWord = false;
      }
      endWord();
      while (command[i + 1] === '>' || command[i + 1] === '&' || command[i + 1] === '<') i++;
      if (/^\d/.test(command[i + 1] ?? '')) {
        while (/\d/.test(command[i + 1] ?? '')) i++;
      } else {
        skipNext = true;
      }
      continue;
    }
    if (c === '*' || c === '?' || c === '[') glob = true;
    cur += c;
    inWord = true;
  }
  endSegment();
  return segments;
}

/** One word quoted for sh, unchanged when it holds nothing the shell would read. */
export function shellQuote(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function joinWords(words: string[]): string {
  return words.map(shellQuote).join(' ');
}

/** `NAME=value` prefixes of a simple command. */
export function isAssignment(word: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*=/.test(word);
}
