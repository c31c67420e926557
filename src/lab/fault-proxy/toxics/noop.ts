import { pipeChunks } from './pipe-chunks.js';
import type { StubIo, Toxic } from './types.js';

/** NoopToxic passes every chunk through untouched; it is also what a lost toxicity roll runs. */
export class NoopToxic implements Toxic {
  readonly attrs: Record<string, number> = {};

  pipe(stub: StubIo): Promise<void> {
    return pipeChunks(stub, (c) => {
      stub.send(c);
      return true;
    });
  }
}
