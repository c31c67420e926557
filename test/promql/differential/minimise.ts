/**
 * minimise: shrinks a discrepant single-case group to the smallest series set, the shortest
 * series values and the smallest expression that still disagree with promtool in the same way.
 */
import type { ExprNode, PromqlGroup } from './generate.js';
import { checkPromqlGroups } from './oracle.js';
import type { DiscrepancyKind } from './oracle.js';

type Path = readonly number[];

function nodesOf(n: ExprNode, path: Path = []): Array<{ node: ExprNode; path: Path }> {
  return [{ node: n, path }, ...n.kids.flatMap((k, i) => nodesOf(k, [...path, i]))];
}

function replaceAt(n: ExprNode, path: Path, repl: ExprNode): ExprNode {
  if (path.length === 0) return repl;
  const kids = n.kids.map((k, i) => (i === path[0] ? replaceAt(k, path.slice(1), repl) : k));
  return { ...n, kids };
}

/** candidates are simpler same-typed stand-ins for a node: its alternatives and its descendants. */
function candidates(n: ExprNode): ExprNode[] {
  return [...n.alts, ...nodesOf(n).slice(1).map((x) => x.node).filter((d) => d.type === n.type)];
}

/** minimiseGroup returns the smallest variant of `g` (one case) that still shows `kind`. */
export async function minimiseGroup(g: PromqlGroup, kind: DiscrepancyKind, evalIntervalMs: number, budget = 200): Promise<PromqlGroup> {
  let tries = 0;
  const still = async (x: PromqlGroup): Promise<boolean> => {
    tries++;
    const r = await checkPromqlGroups([x], { evalIntervalMs });
    return r.discrepancies.some((d) => d.kind === kind);
  };
  let cur = g;
  let changed = true;
  while (changed && tries < budget) {
    changed = false;
    for (let i = 0; i < cur.series.length && tries < budget; i++) {
      const next = { ...cur, series: cur.series.filter((_, j) => j !== i) };
      if (await still(next)) {
        cur = next;
        changed = true;
        i--;
      }
    }
    const c = cur.cases[0];
    outer: for (const { node, path } of nodesOf(c.expr)) {
      for (const cand of candidates(node)) {
        if (tries >= budget) break outer;
        const next = { ...cur, cases: [{ ...c, expr: replaceAt(c.expr, path, cand) }] };
        if (await still(next)) {
          cur = next;
          changed = true;
          break outer;
        }
      }
    }
    for (let i = 0; i < cur.series.length && tries < budget; i++) {
      const tokens = cur.series[i].values.split(' ');
      if (tokens.length < 2) continue;
      const next = { ...cur, series: cur.series.map((s, j) => (j === i ? { ...s, values: tokens.slice(0, Math.ceil(tokens.length / 2)).join(' ') } : s)) };
      if (await still(next)) {
        cur = next;
        changed = true;
      }
    }
  }
  return cur;
}
