/**
 * Binary operators: scalar/scalar, vector/scalar and vector/vector with Prometheus 2.42's vector
 * matching (`on`, `ignoring`, `group_left`, `group_right`, the set operators `and`, `or`,
 * `unless`), as `promql/engine.go` VectorBinop, VectorAnd, VectorOr and VectorUnless.
 */
import { QueryError } from '../errors.js';
import { quoteGoString } from '../go-strconv/index.js';
import type { BinaryExpr, BinaryOp, VectorMatching } from './ast.js';
import { isComparisonOp } from './check.js';
import { goAtan2, goPow } from './go-math.js';
import type { Labels } from './queryable.js';
import type { InstantSample } from './types.js';
import { assertNoDuplicateLabelsets, dropMetricName, signature } from './value.js';
import type { Checkpoint, Value } from './value.js';

const ONE_TO_ONE: VectorMatching = { card: 'one-to-one', on: false, labels: [], include: [] };

/** evalBinary applies `e.op` to its evaluated operands at step time `t`. */
export function evalBinary(e: BinaryExpr, l: Value, r: Value, t: number, work: Checkpoint): Value {
  if (l.type === 'scalar' && r.type === 'scalar') {
    const [v, keep] = vectorElemBinop(e.op, l.v, r.v);
    return { type: 'scalar', v: isComparisonOp(e.op) ? (keep ? 1 : 0) : v };
  }
  if (l.type === 'vector' && r.type === 'scalar') return vectorScalar(e, l.samples, r.v, false, t);
  if (l.type === 'scalar' && r.type === 'vector') return vectorScalar(e, r.samples, l.v, true, t);
  if (l.type !== 'vector' || r.type !== 'vector') throw new QueryError('binary expression must contain only scalar and instant vector types');
  const matching = e.matching ?? ONE_TO_ONE;
  switch (e.op) {
    case 'and':
      return { type: 'vector', samples: vectorAnd(l.samples, r.samples, matching) };
    case 'or':
      return { type: 'vector', samples: vectorOr(l.samples, r.samples, matching) };
    case 'unless':
      return { type: 'vector', samples: vectorUnless(l.samples, r.samples, matching) };
    default: {
      const samples = vectorBinop(e, l.samples, r.samples, matching, t, work);
      assertNoDuplicateLabelsets(samples);
      return { type: 'vector', samples };
    }
  }
}

/** vectorElemBinop is upstream's per-element operation: the value and whether to keep it. */
function vectorElemBinop(op: BinaryOp, lhs: number, rhs: number): [number, boolean] {
  switch (op) {
    case '+':
      return [lhs + rhs, true];
    case '-':
      return [lhs - rhs, true];
    case '*':
      return [lhs * rhs, true];
    case '/':
      return [lhs / rhs, true];
    case '^':
      return [goPow(lhs, rhs), true];
    case '%':
      return [lhs % rhs, true];
    case '==':
      return [lhs, lhs === rhs];
    case '!=':
      return [lhs, lhs !== rhs];
    case '>':
      return [lhs, lhs > rhs];
    case '<':
      return [lhs, lhs < rhs];
    case '>=':
      return [lhs, lhs >= rhs];
    case '<=':
      return [lhs, lhs <= rhs];
    case 'atan2':
      return [goAtan2(lhs, rhs), true];
    default:
      throw new QueryError(`operator "${op}" not allowed for this operation`);
  }
}

/** shouldDropMetricName: arithmetic drops `__name__` (atan2 does not in 2.42). */
function shouldDropMetricName(op: BinaryOp): boolean {
  return op === '+' || op === '-' || op === '*' || op === '/' || op === '^' || op === '%';
}

/** labelsToString prints labels as Prometheus' labels.Labels String(): `{a="b", c="d"}`. */
function labelsToString(labels: Labels): string {
  return `{${Object.keys(labels)
    .sort()
    .map((n) => `${n}=${quoteGoString(labels[n])}`)
    .join(', ')}}`;
}

/** Signer computes the key two elements must share to be paired by `on`/`ignoring`. */
type Signer = (labels: Labels) => string;

const signers = new WeakMap<VectorMatching, Signer>();

/** signerOf returns the matching's Signer, built once per matching clause. */
function signerOf(matching: VectorMatching): Signer {
  let signer = signers.get(matching);
  if (signer !== undefined) return signer;
  if (!matching.on && matching.labels.length === 0) {
    // Without `on` or `ignoring`, every label but the name must match: the name-less label set's key.
    signer = (labels) => signature(dropMetricName(labels));
  } else if (matching.on) {
    const on = [...matching.labels].sort();
    signer = (labels) => {
      let out = '';
      for (const n of on) out += `${n}\u0000${labels[n] ?? ''}\u0001`;
      return out;
    };
  } else {
    const ignoring = new Set(matching.labels);
    signer = (labels) => {
      let out = '';
      for (const n of Object.keys(labels).sort()) {
        if (n === '__name__' || ignoring.has(n)) continue;
        out += `${n}\u0000${labels[n]}\u0001`;
      }
      return out;
    };
  }
  signers.set(matching, signer);
  return signer;
}

function matchedLabels(labels: Labels, matching: VectorMatching): Labels {
  const out: Record<string, string> = {};
  for (const [n, v] of Object.entries(labels)) {
    const listed = matching.labels.includes(n);
    if (matching.on ? listed : !listed && n !== '__name__') out[n] = v;
  }
  return out;
}

function resultMetric(lhs: Labels, rhs: Labels, op: BinaryOp, matching: VectorMatching): Labels {
  // The common case keeps the left side's labels as they are, or only drops the name.
  if (matching.card === 'one-to-one' && !matching.on && matching.labels.length === 0 && matching.include.length === 0) {
    return shouldDropMetricName(op) ? dropMetricName(lhs) : lhs;
  }
  const out: Record<string, string> = { ...lhs };
  if (shouldDropMetricName(op)) delete out.__name__;
  if (matching.card === 'one-to-one') {
    if (matching.on) {
      for (const n of Object.keys(out)) if (!matching.labels.includes(n)) delete out[n];
    } else {
      for (const n of matching.labels) delete out[n];
    }
  }
  for (const n of matching.include) {
    // group_x labels are copied from the "one" side.
    const v = rhs[n];
    if (v !== undefined && v !== '') out[n] = v;
    else delete out[n];
  }
  return out;
}

function vectorScalar(e: BinaryExpr, samples: readonly InstantSample[], scalar: number, swap: boolean, t: number): Value {
  const out: InstantSample[] = [];
  const comparison = isComparisonOp(e.op);
  const dropName = shouldDropMetricName(e.op) || e.returnBool;
  for (const s of samples) {
    const lv = swap ? scalar : s.v;
    const rv = swap ? s.v : scalar;
    let [value, keep] = vectorElemBinop(e.op, lv, rv);
    // A comparison with the scalar on the left still yields the vector element's value.
    if (comparison && swap) value = rv;
    if (e.returnBool) {
      value = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    out.push({ labels: dropName ? dropMetricName(s.labels) : s.labels, t, v: value });
  }
  // An instant vector never holds a label set twice, so only dropping the name can make one repeat.
  if (dropName) assertNoDuplicateLabelsets(out);
  return { type: 'vector', samples: out };
}

function vectorAnd(lhs: readonly InstantSample[], rhs: readonly InstantSample[], m: VectorMatching): InstantSample[] {
  if (lhs.length === 0 || rhs.length === 0) return [];
  const sig = signerOf(m);
  const right = new Set(rhs.map((s) => sig(s.labels)));
  return lhs.filter((s) => right.has(sig(s.labels)));
}

function vectorOr(lhs: readonly InstantSample[], rhs: readonly InstantSample[], m: VectorMatching): InstantSample[] {
  if (lhs.length === 0) return [...rhs];
  if (rhs.length === 0) return [...lhs];
  const sig = signerOf(m);
  const left = new Set(lhs.map((s) => sig(s.labels)));
  return [...lhs, ...rhs.filter((s) => !left.has(sig(s.labels)))];
}

function vectorUnless(lhs: readonly InstantSample[], rhs: readonly InstantSample[], m: VectorMatching): InstantSample[] {
  if (lhs.length === 0 || rhs.length === 0) return [...lhs];
  const sig = signerOf(m);
  const right = new Set(rhs.map((s) => sig(s.labels)));
  return lhs.filter((s) => !right.has(sig(s.labels)));
}

function vectorBinop(e: BinaryExpr, lhsIn: readonly InstantSample[], rhsIn: readonly InstantSample[], m: VectorMatching, t: number, work: Checkpoint): InstantSample[] {
  // Prometheus short-circuits before it checks either side for duplicates.
  if (lhsIn.length === 0 || rhsIn.length === 0) return [];
  let lhs = lhsIn;
  let rhs = rhsIn;
  // One-to-many is many-to-one with the sides swapped; values are swapped back below.
  if (m.card === 'one-to-many') [lhs, rhs] = [rhs, lhs];
  const signer = signerOf(m);
  const rightSigs = new Map<string, InstantSample>();
  for (const rs of rhs) {
    work.tick();
    const sig = signer(rs.labels);
    const dup = rightSigs.get(sig);
    if (dup !== undefined) {
      const oneSide = m.card === 'one-to-many' ? 'left' : 'right';
      throw new QueryError(
        `found duplicate series for the match group ${labelsToString(matchedLabels(rs.labels, m))} on the ${oneSide} hand-side of the operation: [${labelsToString(rs.labels)}, ${labelsToString(dup.labels)}];many-to-many matching not allowed: matching labels must be unique on one side`,
      );
    }
    rightSigs.set(sig, rs);
  }
  const matchedSigs = new Map<string, Set<string> | null>();
  const out: InstantSample[] = [];
  for (const ls of lhs) {
    work.tick();
    const sig = signer(ls.labels);
    const rs = rightSigs.get(sig);
    if (rs === undefined) continue;
    let vl = ls.v;
    let vr = rs.v;
    if (m.card === 'one-to-many') [vl, vr] = [vr, vl];
    const [computed, keep] = vectorElemBinop(e.op, vl, vr);
    let value = computed;
    if (e.returnBool) {
      value = keep ? 1 : 0;
    } else if (!keep) {
      continue;
    }
    let metric = resultMetric(ls.labels, rs.labels, e.op, m);
    if (e.returnBool) metric = dropMetricName(metric);
    const inserted = matchedSigs.get(sig);
    if (m.card === 'one-to-one') {
      if (inserted !== undefined) throw new QueryError('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
      matchedSigs.set(sig, null);
    } else {
      const insertSig = signature(metric);
      if (inserted === undefined || inserted === null) {
        matchedSigs.set(sig, new Set([insertSig]));
      } else {
        if (inserted.has(insertSig)) throw new QueryError('multiple matches for labels: grouping labels must ensure unique matches');
        inserted.add(insertSig);
      }
    }
    out.push({ labels: metric, t, v: value });
  }
  return out;
}
