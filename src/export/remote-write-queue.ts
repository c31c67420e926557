/**
 * RemoteWriteQueue: the durable, bounded queue between the store's commits and a remote-write
 * endpoint. Built like the notifiers' `DeliveryQueue` (a SQLite file in WAL mode with
 * synchronous=NORMAL, FIFO by row id, the oldest dropped past the bound, a row removed only once
 * the receiver took it), with three differences that keep it its own type:
 *   1. the bound counts samples, not rows (`capacity`, as Prometheus' queue_config does);
 *   2. a row is an already encoded WriteRequest of up to `maxSamplesPerSend` samples, stored as a
 *      blob, and consecutive rows join into one request by concatenation: no decoding and
 *      re-encoding per send, no JSON per sample;
 *   3. acknowledging is "everything up to this row", one statement.
 */
import { openSqliteFile } from '../store/index.js';
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';

/** PendingSend is the oldest rows joined into one request. */
export interface PendingSend {
  /** lastId acknowledges every row up to it. */
  readonly lastId: number;
  readonly samples: number;
  readonly maxT: number;
  readonly body: Uint8Array;
}

/** RemoteWriteQueueOptions configure one queue. */
export interface RemoteWriteQueueOptions {
  /** path is the SQLite file (`:memory:` for a queue that need not survive a restart). */
  readonly path: string;
  /** capacity bounds the queued samples; past it the oldest rows are dropped. */
  readonly capacity: number;
}

interface Row {
  id: number;
  samples: number;
  max_t: number;
  body: Buffer;
}

/** RemoteWriteQueue is a FIFO of encoded batches on disk. */
export class RemoteWriteQueue {
  readonly capacity: number;
  private readonly db: SqliteDatabase;
  private readonly insert: Statement<[number, number, Buffer]>;
  private readonly oldest: Statement<[], Row>;
  private readonly head: Statement<[number], Row>;
  private readonly deleteUpTo: Statement<[number]>;
  private readonly deleteId: Statement<[number]>;
  private readonly countUpTo: Statement<[number], { n: number }>;
  private pendingSamples: number;

  constructor(options: RemoteWriteQueueOptions) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) throw new RangeError(`remote-write queue ${options.path}: capacity must be a positive integer, got ${options.capacity}`);
    this.capacity = options.capacity;
    this.db = openSqliteFile(options.path);
    this.db.exec('CREATE TABLE IF NOT EXISTS batches (id INTEGER PRIMARY KEY AUTOINCREMENT, samples INTEGER NOT NULL, max_t INTEGER NOT NULL, body BLOB NOT NULL)');
    this.insert = this.db.prepare('INSERT INTO batches (samples, max_t, body) VALUES (?, ?, ?)');
    this.oldest = this.db.prepare('SELECT id, samples, max_t, body FROM batches ORDER BY id LIMIT 1');
    this.head = this.db.prepare('SELECT id, samples, max_t, body FROM batches WHERE id > ? ORDER BY id LIMIT 64');
    this.deleteUpTo = this.db.prepare('DELETE FROM batches WHERE id <= ?');
    this.deleteId = this.db.prepare('DELETE FROM batches WHERE id = ?');
    this.countUpTo = this.db.prepare('SELECT coalesce(sum(samples), 0) AS n FROM batches WHERE id <= ?');
    this.pendingSamples = (this.db.prepare('SELECT coalesce(sum(samples), 0) AS n FROM batches').get() as { n: number }).n;
  }

  /** pending is the number of queued samples. */
  get pending(): number {
    return this.pendingSamples;
  }

  /**
   * push appends rows in one transaction and returns how many samples of the oldest rows the
   * capacity pushed out (the new rows themselves included, when a push alone exceeds it).
   */
  push(rows: ReadonlyArray<{ readonly samples: number; readonly maxT: number; readonly body: Uint8Array }>): { dropped: number } {
    return this.db.transaction(() => {
      for (const r of rows) {
        this.insert.run(r.samples, r.maxT, Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength));
        this.pendingSamples += r.samples;
      }
      let dropped = 0;
      while (this.pendingSamples > this.capacity) {
        const row = this.oldest.get();
        if (!row) break;
        this.deleteId.run(row.id);
        this.pendingSamples -= row.samples;
        dropped += row.samples;
      }
      return { dropped };
    })();
  }

  /**
   * next joins the oldest rows into one request of at least one row and at most `maxSamples`
   * samples (a single larger row is sent alone), or returns undefined when empty.
   */
  next(maxSamples: number): PendingSend | undefined {
    const parts: Buffer[] = [];
    let samples = 0;
    let maxT = -Infinity;
    let lastId = 0;
    for (;;) {
      const rows = this.head.all(lastId);
      if (rows.length === 0) break;
      for (const row of rows) {
        if (parts.length > 0 && samples + row.samples > maxSamples) return joined();
        parts.push(row.body);
        samples += row.samples;
        maxT = Math.max(maxT, row.max_t);
        lastId = row.id;
      }
    }
    return parts.length === 0 ? undefined : joined();

    function joined(): PendingSend {
      return { lastId, samples, maxT, body: parts.length === 1 ? parts[0] : Buffer.concat(parts) };
    }
  }

  /** ack removes every row up to `lastId` (sent, or refused for good). */
  ack(send: PendingSend): void {
    this.db.transaction(() => {
      // Rows the capacity dropped since `next` are already subtracted: count what is still there.
      this.pendingSamples -= this.countUpTo.get(send.lastId)!.n;
      this.deleteUpTo.run(send.lastId);
    })();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
