/**
 * expr-check: validates rule expressions with the PromQL parser and words parse errors the way
 * Prometheus does (`1:3: parse error: ...`), for rule files and `rules check`.
 */
import { PromqlParseError } from '../errors.js';
import { parseExpr } from '../promql/index.js';

/** promqlErrorText is a parse error as Prometheus prints it: `LINE:COL: parse error: MESSAGE`. */
export function promqlErrorText(expr: string, err: unknown): string {
  if (!(err instanceof PromqlParseError)) return (err as Error).message;
  const before = expr.slice(0, err.pos.start);
  const line = 1 + (before.match(/\n/g)?.length ?? 0);
  const col = err.pos.start - (before.lastIndexOf('\n') + 1) + 1;
  const message = err.message.replace(/^PromQL parse error at char \d+: /, '');
  return `${line}:${col}: parse error: ${message}`;
}

/** checkPromqlExpr returns Prometheus' wording of why `expr` does not parse, or undefined. */
export function checkPromqlExpr(expr: string): string | undefined {
  try {
    parseExpr(expr);
    return undefined;
  } catch (err) {
    if (err instanceof PromqlParseError) return promqlErrorText(expr, err);
    throw err;
  }
}
