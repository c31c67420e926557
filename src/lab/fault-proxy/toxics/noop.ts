import type { StubIo, Toxic } from './types.js';
import { INTERRUPTED } from './types.js';

/** NoopToxic passes every chunk through untouched; it is also what a lost toxicity roll runs. */
export class NoopToxic implements Toxic {
  readonly attrs: Record<string, number> = {};

  async pipe(stub: StubIo): Promise<void> {
    for (;;) {
      const c = await stub.next();
      if (c === INTERRUPTED) return;
      if (c === null) {
        stub.close();
        return;
      }
      stub.send(c);
    }
  }
}
