/**
 * progressReporter: a DrillEventHandler that prints a drill's progress for a person watching
 * (`sentinel drill run`, `sentinel demo`): each stage, its faults, every judged condition, and
 * the decision with the evidence path. On a TTY a ticking line shows the stage's elapsed time.
 */
import type { DrillEventHandler } from './drill-events.js';
import type { DrillRunResult } from './drill-runner.js';
import type { FaultRecord } from './outcomes.js';

/** ProgressOutput is where progress goes (process.stdout, or a test buffer). */
export interface ProgressOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

function describeFault(f: FaultRecord): string {
  if (f.type === 'down') return `${f.proxy}: disabled`;
  const attrs = Object.entries(f.attributes ?? {}).map(([k, v]) => `${k}=${v}`).join(' ');
  return `${f.proxy}: ${f.type} ${f.stream ?? ''}${f.toxicity !== undefined && f.toxicity < 1 ? ` toxicity=${f.toxicity}` : ''}${attrs ? ` ${attrs}` : ''}`;
}

/** progressReporter returns the handler; `stop()` clears its TTY ticker. */
export function progressReporter(out: ProgressOutput, nowMs: () => number = Date.now): DrillEventHandler & { stop(): void } {
  let ticker: NodeJS.Timeout | undefined;
  let stageStart = 0;
  let stageName = '';
  const clearTicker = (): void => {
    if (ticker) clearInterval(ticker);
    ticker = undefined;
    if (out.isTTY) out.write('\r\x1b[K');
  };
  return {
    runStarted(drill, runId, dir) {
      out.write(`drill ${drill.name} (run ${runId}): ${drill.description}\n  evidence: ${dir}\n`);
    },
    stageStarted(stage, index) {
      stageStart = nowMs();
      stageName = stage.name;
      out.write(`stage ${index + 1} ${stage.name}: ${Math.round(stage.durationMs / 1000)}s, probes ${stage.probes.join(', ') || '(none)'}, recovery within ${Math.round(stage.recoveryMs / 1000)}s\n`);
      if (out.isTTY) {
        ticker = setInterval(() => out.write(`\r\x1b[K  ${stageName}: ${((nowMs() - stageStart) / 1000).toFixed(0)}s elapsed`), 1000);
        ticker.unref();
      }
    },
    faultsAdded(_stage, faults) {
      if (out.isTTY) out.write('\r\x1b[K');
      for (const f of faults) out.write(`  + fault ${describeFault(f)}\n`);
    },
    faultsRemoved(stage, faults, atMs) {
      if (out.isTTY) out.write('\r\x1b[K');
      const gone = faults.filter((f) => f.removed).length;
      out.write(`  - faults removed (${gone}/${faults.length}) after ${((atMs - stageStart) / 1000).toFixed(1)}s; recovery: within ${Math.round(stage.recoveryMs / 1000)}s, then holding ${Math.round(stage.recoveryHoldMs / 1000)}s\n`);
    },
    recovered(_stage, atMs) {
      if (out.isTTY) out.write('\r\x1b[K');
      out.write(`  steady state back ${((atMs - stageStart) / 1000).toFixed(1)}s into the stage; it must keep holding\n`);
    },
    probeRunFinished(_stage, run) {
      if (!run.cutOff) return;
      if (out.isTTY) out.write('\r\x1b[K');
      out.write(`  probe ${run.probe} cut off at the end of ${run.phase} after ${((run.endedAtMs - run.startedAtMs) / 1000).toFixed(1)}s (not counted as a measurement)\n`);
    },
    measured(_stage, c) {
      if (out.isTTY) out.write('\r\x1b[K');
      const observed = c.observed === null ? 'no data' : `observed ${c.observed}`;
      out.write(`  ${c.status === 'passed' ? 'ok  ' : c.status.toUpperCase().padEnd(4)} ${c.kind} '${c.name}' (${observed}${c.threshold !== undefined ? `, ${c.op ?? ''} ${c.threshold}` : ''})\n`);
    },
    stageFinished(stage, status, reason) {
      clearTicker();
      out.write(`  stage ${stage.name}: ${status}${reason ? ` (${reason})` : ''}\n`);
    },
    runFinished(result: DrillRunResult) {
      clearTicker();
      out.write(`drill ${result.scenario.scenario}: ${result.scenario.status}, run ${result.runStatus}, faults ${result.scenario.faults_removed ? 'removed' : 'NOT PROVEN REMOVED'}\n`);
      out.write(`Decision: ${result.decision.decision}\n`);
      for (const r of result.decision.reasons) out.write(`  - ${r}\n`);
      out.write(`  evidence: ${result.dir}\n  report:   ${result.dir}/report.html\n`);
    },
    stop: clearTicker,
  };
}
