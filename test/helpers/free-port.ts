/** The one way the suites pick a loopback port for a server they start as a separate process. */
import { createServer } from 'node:net';

/** freePort asks the kernel for a free loopback port (a tiny race with other processes accepted). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}
