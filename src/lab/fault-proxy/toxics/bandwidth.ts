import { pipeChunks } from './pipe-chunks.js';
import type { StubIo, Toxic } from './types.js';

const PIECE_INTERVAL_MS = 100;

/**
 * BandwidthToxic limits a link to `rate` KB/s (1 KB = 1000 bytes, so bytes per ms). Large chunks
 * go out in `rate*100`-byte pieces every 100 ms. `rate <= 0` stalls the link, as in Toxiproxy
 * (where a negative rate would crash the server; here it stalls like 0).
 */
export class BandwidthToxic implements Toxic {
  readonly attrs = { rate: 0 };

  pipe(stub: StubIo): Promise<void> {
    // Carried-over delay, so the average rate holds despite timer granularity.
    let sleepMs = 0;
    return pipeChunks(stub, async (c) => {
      const rate = this.attrs.rate;
      let data = c.data;
      if (rate <= 0) sleepMs = 0;
      else sleepMs += data.length / rate;
      const pieceBytes = Math.max(0, rate) * PIECE_INTERVAL_MS;
      while (data.length > pieceBytes) {
        if (!(await stub.sleep(PIECE_INTERVAL_MS))) {
          stub.send({ data, receivedAtMs: c.receivedAtMs });
          return false;
        }
        if (pieceBytes > 0) {
          stub.send({ data: data.subarray(0, pieceBytes), receivedAtMs: c.receivedAtMs });
          data = data.subarray(pieceBytes);
        }
        sleepMs -= PIECE_INTERVAL_MS;
      }
      const startMs = stub.nowMs();
      const slept = await stub.sleep(sleepMs);
      if (slept) sleepMs -= stub.nowMs() - startMs;
      stub.send({ data, receivedAtMs: c.receivedAtMs });
      return slept;
    });
  }
}
