/**
 * report.html: a self-contained page (inline SVG and CSS, no scripts, no external resources) that
 * a release manager can open from the evidence directory: the decision, SVG timelines of replay
 * lag, delivery latency, resume outcomes and connections with each stage shaded (fault window
 * dark, recovery light), a timeline of every probe run (cut-off runs marked) and of every
 * expectation measurement at the time it was taken, and the per-condition table.
 */
import type { QueryFn } from './conditions.js';
import type { DrillSpec } from './drill-file.js';
import type { ProbeRunRecord } from './exercise.js';
import type { DecisionReport, ScenarioResult } from './outcomes.js';
import type { StageWindow } from './run-context.js';

/** ReportInput is everything report.html shows. */
export interface ReportInput {
  readonly drill: DrillSpec;
  readonly runId: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly stages: readonly StageWindow[];
  readonly scenario: ScenarioResult;
  readonly decision: DecisionReport;
  readonly query: QueryFn;
  /** probeRuns are the runs the drill started, cut-off ones included. */
  readonly probeRuns?: readonly ProbeRunRecord[];
}

/** ReportPanel is one timeline: a PromQL query evaluated across the run. */
export interface ReportPanel {
  readonly title: string;
  readonly query: string;
  readonly unit: string;
}

/** DEFAULT_PANELS are four timelines of a drill's run (replay lag, delivery time, resume
 * outcomes, active connections), plus probe health. */
export const DEFAULT_PANELS: readonly ReportPanel[] = [
  { title: 'Replay lag (max over streams)', query: 'max(sentinel_replay_lag_max_events)', unit: 'events' },
  { title: 'Delivery probe duration (append to receipt, or its timeout)', query: 'max(sentinel_probe_duration_seconds{probe="delivery"})', unit: 's' },
  { title: 'Resume outcomes (cumulative)', query: 'sum by (outcome) (sentinel_resume_total)', unit: 'runs' },
  { title: 'Active connections', query: 'max(sentinel_active_connections)', unit: 'rows' },
  { title: 'Probe success', query: 'sentinel_probe_success', unit: '' },
];

const WIDTH = 860;
const HEIGHT = 180;
const PAD = { left: 56, right: 12, top: 12, bottom: 24 };
const STEPS = 120;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function seriesName(labels: Readonly<Record<string, string>>): string {
  const parts = Object.entries(labels)
    .filter(([k]) => k !== '__name__' && k !== 'drill' && k !== 'stage')
    .map(([k, v]) => `${k}="${v}"`);
  return parts.length ? `{${parts.join(', ')}}` : 'value';
}

function sample(query: QueryFn, expr: string, startMs: number, endMs: number): Map<string, Array<[number, number]>> {
  const out = new Map<string, Array<[number, number]>>();
  const step = Math.max(1, Math.floor((endMs - startMs) / STEPS));
  for (let t = startMs; t <= endMs; t += step) {
    let value;
    try {
      value = query(expr, t).value;
    } catch {
      continue;
    }
    const points = value.type === 'vector' ? value.samples.map((s) => [seriesName(s.labels), s.v] as const) : value.type === 'scalar' ? [['value', value.v] as const] : [];
    for (const [name, v] of points) {
      if (!Number.isFinite(v)) continue;
      const list = out.get(name) ?? [];
      list.push([t, v]);
      out.set(name, list);
    }
  }
  return out;
}

/** contextMs is how much time before the run a timeline shows, so the baseline is visible. */
function contextMs(input: ReportInput): number {
  return Math.min(60_000, Math.max(10_000, Math.round((input.endMs - input.startMs) / 4)));
}

function renderPanel(panel: ReportPanel, input: ReportInput): string {
  const startMs = input.startMs - contextMs(input);
  const { endMs } = input;
  const data = sample(input.query, panel.query, startMs, endMs);
  const values = [...data.values()].flat().map(([, v]) => v);
  const maxV = values.length ? Math.max(...values, 0) : 1;
  const minV = values.length ? Math.min(...values, 0) : 0;
  const span = maxV - minV || 1;
  const x = (t: number): number => PAD.left + ((t - startMs) / Math.max(1, endMs - startMs)) * (WIDTH - PAD.left - PAD.right);
  const y = (v: number): number => HEIGHT - PAD.bottom - ((v - minV) / span) * (HEIGHT - PAD.top - PAD.bottom);
  const shading = input.stages
    .map(
      (s) =>
        `<rect class="fault" x="${x(s.startMs).toFixed(1)}" y="${PAD.top}" width="${Math.max(1, x(s.faultsRemovedAtMs) - x(s.startMs)).toFixed(1)}" height="${HEIGHT - PAD.top - PAD.bottom}"><title>${esc(s.name)}: faults in effect</title></rect>` +
        `<rect class="recovery" x="${x(s.faultsRemovedAtMs).toFixed(1)}" y="${PAD.top}" width="${Math.max(0, x(s.endMs) - x(s.faultsRemovedAtMs)).toFixed(1)}" height="${HEIGHT - PAD.top - PAD.bottom}"><title>${esc(s.name)}: recovery</title></rect>` +
        `<text class="stage" x="${(x(s.startMs) + 3).toFixed(1)}" y="${PAD.top + 11}">${esc(s.name)}</text>`,
    )
    .join('');
  const lines = [...data.entries()]
    .map(([name, pts], i) => {
      const d = pts.map(([t, v], k) => `${k === 0 ? 'M' : 'L'}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      return `<path d="${d}" stroke="${COLORS[i % COLORS.length]}" fill="none" stroke-width="1.6"><title>${esc(name)}</title></path>`;
    })
    .join('');
  const legend = [...data.keys()].map((name, i) => `<span style="color:${COLORS[i % COLORS.length]}">&#9632; ${esc(name)}</span>`).join(' ');
  const axis =
    `<line x1="${PAD.left}" y1="${HEIGHT - PAD.bottom}" x2="${WIDTH - PAD.right}" y2="${HEIGHT - PAD.bottom}" class="axis"/>` +
    `<text x="4" y="${PAD.top + 8}" class="tick">${esc(formatNumber(maxV))}</text><text x="4" y="${HEIGHT - PAD.bottom}" class="tick">${esc(formatNumber(minV))}</text>` +
    `<text x="${PAD.left}" y="${HEIGHT - 6}" class="tick">${esc(new Date(startMs).toISOString().slice(11, 19))}</text>` +
    `<text x="${WIDTH - PAD.right - 52}" y="${HEIGHT - 6}" class="tick">${esc(new Date(endMs).toISOString().slice(11, 19))}</text>`;
  const empty = data.size === 0 ? `<text x="${WIDTH / 2 - 30}" y="${HEIGHT / 2}" class="tick">no data</text>` : '';
  return `<section><h3>${esc(panel.title)}${panel.unit ? ` <small>(${esc(panel.unit)})</small>` : ''}</h3><svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${esc(panel.title)}">${shading}${axis}${lines}${empty}</svg><div class="legend">${legend}</div><code>${esc(panel.query)}</code></section>`;
}

const STATUS_COLORS: Readonly<Record<string, string>> = { passed: '#2ca02c', failed: '#d62728', inconclusive: '#e6a700', error: '#7a1010' };
const ROW = 18;

/**
 * renderRunsTimeline draws, over the same time axis as the panels, one row per probe (a bar per
 * run: green answered ok, red failed, grey hatched cut off at a phase end) and one row per
 * expectation (a dot per measurement, coloured by its status), so the measurements can be seen
 * spread over the stage and its recovery.
 */
function renderRunsTimeline(input: ReportInput): string {
  const runs = input.probeRuns ?? [];
  const expectations = input.scenario.conditions.filter((c) => c.kind === 'expect' && (c.measurements?.length ?? 0) > 0);
  if (runs.length === 0 && expectations.length === 0) return '';
  const startMs = input.startMs - contextMs(input);
  const { endMs } = input;
  const probes = [...new Set(runs.map((r) => r.probe))];
  const rows = probes.length + expectations.length;
  const height = PAD.top + PAD.bottom + rows * ROW;
  const left = 200;
  const x = (t: number): number => left + ((t - startMs) / Math.max(1, endMs - startMs)) * (WIDTH - left - PAD.right);
  const shading = input.stages
    .map(
      (s) =>
        `<rect class="fault" x="${x(s.startMs).toFixed(1)}" y="${PAD.top}" width="${Math.max(1, x(s.faultsRemovedAtMs) - x(s.startMs)).toFixed(1)}" height="${rows * ROW}"></rect>` +
        `<rect class="recovery" x="${x(s.faultsRemovedAtMs).toFixed(1)}" y="${PAD.top}" width="${Math.max(0, x(s.endMs) - x(s.faultsRemovedAtMs)).toFixed(1)}" height="${rows * ROW}"></rect>`,
    )
    .join('');
  const probeRows = probes
    .map((probe, i) => {
      const y = PAD.top + i * ROW;
      const bars = runs
        .filter((r) => r.probe === probe)
        .map((r) => {
          const cls = r.cutOff ? 'run cutoff' : r.ok ? 'run ok' : 'run failed';
          const what = r.cutOff ? 'cut off at the end of its phase' : `${r.reason}`;
          return `<rect class="${cls}" x="${x(r.startedAtMs).toFixed(1)}" y="${y + 4}" width="${Math.max(2, x(r.endedAtMs) - x(r.startedAtMs)).toFixed(1)}" height="${ROW - 8}"><title>${esc(`${probe} (${r.phase}): ${what}, ${((r.endedAtMs - r.startedAtMs) / 1000).toFixed(1)}s`)}</title></rect>`;
        })
        .join('');
      return `<text class="tick" x="4" y="${y + ROW - 5}">probe ${esc(probe)}</text>${bars}`;
    })
    .join('');
  const expectRows = expectations
    .map((c, i) => {
      const y = PAD.top + (probes.length + i) * ROW;
      const dots = (c.measurements ?? [])
        .map((m) => `<circle cx="${x(m.at_ms).toFixed(1)}" cy="${y + ROW / 2}" r="4" fill="${STATUS_COLORS[m.status] ?? '#555'}"><title>${esc(`${c.name}: ${m.status} at ${new Date(m.at_ms).toISOString().slice(11, 23)} (${m.phase})${m.observed === null ? ', no data' : `, observed ${m.observed}`}`)}</title></circle>`)
        .join('');
      return `<text class="tick" x="4" y="${y + ROW - 5}">${esc(`${c.stage ?? ''}: ${c.name}`.slice(0, 34))}</text>${dots}`;
    })
    .join('');
  return `<section><h3>Probe runs and expectation measurements</h3><svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" role="img" aria-label="probe runs and measurements">${shading}${probeRows}${expectRows}</svg><div class="legend"><span style="color:#2ca02c">&#9632; run answered</span> <span style="color:#d62728">&#9632; run failed</span> <span style="color:#999">&#9632; run cut off</span> · dots: measurements (<span style="color:#2ca02c">passed</span>, <span style="color:#d62728">failed</span>, <span style="color:#e6a700">inconclusive</span>)</div></section>`;
}

function formatNumber(v: number): string {
  return Math.abs(v) >= 1000 ? v.toFixed(0) : Number(v.toPrecision(3)).toString();
}

/** renderReport builds report.html for one run. */
export function renderReport(input: ReportInput, panels: readonly ReportPanel[] = DEFAULT_PANELS): string {
  const { scenario, decision } = input;
  const rows = scenario.conditions
    .map(
      (c) =>
        `<tr class="${c.status}"><td>${esc(c.stage ?? '')}</td><td>${esc(c.kind)}</td><td>${esc(c.name)}</td><td><code>${esc(c.query)}</code></td><td>${esc(c.op ?? '')} ${c.threshold ?? ''}</td><td>${c.observed === null ? 'no data' : esc(String(c.observed))}</td><td>${esc(c.window ?? '')}</td><td>${c.sampleCount}</td><td>${esc(c.status)}</td></tr>`,
    )
    .join('\n');
  const faults = scenario.faults
    .map((f) => `<tr><td>${esc(f.stage)}</td><td>${esc(f.proxy)}</td><td>${esc(f.type)}</td><td>${esc(f.stream ?? '')}</td><td>${esc(JSON.stringify(f.attributes ?? {}))}</td><td>${f.removed ? 'removed' : 'NOT REMOVED'}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drill ${esc(input.drill.name)}: ${decision.decision}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:920px}
h1{margin:0 0 4px} .decision{font-size:20px;font-weight:bold;padding:6px 10px;display:inline-block;border-radius:4px}
.allow{background:#d4f5d4;color:#145214} .block{background:#fbd5d5;color:#7a1010}
svg{background:#fafafa;border:1px solid #ddd} rect.fault{fill:#f2a0a0;opacity:.55} rect.recovery{fill:#f7d9a8;opacity:.45}
text.stage{font-size:11px;fill:#7a1010} text.tick{font-size:10px;fill:#555} line.axis{stroke:#999}
table{border-collapse:collapse;width:100%;font-size:12px} td,th{border:1px solid #ddd;padding:3px 5px;text-align:left;vertical-align:top}
tr.failed td,tr.error td{background:#fde8e8} tr.inconclusive td{background:#fff5d6} .legend{font-size:12px} code{font-size:11px}
rect.run.ok{fill:#2ca02c} rect.run.failed{fill:#d62728} rect.run.cutoff{fill:#bbb;stroke:#666;stroke-dasharray:2,2}
</style></head><body>
<h1>Drill ${esc(input.drill.name)}</h1>
<p>${esc(input.drill.description)}</p>
<p class="decision ${decision.decision}">Decision: ${decision.decision}</p>
<p>Run ${esc(input.runId)} · ${esc(new Date(input.startMs).toISOString())} → ${esc(new Date(input.endMs).toISOString())} · status ${esc(scenario.status)} · failures ${decision.failures}</p>
${decision.reasons.length ? `<ul>${decision.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : ''}
${scenario.skipped_checks?.length ? `<p class="decision block">Safety checks SKIPPED: ${esc(scenario.skipped_checks.join('; '))}</p>` : ''}
<p>Shading: <span style="background:#f2a0a0">faults in effect</span> <span style="background:#f7d9a8">recovery</span>; each timeline starts ${Math.round(contextMs(input) / 1000)} s before the run.</p>
${panels.map((p) => renderPanel(p, input)).join('\n')}
${renderRunsTimeline(input)}
<h2>Faults</h2>
<table><tr><th>stage</th><th>proxy</th><th>type</th><th>stream</th><th>attributes</th><th>removal</th></tr>
${faults}
</table>
<h2>Conditions</h2>
<table><tr><th>stage</th><th>kind</th><th>condition</th><th>query</th><th>threshold</th><th>observed</th><th>window</th><th>samples</th><th>status</th></tr>
${rows}
</table>
</body></html>
`;
}
