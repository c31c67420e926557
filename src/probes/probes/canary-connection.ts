/**
 * CanaryConnection is a long-lived WebSocket a probe keeps between runs (the canary writer and
 * followers). It reconnects lazily at the start of a run when the previous socket has ended,
 * presenting the token of its first IdentityToken so it keeps one identity.
 */
import type { CallOptions, SpacetimeWsClient } from '../../spacetime/index.js';
import type { SpacetimeTarget } from './spacetime-target.js';

/** CanaryConnection owns one long-lived connection. */
export class CanaryConnection {
  private client: SpacetimeWsClient | undefined;
  private token: string | undefined;
  /** connects counts the connections opened (1 = never reconnected). */
  connects = 0;

  constructor(
    private readonly target: SpacetimeTarget,
    private readonly onConnect: (client: SpacetimeWsClient, opts: CallOptions) => Promise<void> = async () => undefined,
  ) {}

  /** current is the open client, if any. */
  get current(): SpacetimeWsClient | undefined {
    return this.client?.isOpen ? this.client : undefined;
  }

  /** reconnects counts the connections opened after the first (the socket had ended). */
  get reconnects(): number {
    return Math.max(0, this.connects - 1);
  }

  /** ensure returns an open client, connecting (and running `onConnect`) when needed. */
  async ensure(opts: CallOptions): Promise<{ client: SpacetimeWsClient; fresh: boolean }> {
    if (this.client?.isOpen) return { client: this.client, fresh: false };
    this.client?.terminate();
    this.client = undefined;
    const client = this.target.connect(this.token);
    try {
      const hello = await client.connect(opts);
      this.token = hello.token;
      this.connects++;
      await this.onConnect(client, opts);
    } catch (err) {
      client.terminate();
      throw err;
    }
    this.client = client;
    return { client, fresh: true };
  }

  /** reset drops the connection so the next `ensure` reconnects. */
  reset(): void {
    this.client?.terminate();
    this.client = undefined;
  }

  /** close ends the connection cleanly (bounded). */
  async close(timeoutMs = 2000): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await c.close(1000, 'sentinel stopping', { timeoutMs });
  }
}
