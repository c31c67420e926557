/**
 * `sentinel gate [--config FILE] [--out DIR] [--json]`: the promotion gate. Allow (exit 0) only
 * when every required drill's newest evidence verifies as allow and is recent enough, no critical
 * alert fires (asked of the running daemon; no answer blocks), and the SLO conditions hold over
 * the soak window in the daemon's samples; block (exit 1) otherwise; 2 for configuration errors.
 * Writes gate-results.jsonl and SUMMARY.md.
 */
import { dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { evaluateGate, evidenceDirName, writeGateEvidence } from '../drills/index.js';
import { MemoryStore, openSampleStore, STORE_FILE } from '../store/index.js';
import type { SampleStore } from '../store/index.js';
import { checkedConfigOf, configFileOf } from './config-file.js';
import { runningDaemonAlerts } from './drill-runtime.js';
import { createConfiguredEngine, createConfiguredQuerySource } from './query-engine.js';
import type { Command } from './types.js';
import { ExitCodes } from './types.js';

/** gateCommand implements `sentinel gate`. */
export const gateCommand: Command = {
  options: { config: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } },
  async run(args, io) {
    if (args.positionals.length > 0) {
      io.stderr.write(`sentinel gate: unexpected argument '${args.positionals[0]}'\n`);
      return ExitCodes.usage;
    }
    const file = configFileOf(args, io);
    const config = checkedConfigOf(file, io);
    if (config === undefined) return ExitCodes.usage;
    const nowMs = Date.now();
    // The SLOs are judged on the daemon's samples; without a store there is no data (inconclusive).
    const store: SampleStore = existsSync(join(config.storage.dataDir, STORE_FILE))
      ? openSampleStore({ dataDir: config.storage.dataDir, readOnly: true, retentionMs: config.storage.retentionMs })
      : new MemoryStore();
    try {
      const engine = createConfiguredEngine(config);
      // With query_source: the SLOs are judged on the external Prometheus (an error there blocks).
      const source = createConfiguredQuerySource(config);
      const gate = config.drills.gate;
      const report = await evaluateGate({
        requiredDrills: gate.requiredDrills,
        maxEvidenceAgeMs: gate.maxEvidenceAgeMs,
        soakWindowMs: gate.soakWindowMs,
        deliveryP95MaxSeconds: gate.deliveryP95MaxSeconds,
        errorBudgetRatioMax: gate.errorBudgetRatioMax,
        evidenceRoot: config.drills.evidenceDir,
        ...(config.drills.manifestHmacKey ? { hmacKey: config.drills.manifestHmacKey.reveal() } : {}),
        query: source ? (e, t) => source.instantQuery(e, t) : (e, t) => engine.instantQuery(store, e, t),
        alerts: runningDaemonAlerts(config),
        nowMs,
      });
      const out = typeof args.options.out === 'string' ? resolve(io.cwd, args.options.out) : join(dirname(config.drills.evidenceDir), 'gate', evidenceDirName(nowMs));
      writeGateEvidence(out, report, nowMs, [
        ['Environment', config.environment],
        ['Evidence root', config.drills.evidenceDir],
      ]);
      if (args.options.json) {
        io.stdout.write(JSON.stringify({ decision: report.decision.decision, checks: report.checks, dir: out }) + '\n');
      } else {
        for (const c of report.checks) io.stdout.write(`${c.status === 'passed' ? 'ok  ' : c.status.toUpperCase().padEnd(4)} ${c.check}: ${c.detail}\n`);
        io.stdout.write(`Decision: ${report.decision.decision}\n  written to ${out}\n`);
      }
      return report.decision.decision === 'allow' ? ExitCodes.ok : ExitCodes.failed;
    } finally {
      await store.close();
    }
  },
};
