/**
 * A value read from the code's own lookup table by a key the request chose — `PLANS[account.plan]`,
 * `const render = RENDERERS[format]` — when the table has no entry for that key. What is bad is the key,
 * not the missing value: the request handler answers 400 ("plan is not supported") when the table lacks
 * it. The table is read where it is declared; when that is another module, the handler's file imports it
 * (added to an existing import of that module, else a new import in the file's own style).
 */
import { dirname, posix } from 'node:path';
import type { Proposal } from '../../types.ts';
import type { TextEdit } from '../edits.ts';
import { type Bad, fieldLabel } from '../path.ts';
import { enclosingFunction, type JsFile, namesInScope, nodeText, quoteStyle, ts, unwrap } from './ast.ts';
import { liftToHandler } from './lift.ts';
import { boundaryAt, type JsTemplateContext, pathCondition, pathText } from './variants.ts';

/** Where a table comes from: declared in the file (exported or not), or imported from a module. */
type Origin = { module: string; name: string } | { local: true; exported: boolean };

const JS_EXT = /\.(m|c)?(j|t)sx?$/;

/** `T[key]`, directly or behind `const x = T[key]` in the same function. */
function lookupOf(value: ts.Expression): ts.ElementAccessExpression | undefined {
  let e = unwrap(value);
  if (ts.isIdentifier(e)) {
    const fn = enclosingFunction(e);
    let init: ts.Expression | undefined;
    const visit = (n: ts.Node): void => {
      if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.name.text === (e as ts.Identifier).text)
        init = n.initializer;
      if (!init) ts.forEachChild(n, visit);
    };
    if (fn) visit(fn);
    if (!init) return undefined;
    e = unwrap(init);
  }
  if (!ts.isElementAccessExpression(e) || !ts.isIdentifier(unwrap(e.expression))) return undefined;
  const key = unwrap(e.argumentExpression);
  return ts.isStringLiteralLike(key) || ts.isNumericLiteral(key) ? undefined : e;
}

/** The file's module-level declaration of `name`: a const, or a binding imported or required. */
function originOf(f: JsFile, name: string): Origin | undefined {
  for (const st of f.sf.statements) {
    if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
      const named = st.importClause?.namedBindings;
      if (named && ts.isNamedImports(named))
        for (const el of named.elements)
          if (el.name.text === name && !el.isTypeOnly)
            return { module: st.moduleSpecifier.text, name: (el.propertyName ?? el.name).text };
    }
    if (!ts.isVariableStatement(st)) continue;
    for (const d of st.declarationList.declarations) {
      const init = d.initializer && unwrap(d.initializer);
      if (ts.isIdentifier(d.name) && d.name.text === name) {
        const exported = !!st.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) || exportsName(f, name);
        return { local: true, exported };
      }
      // const { T } = require('./tables')
      if (
        ts.isObjectBindingPattern(d.name) &&
        init &&
        ts.isCallExpression(init) &&
        nodeText(f, init.expression) === 'require' &&
        init.arguments[0] &&
        ts.isStringLiteral(init.arguments[0])
      ) {
        for (const el of d.name.elements)
          if (ts.isIdentifier(el.name) && el.name.text === name && !el.dotDotDotToken) {
            const prop = el.propertyName && ts.isIdentifier(el.propertyName) ? el.propertyName.text : name;
            return { module: init.arguments[0].text, name: prop };
          }
      }
    }
  }
  return undefined;
}

/** `export { T }`, `module.exports = { T }`, `module.exports.T =`, `exports.T =`. */
function exportsName(f: JsFile, name: string): boolean {
  const esc = name.replace(/\$/g, '\\$');
  return (
    new RegExp(`export\\s*\\{[^}]*\\b${esc}\\b[^}]*\\}`).test(f.source) ||
    new RegExp(`module\\.exports\\s*=\\s*\\{[^}]*\\b${esc}\\b[^}]*\\}`).test(f.source) ||
    new RegExp(`(module\\.)?exports\\.${esc}\\s*=`).test(f.source)
  );
}

/** A repo path for a relative specifier seen from `from` (no extension added: compared loosely). */
function resolveSpec(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  return posix.normalize(posix.join(dirname(from), spec));
}

const sameModule = (a: string, b: string) => a.replace(JS_EXT, '') === b.replace(JS_EXT, '');

/** The relative specifier `from` would write for `target`, with or without its extension. */
function specFor(from: string, target: string, withExt: boolean): string {
  let rel = posix.relative(dirname(from), withExt ? target : target.replace(JS_EXT, ''));
  if (!rel.startsWith('.')) rel = `./${rel}`;
  return rel;
}

/**
 * How the handler's file `hf` reads table `name` of module `target`: its own binding if it already has one,
 * else a binding it gets from an edit (an added import). Undefined when the name would clash.
 */
function bindingIn(
  hf: JsFile,
  target: string,
  name: string,
  at: ts.Node,
): { ref: string; edits: TextEdit[] } | undefined {
  const q = quoteStyle(hf);
  const semi = /;\s*$/m.test(hf.source) ? ';' : '';
  let lastImport: ts.Statement | undefined;
  let sameImport: ts.NamedImports | undefined;
  let sameRequire: ts.ObjectBindingPattern | undefined;
  let extStyle: boolean | undefined;
  let cjs = false;
  for (const st of hf.sf.statements) {
    let spec: string | undefined;
    if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
      spec = st.moduleSpecifier.text;
      lastImport = st;
      const named = st.importClause?.namedBindings;
      if (named && ts.isNamedImports(named) && sameModule(resolveSpec(hf.path, spec) ?? '', target)) {
        for (const el of named.elements)
          if ((el.propertyName ?? el.name).text === name && !el.isTypeOnly) return { ref: el.name.text, edits: [] };
        if (!st.importClause?.isTypeOnly) sameImport = named;
      }
    } else if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) {
        const init = d.initializer && unwrap(d.initializer);
        if (!init || !ts.isCallExpression(init) || nodeText(hf, init.expression) !== 'require') continue;
        const a = init.arguments[0];
        if (!a || !ts.isStringLiteral(a)) continue;
        spec = a.text;
        cjs = true;
        lastImport = st;
        if (ts.isObjectBindingPattern(d.name) && sameModule(resolveSpec(hf.path, spec) ?? '', target)) {
          for (const el of d.name.elements) {
            const prop = el.propertyName && ts.isIdentifier(el.propertyName) ? el.propertyName.text : undefined;
            if (ts.isIdentifier(el.name) && (prop ?? el.name.text) === name) return { ref: el.name.text, edits: [] };
          }
          sameRequire = d.name;
        }
      }
    }
    if (spec?.startsWith('.')) extStyle ??= JS_EXT.test(spec);
  }
  if (namesInScope(hf, at).has(name)) return undefined;
  const list = sameImport ?? sameRequire;
  if (list) {
    const last = list.elements[list.elements.length - 1];
    const pos = last ? last.end : list.getStart(hf.sf) + 1;
    return { ref: name, edits: [{ start: pos, end: pos, text: last ? `, ${name}` : ` ${name} ` }] };
  }
  // ESM wants the extension unless the file's own relative imports leave it out (TypeScript, bundlers).
  const spec = specFor(hf.path, target, extStyle ?? (!cjs && !/\.tsx?$/.test(target)));
  const line = cjs
    ? `const { ${name} } = require(${q}${spec}${q})${semi}`
    : `import { ${name} } from ${q}${spec}${q}${semi}`;
  const eol = /\r\n/.test(hf.source) ? '\r\n' : '\n';
  const pos = lastImport ? lastImport.end : 0;
  return { ref: name, edits: [{ start: pos, end: pos, text: lastImport ? `${eol}${line}` : `${line}${eol}` }] };
}

export interface LookupSite {
  file: JsFile;
  at: ts.Node;
  value: ts.Expression;
  strategy: string;
  confidence: number;
}

/** 400 in the handler when the request's key is not in the table the crashing code looks it up in. */
export function lookupBoundary(ctx: JsTemplateContext, site: LookupSite): Proposal | undefined {
  const f = site.file;
  const lookup = lookupOf(site.value);
  if (!lookup) return undefined;
  const table = (unwrap(lookup.expression) as ts.Identifier).text;
  const origin = originOf(f, table);
  if (!origin) return undefined;
  const lifted = liftToHandler(ctx.frames, lookup.argumentExpression, lookup);
  if (!lifted || lifted.path.steps.some((s) => s.k === 'each')) return undefined;
  const hf = lifted.file;
  let binding: { ref: string; edits: TextEdit[] } | undefined;
  if (hf === f && 'local' in origin) binding = { ref: table, edits: [] };
  else if ('local' in origin) binding = origin.exported ? bindingIn(hf, f.path, table, lifted.anchor) : undefined;
  else {
    const target = resolveSpec(f.path, origin.module);
    binding = target ? bindingIn(hf, target, origin.name, lifted.anchor) : undefined;
  }
  const key = pathText(lifted.path, ctx.modern);
  if (!binding || !key) return undefined;
  const missing = `!Object.prototype.hasOwnProperty.call(${binding.ref}, ${key})`;
  // Without `?.` the key's own path is checked link by link first.
  const cond = ctx.modern ? missing : `${pathCondition(lifted.path, 'nullish', false)} || ${missing}`;
  // A key held in a variable of its own (`format` from the query string) is named by that variable.
  const named = fieldLabel(lifted.path)
    ? lifted.path
    : { root: '', steps: [{ k: 'prop' as const, name: lifted.path.root }] };
  const bad: Bad = 'unsupported';
  return boundaryAt(
    ctx,
    hf,
    lifted.anchor,
    lifted.handler,
    named,
    { bad, strategy: site.strategy, confidence: site.confidence },
    lifted.hops,
    cond,
    binding.edits,
  );
}
