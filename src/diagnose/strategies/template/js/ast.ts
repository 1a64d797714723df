/**
 * JavaScript and TypeScript sources through the TypeScript compiler API: parsing (never type-checking or
 * running), positions, and the small structural questions the templates ask of a syntax tree.
 */
import ts from 'typescript';
import { stringLiteral } from '../edits.ts';

export interface JsFile {
  path: string;
  source: string;
  sf: ts.SourceFile;
}

export function scriptKind(path: string): ts.ScriptKind {
  if (/\.tsx$/i.test(path)) return ts.ScriptKind.TSX;
  if (/\.[cm]?ts$/i.test(path)) return ts.ScriptKind.TS;
  if (/\.jsx$/i.test(path)) return ts.ScriptKind.JSX;
  return ts.ScriptKind.JS;
}

export function parseJs(path: string, source: string): JsFile {
  const sf = ts.createSourceFile(path, source, ts.ScriptTarget.Latest, true, scriptKind(path));
  return { path, source, sf };
}

/** The first syntax error of `source` read as `path`'s language, or undefined when it parses. */
export function syntaxError(path: string, source: string): string | undefined {
  const sf = ts.createSourceFile(path, source, ts.ScriptTarget.Latest, false, scriptKind(path));
  const diags = (sf as unknown as { parseDiagnostics?: ts.Diagnostic[] }).parseDiagnostics ?? [];
  const d = diags[0];
  if (!d) return undefined;
  const where = d.start !== undefined ? sf.getLineAndCharacterOfPosition(d.start).line + 1 : '?';
  return `${ts.flattenDiagnosticMessageText(d.messageText, ' ')} (line ${where})`;
}

export function nodeText(f: JsFile, n: ts.Node): string {
  return f.source.slice(n.getStart(f.sf), n.end);
}

export function startOf(f: JsFile, n: ts.Node): number {
  return n.getStart(f.sf);
}

/** Offset of a 1-based line and column (the column defaults to the line's first non-blank). */
export function offsetOf(f: JsFile, line: number, column?: number): number | undefined {
  const lines = f.sf.getLineStarts();
  const start = lines[line - 1];
  if (start === undefined) return undefined;
  const end = lines[line] ?? f.source.length;
  if (column && column > 0) return Math.min(start + column - 1, end);
  let i = start;
  while (i < end && /[ \t]/.test(f.source[i]!)) i++;
  return i;
}

export function lineOf(f: JsFile, pos: number): number {
  return f.sf.getLineAndCharacterOfPosition(pos).line + 1;
}

/** Every node, depth first, with a visitor that may stop the descent by returning false. */
export function walk(node: ts.Node, visit: (n: ts.Node) => boolean | undefined): void {
  const go = (n: ts.Node): void => {
    if (visit(n) === false) return;
    ts.forEachChild(n, go);
  };
  go(node);
}

export function descendants(node: ts.Node, pred: (n: ts.Node) => boolean): ts.Node[] {
  const out: ts.Node[] = [];
  walk(node, (n) => {
    if (pred(n)) out.push(n);
    return undefined;
  });
  return out;
}

export function ancestors(n: ts.Node): ts.Node[] {
  const out: ts.Node[] = [];
  for (let p = n.parent; p; p = p.parent) out.push(p);
  return out;
}

export function isFunctionLike(n: ts.Node): n is ts.FunctionLikeDeclaration {
  return (
    ts.isFunctionDeclaration(n) ||
    ts.isFunctionExpression(n) ||
    ts.isArrowFunction(n) ||
    ts.isMethodDeclaration(n) ||
    ts.isConstructorDeclaration(n) ||
    ts.isGetAccessorDeclaration(n) ||
    ts.isSetAccessorDeclaration(n)
  );
}

export function enclosingFunction(n: ts.Node): ts.FunctionLikeDeclaration | undefined {
  for (let p: ts.Node | undefined = n.parent; p; p = p.parent) if (isFunctionLike(p)) return p;
  return undefined;
}

/** A statement in a statement list (block, file, case clause): where one can be inserted before it. */
export function isListedStatement(n: ts.Node): boolean {
  const p = n.parent;
  return (
    p !== undefined &&
    (ts.isBlock(p) || ts.isSourceFile(p) || ts.isCaseClause(p) || ts.isDefaultClause(p) || ts.isModuleBlock(p)) &&
    (p as unknown as { statements: ts.NodeArray<ts.Node> }).statements.includes(n)
  );
}

/** The nearest statement around `n` (in a list, or the bare body of an if/loop). */
export function statementOf(n: ts.Node): ts.Statement | undefined {
  for (let p: ts.Node | undefined = n; p; p = p.parent) {
    if (isFunctionLike(p) && p !== n) return undefined;
    if (ts.isSourceFile(p)) return undefined;
    if (isStatementNode(p)) return p;
  }
  return undefined;
}

function isStatementNode(n: ts.Node): n is ts.Statement {
  return (
    ts.isVariableStatement(n) ||
    ts.isExpressionStatement(n) ||
    ts.isReturnStatement(n) ||
    ts.isIfStatement(n) ||
    ts.isForStatement(n) ||
    ts.isForOfStatement(n) ||
    ts.isForInStatement(n) ||
    ts.isWhileStatement(n) ||
    ts.isDoStatement(n) ||
    ts.isThrowStatement(n) ||
    ts.isSwitchStatement(n) ||
    ts.isTryStatement(n) ||
    ts.isBlock(n) ||
    ts.isFunctionDeclaration(n) ||
    ts.isClassDeclaration(n)
  );
}

/** The function's own name, or the variable / property / method it is assigned to. */
export function functionName(fn: ts.Node): string | undefined {
  const named = fn as ts.Node & { name?: ts.Node };
  if (
    named.name &&
    (ts.isIdentifier(named.name) || ts.isPrivateIdentifier(named.name) || ts.isStringLiteral(named.name))
  )
    return named.name.text;
  const p = fn.parent;
  if (!p) return undefined;
  if (ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
  if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) return p.name.text;
  if (ts.isPropertyDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
  if (ts.isBinaryExpression(p) && p.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
    const l = p.left;
    if (ts.isIdentifier(l)) return l.text;
    if (ts.isPropertyAccessExpression(l)) return l.name.text;
  }
  return undefined;
}

export function unwrap(e: ts.Expression): ts.Expression {
  let x = e;
  while (
    ts.isParenthesizedExpression(x) ||
    ts.isNonNullExpression(x) ||
    ts.isAsExpression(x) ||
    ts.isSatisfiesExpression(x)
  )
    x = x.expression;
  return x;
}

/** Side-effect free and cheap to evaluate twice: names, property chains, literal indexes, literals. */
export function isPure(e: ts.Expression): boolean {
  const x = unwrap(e);
  if (ts.isIdentifier(x) || x.kind === ts.SyntaxKind.ThisKeyword) return true;
  if (ts.isLiteralExpression(x) || ts.isNoSubstitutionTemplateLiteral(x)) return true;
  if (
    x.kind === ts.SyntaxKind.NullKeyword ||
    x.kind === ts.SyntaxKind.TrueKeyword ||
    x.kind === ts.SyntaxKind.FalseKeyword
  )
    return true;
  if (ts.isPropertyAccessExpression(x)) return isPure(x.expression);
  if (ts.isElementAccessExpression(x)) {
    const a = unwrap(x.argumentExpression);
    return isPure(x.expression) && (ts.isLiteralExpression(a) || ts.isIdentifier(a) || ts.isPrefixUnaryExpression(a));
  }
  if (ts.isPrefixUnaryExpression(x)) return isPure(x.operand);
  return false;
}

/** The file already reads `?.` or `??`: its toolchain does too. */
export function usesModernSyntax(sf: ts.SourceFile): boolean {
  let found = false;
  walk(sf, (n) => {
    if (found) return false;
    if (
      ((ts.isPropertyAccessExpression(n) || ts.isElementAccessExpression(n) || ts.isCallExpression(n)) &&
        n.questionDotToken) ||
      (ts.isBinaryExpression(n) &&
        (n.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken ||
          n.operatorToken.kind === ts.SyntaxKind.QuestionQuestionEqualsToken))
    ) {
      found = true;
    }
    return undefined;
  });
  return found;
}

/** `catch {}` without a binding is ES2019; `catch (err)` parses everywhere. */
export function catchClause(modern: boolean): string {
  return modern ? 'catch' : 'catch (_err)';
}

/** Names declared anywhere in the file's scopes that enclose `at` (params, variables, functions, imports). */
export function namesInScope(f: JsFile, at: ts.Node): Set<string> {
  const names = new Set<string>();
  const addBinding = (b: ts.BindingName) => {
    if (ts.isIdentifier(b)) names.add(b.text);
    else for (const el of b.elements) if (!ts.isOmittedExpression(el)) addBinding(el.name);
  };
  const scopes: ts.Node[] = [f.sf];
  for (let p: ts.Node | undefined = at; p; p = p.parent) if (isFunctionLike(p) || ts.isBlock(p)) scopes.push(p);
  // Blocks, loops and catch clauses that do not hold `at` declare nothing visible there.
  const holds = (n: ts.Node) => n.pos <= at.pos && at.end <= n.end;
  for (const scope of scopes) {
    if (isFunctionLike(scope)) for (const prm of scope.parameters) addBinding(prm.name);
    walk(scope, (n) => {
      if (n !== scope && isFunctionLike(n)) {
        const name = functionName(n);
        if (name && ts.isFunctionDeclaration(n)) names.add(name);
        return false;
      }
      if (
        n !== scope &&
        (ts.isBlock(n) || ts.isCatchClause(n) || ts.isIterationStatement(n, false) || ts.isCaseBlock(n)) &&
        !holds(n)
      )
        return false;
      if (ts.isVariableDeclaration(n)) addBinding(n.name);
      if (ts.isImportClause(n) && n.name) names.add(n.name.text);
      if (ts.isImportSpecifier(n) || ts.isNamespaceImport(n)) names.add(n.name.text);
      if (ts.isClassDeclaration(n) && n.name) names.add(n.name.text);
      if (ts.isCatchClause(n) && n.variableDeclaration) addBinding(n.variableDeclaration.name);
      return undefined;
    });
  }
  return names;
}

/** Identifiers an expression reads (not property names, not inside nested functions), for scope checks. */
export function freeNames(e: ts.Node): string[] {
  const out: string[] = [];
  walk(e, (n) => {
    if (n !== e && isFunctionLike(n)) return false;
    if (ts.isIdentifier(n)) {
      const p = n.parent;
      if (p && ts.isPropertyAccessExpression(p) && p.name === n) return undefined;
      if (p && (ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) && p.name === n) return undefined;
      out.push(n.text);
    }
    return undefined;
  });
  return out;
}

/** A JavaScript string literal for `s`, in the file's quote style, ASCII only. */
export const jsString = stringLiteral;

export function quoteStyle(f: JsFile): "'" | '"' {
  const single = (f.source.match(/'[^'\n]*'/g) ?? []).length;
  const double = (f.source.match(/"[^"\n]*"/g) ?? []).length;
  return double > single ? '"' : "'";
}

export function usesSemicolons(f: JsFile): boolean {
  const withSemi = (f.source.match(/;\s*$/gm) ?? []).length;
  const lines = (f.source.match(/\S\s*$/gm) ?? []).length;
  return withSemi * 4 >= lines || withSemi > 3;
}

export { ts };
