/**
 * Python: request input its parser rejects — `json.loads` (JSONDecodeError), `int()` / `float()`,
 * `Decimal()`, `datetime.fromisoformat` / `strptime`, `uuid.UUID` — answered with 400 instead of 500.
 * Variants: catch the parse where the handler does it (`try: cart = json.loads(raw) except ValueError:
 * 400`), and check the input in the handler before the call that parses it (the path lifted up the stack).
 */
import type { Proposal } from '../../types.ts';
import { indentUnit } from '../edits.ts';
import type { Fault, ParseWhat } from '../fault.ts';
import { type AccessPath, badMessage, fieldLabel } from '../path.ts';
import { isBuiltin, isPure, namesInScope, type PyFile, type PyNode, quoteStyle } from './ast.ts';
import { bySpan, crashSite, proposalPy } from './common.ts';
import { answer400Py, handlerAroundPy } from './http.ts';
import { liftToHandlerPy, pathOfPy } from './lift.ts';
import { boundaryAtPy, type PyTemplateContext, pathTextPy, where, wrapStatement } from './variants.ts';

const PARSERS: Partial<Record<ParseWhat, { names: RegExp; parser: string; exc: string }>> = {
  json: { names: /^((simple|or|u)?json\.)?loads?$/, parser: 'valid JSON', exc: 'ValueError' },
  int: { names: /^int$/, parser: 'an integer', exc: 'ValueError' },
  float: { names: /^float$/, parser: 'a number', exc: 'ValueError' },
  decimal: { names: /^(decimal\.)?Decimal$/, parser: 'a number', exc: '(ValueError, ArithmeticError)' },
  date: {
    names: /(^|\.)(fromisoformat|strptime|isoparse|parse)$/,
    parser: 'a valid date',
    exc: 'ValueError',
  },
  uuid: { names: /^(uuid\.)?UUID$/, parser: 'a valid UUID', exc: 'ValueError' },
};

export function unparseablePy(ctx: PyTemplateContext, fault: Extract<Fault, { kind: 'parse' }>): Proposal[] {
  const spec = PARSERS[fault.what];
  const fr = ctx.frames[0]!;
  const file = fr.file;
  const cs = crashSite(fr);
  if (!spec || !cs) return [];
  const calls = cs.nodes.filter(
    (n) => n._t === 'Call' && spec.names.test(file.text(n.func as PyNode)) && (n.args as PyNode[]).length >= 1,
  );
  const out: Proposal[] = [];
  const unit = indentUnit(file.source);
  for (const call of bySpan(fr, calls, (c) => c).slice(0, 1)) {
    const input = (call.args as PyNode[])[0]!;
    // 1. Where the handler itself parses: catch the parser's error around that statement.
    const handler = handlerAroundPy(file, call);
    const stmt = file.statementOf(call);
    if (handler && stmt && !['For', 'While', 'If', 'With', 'Try'].includes(stmt._t)) {
      const own = pathOfPy(file, input)?.path;
      const message = badMessage(own && fieldLabel(own) ? own : undefined, 'unparseable', spec.parser);
      const ans = answer400Py(file, handler, stmt, message);
      const edits = wrapStatement(
        file,
        stmt,
        ['try:'],
        [`except ${spec.exc}:`, ...ans.lines.map((l) => `${unit}${l}`)],
      );
      const p =
        edits &&
        proposalPy(
          file,
          edits,
          'template:unparseable:catch',
          `answer 400 (${message}) when the ${handler.framework} handler cannot parse its input (${where(file, stmt)})`,
          0.85,
        );
      if (p) out.push(p);
    }
    // 2. Check the input in the handler before the call that leads to the parse.
    const lifted = liftToHandlerPy(ctx.frames, input, call);
    const target = lifted
      ? {
          file: lifted.file,
          anchor: lifted.anchor,
          handler: lifted.handler,
          path: lifted.path as AccessPath | undefined,
          hops: lifted.hops,
        }
      : handler && stmt && isPure(input)
        ? { file, anchor: stmt, handler, path: undefined, hops: 0 }
        : undefined;
    if (!target) continue;
    const q = quoteStyle(target.file);
    const inputText = target.path ? pathTextPy(target.path, q) : file.text(input);
    const calleeRoot = /^[A-Za-z_]\w*/.exec(file.text(call.func as PyNode))?.[0] ?? '';
    const scope = namesInScope(target.file, target.anchor);
    // A parser the handler's module does not import: import it there the way the crashing module does.
    const importLine =
      scope.has(calleeRoot) || isBuiltin(calleeRoot) || target.file === file ? undefined : importOf(file, calleeRoot);
    if (!inputText || !(scope.has(calleeRoot) || isBuiltin(calleeRoot) || importLine)) continue;
    const callText = file.text(call);
    const argAt = input.s! - call.s!;
    const parseText = callText.slice(0, argAt) + inputText + callText.slice(argAt + (input.e! - input.s!));
    if (parseText.includes('\n')) continue;
    const own = target.path ?? pathOfPy(file, input)?.path;
    const path = own && fieldLabel(own) ? own : { root: inputText, steps: [] };
    const p = boundaryAtPy(
      target.file,
      target.anchor,
      target.handler,
      path,
      { bad: 'unparseable', strategy: 'template:unparseable', confidence: 0.8, parser: spec.parser },
      target.hops,
      undefined,
      ['try:', ...(importLine ? [`${unit}${importLine}`] : []), `${unit}${parseText}`, `except ${spec.exc}:`],
    );
    if (p) out.push(p);
  }
  return out;
}

/** The module-level import statement that binds `name` in `file` (one line), if any. */
function importOf(file: PyFile, name: string): string | undefined {
  for (const st of file.tree.body as PyNode[]) {
    if (st._t !== 'Import' && st._t !== 'ImportFrom') continue;
    if ((st.level as number | undefined) && (st.level as number) > 0) continue;
    const binds = (st.names as PyNode[]).some(
      (a) => ((a.asname as string | null) ?? (a.name as string)).split('.')[0] === name,
    );
    const text = file.text(st);
    if (binds && !text.includes('\n')) return text;
  }
  return undefined;
}
