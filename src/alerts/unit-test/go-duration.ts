/** formatGoDuration prints milliseconds like Go's time.Duration.String (`0s`, `1m0s`, `1h0m0s`, `1.5s`, `500ms`). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let rest = Math.abs(ms);
  let out: string;
  if (rest < 1000) {
    out = `${rest}ms`;
  } else {
    const h = Math.floor(rest / 3_600_000);
    rest -= h * 3_600_000;
    const m = Math.floor(rest / 60_000);
    rest -= m * 60_000;
    const s = rest / 1000;
    const secText = Number.isInteger(s) ? String(s) : String(Math.floor(s)) + '.' + String(rest % 1000).padStart(3, '0').replace(/0+$/, '');
    out = h > 0 ? `${h}h${m}m${secText}s` : m > 0 ? `${m}m${secText}s` : `${secText}s`;
  }
  return neg ? `-${out}` : out;
}
