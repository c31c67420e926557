/**
 * Debian's real `prometheus` on loopback for tests and benches: spawned on a free port with a
 * config file and TSDB under a given directory, waited for until `/-/ready`, and stopped for sure
 * (SIGTERM, then SIGKILL). `restart` stops it and starts it again on the same port and data
 * directory, which is how a receiver outage is made real.
 *
 * Used by test/export/parity-harness.ts, the remote-write and query-source tests and their benches.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './free-port.js';

export { freePort };

/** PrometheusOptions configure one process. */
export interface PrometheusOptions {
  /** dir holds prometheus.yml and the TSDB (`data/`). */
  readonly dir: string;
  /** config is prometheus.yml as an object. */
  readonly config: Record<string, unknown>;
  /** extraArgs are added to the command line, e.g. `--web.enable-remote-write-receiver`. */
  readonly extraArgs?: readonly string[];
  /** port to listen on (default: a free one). */
  readonly port?: number;
}

/** PrometheusProcess is one running (or restartable) prometheus. */
export interface PrometheusProcess {
  readonly url: string;
  readonly port: number;
  /** output is the tail of its stdout and stderr, for failure messages. */
  output(): string;
  /** stop stops it (SIGTERM, SIGKILL after 10 s); idempotent. */
  stop(): Promise<void>;
  /** start starts it again on the same port and data directory and waits until ready. */
  start(): Promise<void>;
}


function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${output().slice(-2000)}`);
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`prometheus not ready within 30 s: ${output().slice(-2000)}`);
    await sleep(200);
  }
}

/** startPrometheus writes the config, spawns prometheus and waits until it is ready. */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusProcess> {
  mkdirSync(options.dir, { recursive: true });
  const configFile = join(options.dir, 'prometheus.yml');
  writeFileSync(configFile, stringify(options.config));
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let out = '';
  const output = (): string => out;
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await Promise.race([exited, sleep(5000)]);
    }
  };
  const start = async (): Promise<void> => {
    if (child) return;
    const c = spawn(
      'prometheus',
      [`--config.file=${configFile}`, `--storage.tsdb.path=${join(options.dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn', '--storage.tsdb.retention.time=1d', ...(options.extraArgs ?? [])],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = c;
    const collect = (b: Buffer): void => {
      out = (out + b.toString('utf8')).slice(-20_000);
    };
    c.stdout?.on('data', collect);
    c.stderr?.on('data', collect);
    try {
      await waitReady(url, c, output);
    } catch (err) {
      await stop();
      throw err;
    }
  };
  await start();
  return { url, port, output, stop, start };
}
