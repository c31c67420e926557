/**
 * Breach-to-receipt benchmark: how long from the moment a sample crosses a threshold until the
 * real Alertmanager 0.25 delivers the alert to its webhook receiver, through the whole daemon
 * path (store → rule manager on the system clock → Alertmanager notifier → Alertmanager →
 * webhook). Target: within `for` + one evaluation interval + 1 s (+ Alertmanager's
 * group_wait, configured here at 100 ms).
 * Run: npx tsx bench/alerts/breach-to-receipt.bench.ts [--rounds N] [--interval-ms MS] [--for-ms MS]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { AlertmanagerNotifier } from '../../src/alerts/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { SystemClock } from '../../src/time/index.js';
import { RealAlertmanager, WebhookListener } from '../../test/alerts/notifiers/alertmanager-harness.js';
import { storeRuleManager } from '../../test/helpers/store-rule-manager.js';
import { numberArg } from '../bench-cli.js';

const ROUNDS = numberArg('rounds', 5);
const INTERVAL_MS = numberArg('interval-ms', 1000);
const FOR_MS = numberArg('for-ms', 2000);
const GROUP_WAIT_MS = 100;

const dir = mkdtempSync(join(os.tmpdir(), 'sentinel-bench-'));
const rulesFile = join(dir, 'rules.yaml');
writeFileSync(rulesFile, `groups:\n  - name: bench\n    rules:\n      - alert: BenchBreach\n        expr: bench_lag > 10000\n        for: ${FOR_MS}ms\n`);
const listener = new WebhookListener();
const am = new RealAlertmanager(await listener.start(), { groupWait: `${GROUP_WAIT_MS}ms`, groupInterval: '200ms', repeatInterval: '1h', groupBy: ['alertname', 'round'] });
await am.start();
const clock = new SystemClock();
const store = new MemoryStore();
const manager = storeRuleManager({
  rulesFile,
  store,
  clock,
  defaultIntervalMs: INTERVAL_MS,
  notifiers: [new AlertmanagerNotifier({ urls: [am.url], clock, registry: new Registry(), initialBackoffMs: 50 })],
});
await manager.start();

console.log(`breach-to-receipt bench: node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}; interval ${INTERVAL_MS} ms, for ${FOR_MS} ms, group_wait ${GROUP_WAIT_MS} ms`);
const budgetMs = FOR_MS + INTERVAL_MS + 1000 + GROUP_WAIT_MS;
const latencies: number[] = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    const labels = { __name__: 'bench_lag', round: String(round) };
    const breachAt = Date.now();
    // A probe writes every 250 ms while the breach lasts.
    const feeder = setInterval(() => {
      const app = store.appender();
      app.append(labels, Date.now(), 15_000);
      app.commit();
    }, 250);
    const app = store.appender();
    app.append(labels, breachAt, 15_000);
    app.commit();
    await listener.waitFor((msgs) => msgs.some((m) => m.body.alerts.some((a) => a.labels.round === String(round) && a.status === 'firing')), budgetMs + 10_000);
    const ms = Date.now() - breachAt;
    latencies.push(ms);
    clearInterval(feeder);
    const end = store.appender();
    end.appendStale(labels, Date.now());
    end.commit();
    console.log(`round ${round}: ${ms} ms ${ms <= budgetMs ? 'within' : 'OVER'} budget ${budgetMs} ms`);
  }
} finally {
  await manager.stop(Date.now() + 2000);
  await am.destroy();
  await listener.close();
  rmSync(dir, { recursive: true, force: true });
}
latencies.sort((a, b) => a - b);
console.log(`min ${latencies[0]} ms, median ${latencies[Math.floor(latencies.length / 2)]} ms, max ${latencies[latencies.length - 1]} ms; budget for + interval + 1 s + group_wait = ${budgetMs} ms`);
