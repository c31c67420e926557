/**
 * Prometheus-style durations (`15s`, `5m`, `1h30m`, `100ms`, `2d`, `1w`, `1y`), as used in
 * configuration, rule files, drill files and PromQL. Units must appear largest first and at most
 * once each, as in Prometheus' model.ParseDuration.
 */

const UNIT_MS: ReadonlyArray<readonly [string, number]> = [
  ['y', 365 * 24 * 3600_000],
  ['w', 7 * 24 * 3600_000],
  ['d', 24 * 3600_000],
  ['h', 3600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** parseDurationMs parses a Prometheus duration into milliseconds, or returns undefined. */
export function parseDurationMs(text: string): number | undefined {
  if (text === '0') return 0;
  if (text === '') return undefined;
  const m = DURATION_RE.exec(text);
  if (!m) return undefined;
  let total = 0;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const part = m[i + 1];
    if (part !== undefined) total += Number(part) * UNIT_MS[i][1];
  }
  return total;
}

/** formatDurationMs prints milliseconds the way Prometheus prints a duration (`1h30m`, `0s`). */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.abs(ms);
  let out = ms < 0 ? '-' : '';
  for (const [unit, size] of UNIT_MS) {
    // Prometheus only prints y and w when they divide the whole value.
    if ((unit === 'y' || unit === 'w') && rest % size !== 0) continue;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
