/**
 * Test-runner configuration read as data, never run: INI and TOML for pytest, JSON/JSONC/YAML, and the
 * literal parts of JavaScript/TypeScript config files (`module.exports = {…}`, `export default
 * defineConfig({…})`) through the TypeScript parser. Whatever is not a literal reads as `UNKNOWN`, so a
 * computed `testMatch` is known to be unknown rather than taken for the default. Pure.
 */

import { parse as parseToml } from 'smol-toml';
import ts from 'typescript';
import { parse as parseYaml } from 'yaml';

export const UNKNOWN: unique symbol = Symbol('unknown');
export type Literal = string | number | boolean | null | typeof UNKNOWN | Literal[] | { [k: string]: Literal };
export type LiteralObject = { [k: string]: Literal };

/** INI sections (`[name]`) to their `key = value` entries, continuation lines joined with '\n'. */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let section: Map<string, string> | undefined;
  let key: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*[#;]/.test(raw) || raw.trim() === '') {
      if (raw.trim() === '') key = undefined;
      continue;
    }
    const head = /^\[([^\]]+)\]\s*$/.exec(raw.trim());
    if (head && !/^\s/.test(raw)) {
      section = new Map();
      out.set(head[1]!.trim(), section);
      key = undefined;
      continue;
    }
    if (/^\s/.test(raw) && key && section) {
      section.set(key, `${section.get(key)}\n${raw.trim()}`);
      continue;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(raw);
    if (kv && section) {
      key = kv[1]!.trim();
      section.set(key, kv[2]!.replace(/\s+[#;].*$/, '').trim());
    }
  }
  return out;
}

export function parseTomlSafe(text: string): Record<string, unknown> | undefined {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export function parseJsonSafe(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** JSON with comments and trailing commas (.mocharc.jsonc, tsconfig.json). */
export function parseJsonc(text: string): unknown {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      out += text.slice(start, i + 1);
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 1;
    } else out += c;
  }
  return parseJsonSafe(out.replace(/,(\s*[}\]])/g, '$1'));
}

export function parseYamlSafe(text: string): unknown {
  try {
    return parseYaml(text);
  } catch {
    return undefined;
  }
}

function literalOf(node: ts.Expression, sf: ts.SourceFile, consts: Map<string, ts.Expression>, depth = 0): Literal {
  if (depth > 20) return UNKNOWN;
  if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isSatisfiesExpression(node)) {
    return literalOf(node.expression, sf, consts, depth + 1);
  }
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isNumericLiteral(node)) return Number(node.text);
  if (node.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (node.kind === ts.SyntaxKind.FalseKeyword) return false;
  if (node.kind === ts.SyntaxKind.NullKeyword) return null;
  if (ts.isRegularExpressionLiteral(node)) {
    const m = /^\/(.*)\/([a-z]*)$/s.exec(node.text);
    return m ? m[1]! : UNKNOWN;
  }
  if (ts.isArrayLiteralExpression(node)) {
    if (node.elements.some((e) => ts.isSpreadElement(e))) return UNKNOWN;
    return node.elements.map((e) => literalOf(e, sf, consts, depth + 1));
  }
  if (ts.isObjectLiteralExpression(node)) {
    const obj: LiteralObject = {};
    for (const p of node.properties) {
      if (ts.isPropertyAssignment(p)) {
        const name = ts.isIdentifier(p.name) || ts.isStringLiteral(p.name) ? p.name.text : undefined;
        if (name !== undefined) obj[name] = literalOf(p.initializer, sf, consts, depth + 1);
      } else if (ts.isShorthandPropertyAssignment(p)) {
        const init = consts.get(p.name.text);
        obj[p.name.text] = init ? literalOf(init, sf, consts, depth + 1) : UNKNOWN;
      } else if (ts.isSpreadAssignment(p)) {
        const spread = literalOf(p.expression, sf, consts, depth + 1);
        if (spread && typeof spread === 'object' && !Array.isArray(spread)) Object.assign(obj, spread);
      }
    }
    return obj;
  }
  if (ts.isIdentifier(node)) {
    const init = consts.get(node.text);
    return init ? literalOf(init, sf, consts, depth + 1) : UNKNOWN;
  }
  if (ts.isCallExpression(node)) {
    // defineConfig({...}), defineProject(...), mergeConfig(base, {...}): the last object argument.
    const callee = node.expression.getText(sf);
    if (/^(defineConfig|defineProject|defineWorkspace|mergeConfig|createJestConfig)$/.test(callee)) {
      for (let i = node.arguments.length - 1; i >= 0; i--) {
        const arg = node.arguments[i]!;
        if (ts.isArrowFunction(arg) && !ts.isBlock(arg.body)) return literalOf(arg.body, sf, consts, depth + 1);
        const v = literalOf(arg, sf, consts, depth + 1);
        if (v && typeof v === 'object' && !Array.isArray(v)) return v;
      }
    }
    return UNKNOWN;
  }
  return UNKNOWN;
}

/** The literal value a JS/TS config file exports, or undefined when it exports no object literal. */
export function jsConfigLiteral(text: string, fileName: string): LiteralObject | undefined {
  const kind = /\.[cm]?ts$/.test(fileName) ? ts.ScriptKind.TS : ts.ScriptKind.JS;
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, kind);
  const consts = new Map<string, ts.Expression>();
  let exported: ts.Expression | undefined;
  for (const st of sf.statements) {
    if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) {
        if (ts.isIdentifier(d.name) && d.initializer) consts.set(d.name.text, d.initializer);
      }
    } else if (ts.isExportAssignment(st)) {
      exported = st.expression;
    } else if (
      ts.isExpressionStatement(st) &&
      ts.isBinaryExpression(st.expression) &&
      st.expression.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
      st.expression.left.getText(sf) === 'module.exports'
    ) {
      exported = st.expression.right;
    }
  }
  if (!exported) return undefined;
  const v = literalOf(exported, sf, consts);
  return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}

/** A config value as a list of strings; UNKNOWN when any part is not literal. */
export function stringList(v: Literal | unknown): string[] | typeof UNKNOWN | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string')) return v as string[];
    return UNKNOWN;
  }
  return UNKNOWN;
}
