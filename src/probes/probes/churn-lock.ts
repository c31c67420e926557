/**
 * ConnectionChurnLock keeps the sentinel's own connects and disconnects out of the handshake
 * count: the connections probe holds it while it counts `active_connection`, and probes that
 * open short-lived sessions (resume) hold it while they connect or close. Pass one instance to
 * every probe of a daemon; without one, each probe gets its own and nothing is coordinated.
 */
export class ConnectionChurnLock {
  private tail: Promise<void> = Promise.resolve();

  /** withLock runs `fn` once every earlier holder is done; holders run one at a time, in order. */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.tail;
    let release: () => void = () => undefined;
    this.tail = new Promise<void>((r) => (release = r));
    try {
      await previous;
      return await fn();
    } finally {
      release();
    }
  }
}
