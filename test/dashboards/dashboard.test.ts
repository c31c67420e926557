/**
 * Every expression of the shipped Grafana dashboard parses with the sentinel's PromQL engine, and
 * every metric it names is one the sentinel exports. The exported names are collected from the
 * code (metric-name literals under src/, the runtime metrics client's documented field list, the
 * series rule groups write, recording rules in config/rules), not from a hand-kept list.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { collectSelectors, parseExpr } from '../../src/promql/index.js';

const ROOT = join(import.meta.dirname, '..', '..');

function walk(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p, ext));
    else if (p.endsWith(ext)) out.push(p);
  }
  return out;
}

/** exportedMetricNames scans the sources for the metric names the sentinel produces. */
function exportedMetricNames(): Set<string> {
  const names = new Set<string>();
  // The lab imitates the watched system; its names are not the sentinel's.
  const sources = walk(join(ROOT, 'src'), '.ts').filter((p) => !p.includes(`${join('src', 'lab')}`));
  const texts = sources.map((f) => readFileSync(f, 'utf8'));
  // The runtime_metrics probe turns each documented JSON field into openagents_spacetime_<section>_<field>.
  const hasRuntimePrefix = texts.some((t) => t.includes("'openagents_spacetime_'"));
  for (const text of texts) {
    for (const m of text.matchAll(/['"`](sentinel_[a-z0-9_]+)['"`]/g)) names.add(m[1]);
    for (const m of text.matchAll(/['"`](ALERTS|ALERTS_FOR_STATE)['"`]/g)) names.add(m[1]);
    if (hasRuntimePrefix) {
      for (const m of text.matchAll(/['"`]((?:mirror|delivery|auth_failures)\.[a-z0-9_]+)['"`]/g)) names.add(`openagents_spacetime_${m[1].replace('.', '_')}`);
    }
  }
  for (const file of walk(join(ROOT, 'config', 'rules'), '.yaml')) {
    const doc = parseYaml(readFileSync(file, 'utf8')) as { groups?: Array<{ rules?: Array<{ record?: string }> }> };
    for (const g of doc.groups ?? []) for (const r of g.rules ?? []) if (r.record) names.add(r.record);
  }
  return names;
}

function isExported(name: string, exported: ReadonlySet<string>): boolean {
  if (exported.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && exported.has(base);
}

interface Target {
  readonly expr?: string;
}
interface Panel {
  readonly title?: string;
  readonly targets?: readonly Target[];
  readonly panels?: readonly Panel[];
}

function expressions(dashboard: { panels?: readonly Panel[]; annotations?: { list?: ReadonlyArray<{ name?: string; expr?: string }> } }): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const visit = (p: Panel): void => {
    for (const t of p.targets ?? []) if (t.expr) out.push([p.title ?? '?', t.expr]);
    for (const c of p.panels ?? []) visit(c);
  };
  for (const p of dashboard.panels ?? []) visit(p);
  for (const a of dashboard.annotations?.list ?? []) if (a.expr) out.push([`annotation ${a.name ?? '?'}`, a.expr]);
  return out;
}

const dashboards = readdirSync(join(ROOT, 'dashboards')).filter((f) => f.endsWith('.json'));

describe('shipped dashboards', () => {
  it('exist', () => {
    expect(dashboards).toContain('spacetime-sentinel.json');
  });

  const exported = exportedMetricNames();

  it('collects a plausible set of exported metric names from the code', () => {
    for (const n of ['sentinel_probe_success', 'sentinel_notifications_total', 'sentinel_alerts', 'ALERTS', 'openagents_spacetime_mirror_outbox_depth']) expect(exported).toContain(n);
  });

  for (const file of dashboards) {
    const dashboard = JSON.parse(readFileSync(join(ROOT, 'dashboards', file), 'utf8')) as Parameters<typeof expressions>[0] & { uid?: string; title?: string };
    const exprs = expressions(dashboard);

    it(`${file}: has a uid, a title and expressions`, () => {
      expect(dashboard.uid).toBeTruthy();
      expect(dashboard.title).toBeTruthy();
      expect(exprs.length).toBeGreaterThan(10);
    });

    it.each(exprs)(`${file}: %s: %s parses and names only exported metrics`, (_title, expr) => {
      const ast = parseExpr(expr);
      const selectors = collectSelectors(ast);
      expect(selectors.length).toBeGreaterThan(0);
      for (const s of selectors) {
        expect(s.metricName, `selector without a metric name in ${expr}`).toBeDefined();
        expect(isExported(s.metricName!, exported), `${s.metricName} is not a metric the sentinel exports`).toBe(true);
      }
    });
  }
});
