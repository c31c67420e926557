import { pipeChunks } from './pipe-chunks.js';
import type { StubIo, Toxic } from './types.js';

/** LimitDataState is limit_data's per-link byte counter; it survives toxic updates. */
export interface LimitDataState {
  bytesTransmitted: number;
}

/** LimitDataToxic forwards at most `bytes` bytes per link, then closes the connection. */
export class LimitDataToxic implements Toxic {
  readonly attrs = { bytes: 0 };

  newState(): LimitDataState {
    return { bytesTransmitted: 0 };
  }

  pipe(stub: StubIo): Promise<void> {
    const state = stub.state as LimitDataState;
    return pipeChunks(stub, (c) => {
      const remaining = Math.max(0, this.attrs.bytes - state.bytesTransmitted);
      let data = c.data;
      if (remaining < data.length) {
        stub.discard(data.length - remaining);
        data = data.subarray(0, remaining);
      }
      if (data.length > 0) {
        stub.send({ data, receivedAtMs: c.receivedAtMs });
        state.bytesTransmitted += data.length;
      }
      if (this.attrs.bytes - state.bytesTransmitted <= 0) {
        stub.close();
        return false;
      }
      return true;
    });
  }
}
