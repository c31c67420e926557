import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab } from '../../../src/lab/index.js';
import type { Lab } from '../../../src/lab/index.js';
import { ConnectionChurnLock, ConnectionsProbe, createSpacetimeTarget, ResumeProbe } from '../../../src/probes/probes/index.js';
import { instruments, probeContext } from './probe-context.js';

let lab: Lab;

beforeAll(async () => {
  // Traffic on, so the handshake runs beside other activity, as in staging.
  lab = await startLab({ ports: { spacetimedb: 0, runtime: 0, control: 0, admin: 0 }, tickMs: 20 });
});
afterAll(async () => {
  await lab.close();
});

describe('handshake accuracy', () => {
  it('200 healthy runs pass and every run with a leaking lab is caught, while the resume canary churns', { timeout: 180_000 }, async () => {
    const target = createSpacetimeTarget({ baseUrl: lab.urls.spacetimedb, database: lab.databaseName, timeoutMs: 3000 });
    const lock = new ConnectionChurnLock();
    const probe = new ConnectionsProbe({ target, sessions: 2, settleTimeoutMs: 600, pollIntervalMs: 10, churnLock: lock });
    const resume = new ResumeProbe({ target, instruments: instruments(), clientId: 'sentinel.canary.handshake-neighbour', eventsWhileAway: 2, churnLock: lock });
    let seed = 99;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const wrong: string[] = [];
    let healthyRuns = 0;
    let leakRuns = 0;
    try {
      while (healthyRuns < 200) {
        const leak = leakRuns < 20 && rand() < 0.15;
        lab.setKnobs({ leak_connection_rows: leak });
        // The resume canary connects and disconnects concurrently; the lock keeps it out of the count.
        const [r] = await Promise.all([probe.run(probeContext()), healthyRuns % 10 === 0 ? resume.run(probeContext()) : Promise.resolve(undefined)]);
        if (leak) {
          leakRuns++;
          if (r.reason !== 'leak') wrong.push(`leak run: ${r.reason} ${JSON.stringify(r.detail)}`);
          lab.setKnobs({ leak_connection_rows: false });
          // Remove the leaked rows the way the server would after a restart.
          lab.setKnobs({ restart: true });
        } else {
          healthyRuns++;
          if (!r.ok) wrong.push(`healthy run: ${r.reason} ${JSON.stringify(r.detail)}`);
        }
      }
      expect(wrong).toEqual([]);
      expect(leakRuns).toBeGreaterThanOrEqual(15);
    } finally {
      lab.setKnobs({ leak_connection_rows: false });
      await resume.close();
    }
  });
});
