import type { StubIo, Toxic } from './types.js';
import { INTERRUPTED } from './types.js';

/** SlowCloseToxic passes data normally but delays the end of the stream by `delay` ms. */
export class SlowCloseToxic implements Toxic {
  readonly attrs = { delay: 0 };

  async pipe(stub: StubIo): Promise<void> {
    for (;;) {
      const c = await stub.next();
      if (c === INTERRUPTED) return;
      if (c === null) {
        // An interrupt here returns without closing; the EOF stays pending on the stage's input,
        // so the restarted stage (or the removal flush) sees it again.
        if (!(await stub.sleep(this.attrs.delay))) return;
        stub.close();
        return;
      }
      stub.send(c);
    }
  }
}
