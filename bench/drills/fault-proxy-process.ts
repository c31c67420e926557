/**
 * Runs the lab's fault proxy alone in this process, as `sentinel lab` or a real Toxiproxy runs
 * beside the drill runner, so fault-timing.bench.ts does not share an event loop with it.
 * Prints `{"url": ...}` on stdout once listening; exits on SIGTERM/SIGINT or when stdin closes.
 * Not a bench itself (no `.bench.ts`): fault-timing.bench.ts spawns it.
 */
import { startFaultProxy } from '../../src/lab/fault-proxy/index.js';

const fp = await startFaultProxy();
process.stdout.write(`${JSON.stringify({ url: fp.url })}\n`);
let closing = false;
const stop = (): void => {
  if (closing) return;
  closing = true;
  fp.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
