import { pipeChunks } from './pipe-chunks.js';
import type { StubIo, Toxic } from './types.js';

/**
 * SlicerToxic cuts each chunk into pieces of about `average_size` ± `size_variation` bytes and
 * waits `delay` µs after each piece. Toxiproxy crashes on some settings (zeros recurse forever,
 * a zero variation panics); here any setting is safe: pieces are at least one byte.
 */
export class SlicerToxic implements Toxic {
  readonly attrs = { average_size: 0, size_variation: 0, delay: 0 };

  /** offsets returns [start0, end0, start1, end1, ...] covering [0, size). */
  offsets(size: number): number[] {
    const average = this.attrs.average_size;
    const variation = Math.max(0, this.attrs.size_variation);
    const out: number[] = [];
    // Explicit stack instead of recursion: no stack overflow whatever the settings.
    const stack: Array<[number, number]> = [[0, size]];
    while (stack.length > 0) {
      const [start, end] = stack.pop() as [number, number];
      const len = end - start;
      if (len <= 1 || len - average <= variation) {
        out.push(start, end);
        continue;
      }
      let mid = start + Math.floor(len / 2);
      if (variation > 0) mid += Math.floor(Math.random() * variation * 2) - variation;
      mid = Math.min(end - 1, Math.max(start + 1, mid));
      stack.push([mid, end], [start, mid]);
    }
    return out;
  }

  pipe(stub: StubIo): Promise<void> {
    return pipeChunks(stub, async (c) => {
      if (c.data.length === 0) return true;
      const offsets = this.offsets(c.data.length);
      for (let i = 1; i < offsets.length; i += 2) {
        stub.send({ data: c.data.subarray(offsets[i - 1], offsets[i]), receivedAtMs: c.receivedAtMs });
        const delayMs = Math.max(0, this.attrs.delay) / 1000;
        if (delayMs <= 0 || i + 1 >= offsets.length) continue;
        if (!(await stub.sleep(delayMs))) {
          stub.send({ data: c.data.subarray(offsets[i]), receivedAtMs: c.receivedAtMs });
          return false;
        }
      }
      return true;
    });
  }
}
