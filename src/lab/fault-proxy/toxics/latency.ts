import { pipeChunks } from './pipe-chunks.js';
import type { StubIo, Toxic } from './types.js';

/**
 * LatencyToxic holds each chunk until its read time plus `latency` ms (± `jitter` ms). The delay
 * counts from when the chunk was read, so a busy link keeps its throughput.
 */
export class LatencyToxic implements Toxic {
  readonly attrs = { latency: 0, jitter: 0 };

  private delayMs(): number {
    let delay = this.attrs.latency;
    const jitter = this.attrs.jitter;
    if (jitter > 0) delay += Math.floor(Math.random() * jitter * 2) - jitter;
    return delay;
  }

  pipe(stub: StubIo): Promise<void> {
    return pipeChunks(stub, async (c) => {
      const sleepMs = this.delayMs() - (stub.nowMs() - c.receivedAtMs);
      if (!(await stub.sleep(sleepMs))) {
        // Interrupted mid-delay: forward at once, never drop data.
        stub.send(c);
        return false;
      }
      c.receivedAtMs += sleepMs;
      stub.send(c);
      return true;
    });
  }
}
