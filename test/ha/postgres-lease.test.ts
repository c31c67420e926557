/**
 * The PostgreSQL drill lease against a real throwaway PostgreSQL: one holder at a time, a refusal
 * naming the holder, the lease back after release, a lease lost when its session is terminated
 * (the held lease's `lost` aborts with the reason), and a silent holder losing it on the server
 * after the ttl (idle_session_timeout), so the other can take it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDrillLease } from '../../src/drills/index.js';
import type { HeldLease } from '../../src/drills/index.js';
import { ManualClock, SystemClock } from '../../src/time/index.js';
import { postgresBinDir, ThrowawayPostgres } from './postgres-harness.js';

const bin = postgresBinDir();
if (!bin) console.warn('test/ha: PostgreSQL binaries not found under /usr/lib/postgresql (npm test installs Debian postgresql); skipping the PostgreSQL lease tests');

describe.skipIf(!bin)('PostgresDrillLease', () => {
  let server: ThrowawayPostgres;
  beforeAll(async () => {
    server = await ThrowawayPostgres.start(bin as string);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  function lease(holder: string, options: { name?: string; ttlMs?: number; clock?: ManualClock | SystemClock; password?: string } = {}): PostgresDrillLease {
    return new PostgresDrillLease({
      url: server.url,
      password: () => options.password ?? server.password,
      name: options.name ?? 'lab/staging',
      holder,
      ttlMs: options.ttlMs ?? 3000,
      clock: options.clock ?? new SystemClock(),
    });
  }
  const claim = (drill: string) => ({ runId: `run-${drill}`, drill, startedAtMs: Date.now() });

  it('grants one holder at a time, names the holder to the other, and is free again after release', async () => {
    const a = lease('sentinel-a');
    const b = lease('sentinel-b');
    const held = await a.acquire(claim('quick-partition'));
    try {
      const refused = await b.acquire(claim('quick-restart')).then(
        () => 'granted',
        (err: Error) => err.message,
      );
      expect(refused).toMatch(/^the drill lease 'lab\/staging' \(PostgreSQL advisory lock 'lab\/staging' on 127\.0\.0\.1:\d+\/postgres\) is held by sentinel 'sentinel-a' running drill 'quick-partition' since \d{4}-\d\d-\d\dT/);
      expect(refused).not.toContain(server.password);
      // Another name is another lease.
      const other = await lease('sentinel-b', { name: 'lab/prod' }).acquire(claim('x'));
      await other.release();
    } finally {
      await held.release();
    }
    expect(held.lost.aborted).toBe(false);
    const again = await b.acquire(claim('quick-restart'));
    expect((await server.leaseSessions()).map((s) => s.application_name)).toEqual(['sentinel-lease sentinel-b quick-restart']);
    await again.release();
    expect(await server.leaseSessions()).toEqual([]);
  }, 30_000);

  it('says it cannot reach the engine (never "granted") for a wrong password, without the password', async () => {
    const err = await lease('sentinel-a', { password: 'not-the-password' })
      .acquire(claim('d'))
      .then(
        () => undefined,
        (e: Error & { code?: string }) => e,
      );
    expect(err?.code).toBe('SENTINEL_UNREACHABLE');
    expect(err?.message).toMatch(/^cannot take the drill lease \(PostgreSQL advisory lock 'lab\/staging' on 127\.0\.0\.1:\d+\/postgres\): password authentication failed for user "sentinel"$/);
  }, 30_000);

  it('is lost when its session is terminated: `lost` aborts with the reason, and the other can take it', async () => {
    const held = await lease('sentinel-a').acquire(claim('quick-partition'));
    const lostReason = new Promise<string>((resolve) => held.lost.addEventListener('abort', () => resolve((held.lost.reason as Error).message), { once: true }));
    expect(await server.terminate('sentinel-lease sentinel-a')).toBe(1);
    expect(await lostReason).toMatch(/^drill lease 'lab\/staging' lost: the PostgreSQL session (failed|ended)/);
    const other = await lease('sentinel-b').acquire(claim('quick-restart'));
    await other.release();
    await held.release();
  }, 30_000);

  it('expires on the server after the ttl when its holder falls silent, and the silent holder then knows it lost it', async () => {
    // A frozen clock: the holder's lease checks never run, as in a hung or cut-off process.
    const frozen = new ManualClock(Date.now());
    const silent: HeldLease = await lease('sentinel-a', { clock: frozen, ttlMs: 3000 }).acquire(claim('quick-partition'));
    const b = lease('sentinel-b');
    const startMs = Date.now();
    await expect(b.acquire(claim('quick-restart'))).rejects.toThrow(/held by sentinel 'sentinel-a'/);
    let taken: HeldLease | undefined;
    while (!taken && Date.now() - startMs < 10_000) {
      taken = await b.acquire(claim('quick-restart')).catch(() => undefined);
      if (!taken) await new Promise((r) => setTimeout(r, 250));
    }
    const waitedMs = Date.now() - startMs;
    expect(taken, 'the lease was never given up by the silent holder').toBeDefined();
    expect(waitedMs).toBeGreaterThanOrEqual(2500);
    expect(waitedMs).toBeLessThan(6000);
    // The server ended the silent holder's session; the holder's lease says so.
    await expect.poll(() => silent.lost.aborted, { timeout: 5000 }).toBe(true);
    expect((silent.lost.reason as Error).message).toMatch(/lost: the PostgreSQL session/);
    await taken?.release();
    await silent.release();
  }, 30_000);
});
