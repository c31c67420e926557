import type { StubIo, Toxic } from './types.js';
import { INTERRUPTED, TIMED_OUT } from './types.js';

/**
 * TimeoutToxic swallows all data on its link. With `timeout > 0` it closes the link once
 * `timeout` ms pass without a chunk (Toxiproxy re-arms its timer on every chunk); with 0 the
 * link stays open, blackholed. Removal closes the link: the stream lost data and is corrupt.
 */
export class TimeoutToxic implements Toxic {
  readonly attrs = { timeout: 0 };

  async pipe(stub: StubIo): Promise<void> {
    for (;;) {
      const timeoutMs = this.attrs.timeout;
      const c = timeoutMs > 0 ? await stub.nextWithin(timeoutMs) : await stub.next();
      if (c === INTERRUPTED) return;
      if (c === null || c === TIMED_OUT) {
        stub.close();
        return;
      }
      stub.discard(c.data.length);
    }
  }

  cleanup(stub: StubIo): void {
    stub.close();
  }
}
