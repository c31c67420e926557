/**
 * Timed knob changes (`after_ms`) run on the lab's injected clock: a ManualClock decides when
 * they apply, `/lab/state` lists them until then, and a restart or close cancels them.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Lab } from '../../src/lab/index.js';
import { ManualClock } from '../../src/time/index.js';
import { dig, startTestLab } from './helpers.js';

let lab: Lab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

async function postKnobs(l: Lab, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${l.urls.admin}/lab/knobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(3000) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('after_ms: knob changes applied later on the lab clock', () => {
  it('applies the other knobs of the body after N ms of the injected clock, and lists them until then', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    lab = await startTestLab({ clock });
    const r = await postKnobs(lab, { after_ms: 5000, streaming_stopped: true, next_rebootstrap: 'gap' });
    expect(r.status).toBe(200);
    expect(dig(r.json, 'knobs', 'streaming_stopped')).toBe(false);
    expect(dig(r.json, 'pending_knobs')).toEqual([{ id: 1, after_ms: 5000, due_at_unix_ms: 1_700_000_005_000, knobs: { streaming_stopped: true, next_rebootstrap: 'gap' } }]);
    await clock.advance(4999);
    expect(lab.state().knobs.streaming_stopped).toBe(false);
    await clock.advance(1);
    const state = lab.state();
    expect(state.knobs.streaming_stopped).toBe(true);
    expect(state.knobs.next_rebootstrap).toBe('gap');
    expect(state.pending_knobs).toEqual([]);
  });

  it('applies several pending changes in due order; nested knobs merge with what is in effect then', async () => {
    const clock = new ManualClock(0);
    lab = await startTestLab({ clock });
    lab.setKnobs({ after_ms: 2000, traffic: { events_per_second: 50 } });
    lab.setKnobs({ after_ms: 1000, traffic: { paused: false } });
    expect(lab.state().pending_knobs.map((p) => p.due_at_unix_ms)).toEqual([1000, 2000]);
    await clock.advance(1000);
    expect(lab.state().knobs.traffic).toEqual({ paused: false, events_per_second: 5 });
    await clock.advance(1000);
    expect(lab.state().knobs.traffic).toEqual({ paused: false, events_per_second: 50 });
  });

  it('refuses a bad timed body at once, naming the problem', async () => {
    lab = await startTestLab({ clock: new ManualClock(0) });
    for (const [body, word] of [
      [{ after_ms: -1, streaming_stopped: true }, 'after_ms'],
      [{ after_ms: 1.5, streaming_stopped: true }, 'after_ms'],
      [{ after_ms: 100 }, 'at least one knob'],
      [{ after_ms: 100, streaming_stopped: 'yes' }, 'streaming_stopped'],
      [{ after_ms: 100, warp: 1 }, 'warp'],
    ] as const) {
      const r = await postKnobs(lab, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(dig(r.json, 'error', 'message')).toContain(word);
    }
    expect(lab.state().pending_knobs).toEqual([]);
  });

  it('a restart cancels pending changes (a timed restart too), and after_ms 0 applies at once', async () => {
    const clock = new ManualClock(0);
    lab = await startTestLab({ clock });
    lab.setKnobs({ after_ms: 1000, streaming_stopped: true });
    lab.setKnobs({ after_ms: 500, restart: true });
    await clock.advance(500);
    let state = lab.state();
    expect(state.counters.lab.restarts).toBe(1);
    expect(state.pending_knobs).toEqual([]);
    await clock.advance(1000);
    expect(lab.state().knobs.streaming_stopped).toBe(false);
    state = lab.setKnobs({ after_ms: 0, leak_connection_rows: true });
    expect(state.knobs.leak_connection_rows).toBe(true);
  });

  it('close cancels pending changes', async () => {
    const clock = new ManualClock(0);
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const l = await startTestLab({ clock, logger });
    l.setKnobs({ after_ms: 1000, streaming_stopped: true });
    expect(lines.some((x) => x.includes('lab knob change scheduled'))).toBe(true);
    await l.close();
    await clock.advance(2000);
    expect(lines.filter((x) => x.includes('timed knob change'))).toEqual([]);
  });

  it('refuses after_ms among the start knobs', async () => {
    await expect(startTestLab({ knobs: { after_ms: 10, streaming_stopped: true } })).rejects.toThrow(/after_ms/);
  });
});
