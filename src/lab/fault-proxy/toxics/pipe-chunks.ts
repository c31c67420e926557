import type { Chunk, StubIo } from './types.js';
import { INTERRUPTED } from './types.js';

/**
 * ChunkStep is what a toxic does with one chunk. It returns true to take the next chunk, or
 * false to stop piping: an interrupted sleep (having forwarded what it held) or a stage it
 * closed itself. Synchronous steps return a plain boolean, so a pass-through costs no extra
 * promise turn per chunk.
 */
export type ChunkStep = (chunk: Chunk) => boolean | Promise<boolean>;

/**
 * pipeChunks is the loop every data-moving toxic runs (Toxiproxy's `select` on `stub.Interrupt`
 * and `stub.Input` in `toxics/noop.go`, `toxics/latency.go`, `toxics/bandwidth.go`,
 * `toxics/slicer.go`, `toxics/limit_data.go`): take chunks until an interrupt (return, dropping
 * nothing) or EOF (close the stage, then return), handing each chunk to `step`.
 */
export async function pipeChunks(stub: StubIo, step: ChunkStep): Promise<void> {
  for (;;) {
    const c = await stub.next();
    if (c === INTERRUPTED) return;
    if (c === null) {
      stub.close();
      return;
    }
    const more = step(c);
    if (more === false || (more !== true && !(await more))) return;
  }
}
