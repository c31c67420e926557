/**
 * spawnFaultProxy runs the lab's fault proxy in its own process (fault-proxy-process.ts), as
 * `sentinel lab` or a real Toxiproxy runs beside its clients, for the benches that must not share
 * an event loop with it.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RunningProxy {
  readonly url: string;
  close(): Promise<void>;
}

/** spawnFaultProxy starts fault-proxy-process.ts and resolves with its API URL once it listens. */
export async function spawnFaultProxy(): Promise<RunningProxy> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fault-proxy-process.ts');
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fault proxy process did not report its URL within 30 s')), 30_000);
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        resolve((JSON.parse(buf.slice(0, nl)) as { url: string }).url);
      } catch (err) {
        reject(err as Error);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fault proxy process exited with code ${code} before listening`));
    });
  });
  return {
    url,
    async close() {
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killed);
    },
  };
}

