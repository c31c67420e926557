/**
 * alertmanager-harness: starts the real Alertmanager 0.25 (Debian's /usr/bin/prometheus-alertmanager)
 * on a free loopback port, with clustering off, its own storage dir, and a webhook receiver that
 * points at a listener inside the test. Used by the notifier and manager tests.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../helpers/free-port.js';

export { freePort };

export const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';

/** ReceivedMessage is one webhook POST the test listener received. */
export interface ReceivedMessage {
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: {
    status: string;
    receiver: string;
    alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string; generatorURL: string; fingerprint: string }>;
    [k: string]: unknown;
  };
}

/** WebhookListener collects POSTed JSON bodies; `status` decides what it answers. */
export class WebhookListener {
  readonly received: ReceivedMessage[] = [];
  status = 200;
  private server: Server | undefined;
  private waiters: Array<() => void> = [];

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.status >= 200 && this.status < 300) {
          this.received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReceivedMessage['body'] });
          for (const w of this.waiters.splice(0)) w();
        }
        res.writeHead(this.status);
        res.end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** waitFor resolves when `predicate` holds over the received messages, or rejects after `timeoutMs`. */
  async waitFor(predicate: (msgs: ReceivedMessage[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for webhook messages; got ${JSON.stringify(this.received.map((m) => m.body))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }
}


/** RealAlertmanager is one Alertmanager process; `stop()` and `start()` again keep port and storage. */
export class RealAlertmanager {
  readonly dir: string;
  port = 0;
  private child: ChildProcess | undefined;
  private log = '';

  constructor(private readonly webhookUrl: string, private readonly route: { groupWait: string; groupInterval: string; repeatInterval: string; groupBy?: string[] } = { groupWait: '200ms', groupInterval: '500ms', repeatInterval: '1h' }) {
    this.dir = mkdtempSync(join(tmpdir(), 'sentinel-am-'));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const groupBy = JSON.stringify(this.route.groupBy ?? ['alertname']);
    writeFileSync(
      join(this.dir, 'alertmanager.yml'),
      [
        'route:',
        '  receiver: test',
        `  group_by: ${groupBy}`,
        `  group_wait: ${this.route.groupWait}`,
        `  group_interval: ${this.route.groupInterval}`,
        `  repeat_interval: ${this.route.repeatInterval}`,
        'receivers:',
        '  - name: test',
        '    webhook_configs:',
        `      - url: ${this.webhookUrl}/hook`,
        '        send_resolved: true',
        '',
      ].join('\n'),
    );
    this.child = spawn(
      ALERTMANAGER_BIN,
      [`--config.file=${join(this.dir, 'alertmanager.yml')}`, `--storage.path=${join(this.dir, 'data')}`, `--web.listen-address=127.0.0.1:${this.port}`, '--cluster.listen-address=', '--log.level=debug'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        const res = await fetch(`${this.url}/-/ready`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`alertmanager did not become ready:\n${this.log}`);
      if (this.child.exitCode !== null) throw new Error(`alertmanager exited ${this.child.exitCode}:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** activeAlerts is Alertmanager's own `GET /api/v2/alerts` view. */
  async activeAlerts(): Promise<Array<{ labels: Record<string, string>; startsAt: string; endsAt: string }>> {
    const res = await fetch(`${this.url}/api/v2/alerts`, { signal: AbortSignal.timeout(2000) });
    return (await res.json()) as Array<{ labels: Record<string, string>; startsAt: string; endsAt: string }>;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    this.child = undefined;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  get output(): string {
    return this.log;
  }
}
