import type { StubIo, Toxic } from './types.js';
import { INTERRUPTED } from './types.js';

/**
 * ResetPeerToxic waits for the first chunk (or EOF) on its link, drops it, waits `timeout` ms
 * (not interruptible) and closes the link. Connections accepted while the toxic existed close
 * with RST (SO_LINGER 0); the link applies that, the toxic only decides when.
 */
export class ResetPeerToxic implements Toxic {
  readonly attrs = { timeout: 0 };

  async pipe(stub: StubIo): Promise<void> {
    const c = await stub.next();
    if (c === INTERRUPTED) return;
    if (c !== null) stub.discard(c.data.length);
    await stub.sleepThrough(this.attrs.timeout);
    stub.close();
  }
}
