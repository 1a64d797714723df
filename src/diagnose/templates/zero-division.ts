/**
 * Python ZeroDivisionError at a division in the team's code: guard the divisor and fall back to 0, the
 * neutral value for the averages and ratios where this crash happens (an empty list, a zero count).
 *   return a / b      →  if b == 0: return 0   (inserted before)
 *   x = a / b         →  if b == 0: x = 0 else: x = a / b
 * Other shapes (a division inside a call argument) are left to other strategies.
 */
import { faultingLine, findOperator, indentOf, readOperand } from '../source.ts';
import type { Template } from '../types.ts';

const DIVISION = /^(\/\/|\/|%)(?!=)/;

export const zeroDivision: Template = {
  name: 'zero-division',
  matches(ctx) {
    const t = ctx.incident.trace;
    return t?.language === 'python' && /(^|\.)ZeroDivisionError$/.test(t.exceptionType);
  },
  async propose(ctx) {
    const site = await faultingLine(ctx);
    if (!site) return undefined;
    const { frame, before, lines, src } = site;
    const op = findOperator(src, DIVISION);
    if (!op) return undefined;
    const divisor = readOperand(src, op.index + op.op.length);
    if (!divisor) return undefined;
    const indent = indentOf(src);
    const stmt = src.trim();
    const unit = /^\s+/.exec(lines.find((l) => /^\s+\S/.test(l)) ?? '    ')?.[0] ?? '    ';
    let replacement: string[];
    const assign = /^([A-Za-z_][\w.]*(?:\[[^\]]+\])?)\s*=(?!=)/.exec(stmt);
    if (/^return\b/.test(stmt)) {
      replacement = [`${indent}if ${divisor} == 0:`, `${indent}${unit}return 0`, src];
    } else if (assign) {
      replacement = [
        `${indent}if ${divisor} == 0:`,
        `${indent}${unit}${assign[1]} = 0`,
        `${indent}else:`,
        `${indent}${unit}${stmt}`,
      ];
    } else {
      return undefined;
    }
    const after = [...lines.slice(0, frame.line - 1), ...replacement, ...lines.slice(frame.line)].join('\n');
    return {
      strategy: 'template:zero-division',
      summary: `guard the division by \`${divisor}\` in ${frame.function ?? 'the function'} (${frame.repoPath}:${frame.line}) and return 0 when it is zero`,
      confidence: 0.85,
      edits: [{ path: frame.repoPath, before, after }],
    };
  },
};
