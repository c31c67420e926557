/**
 * SqliteStore: the persistent sample store. Reads are served from a MemoryStore; every commit is
 * also written to SQLite, and opening the store loads the file back into memory.
 *
 * Why better-sqlite3 in WAL mode rather than a hand-written append log:
 * 1. `sentinel query` must read the daemon's store while the daemon writes it; WAL gives a second
 *    process consistent snapshots with no locking protocol of our own.
 * 2. Each appender commit is one transaction, so a crash loses at most the batch in flight and
 *    never leaves a torn record to repair on load.
 * 3. Retention is a DELETE over the (series_id, t) primary key instead of log compaction.
 * The cost: SQLite stores NaN as NULL, so a `kind` column tells value / NaN / stale marker apart.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import pino from 'pino';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { StoreError } from '../errors.js';
import { batchAppender, DEFAULT_MAX_SERIES, DEFAULT_RETENTION_MS, MemoryStore } from './memory-store.js';
import type { ReplicaEvent, ReplicaSink } from './memory-store.js';
import { openSqliteFile } from './sqlite-file.js';
import { createStoreMetrics } from './store-metrics.js';
import type { StoreMetrics } from './store-metrics.js';
import type { Appender, LabelMatcher, Labels, SeriesColumns, LatestReader, LatestSample, SampleStore, SeriesData } from './types.js';

/** STORE_FILE is the database file name inside `storage.data_dir`. */
export const STORE_FILE = 'samples.db';
const SCHEMA_VERSION = '1';

/** The KIND_* sample kinds encode what SQLite cannot keep in a REAL column. */
const KIND_VALUE = 0;
const KIND_NAN = 1;
const KIND_STALE = 2;

/** OpenSampleStoreOptions configure `openSampleStore`. */
export interface OpenSampleStoreOptions {
  /** dataDir holds `samples.db` (+ `-wal`, `-shm`); created when missing unless read-only. */
  readonly dataDir: string;
  /** retentionMs is how much history `applyRetention(nowMs)` keeps (default 26 h). */
  readonly retentionMs?: number;
  /** maxSeries caps the number of series (new series past it are refused and counted). */
  readonly maxSeries?: number;
  readonly logger?: Logger;
  readonly registry?: Registry;
  /**
   * readOnly opens an existing store without writing (for `sentinel query` beside a running
   * daemon); appending throws and retention only trims memory.
   */
  readonly readOnly?: boolean;
  /** sharedBuffers lets a query thread read the samples in place (see MemoryStoreOptions). */
  readonly sharedBuffers?: boolean;
}

/** SqliteStore is a `SampleStore` persisted in SQLite (WAL) and served from memory. */
export class SqliteStore implements SampleStore, LatestReader {
  private readonly memory: MemoryStore;
  private readonly db: SqliteDatabase;
  private readonly logger: Logger;
  private readonly metrics: StoreMetrics | undefined;
  private readonly readOnly: boolean;
  private readonly insertSeries: Statement | undefined;
  private readonly insertSample: Statement | undefined;
  private readonly trimSeries: Statement | undefined;
  private readonly deleteSeries: Statement | undefined;
  private closed = false;

  /** Use `openSampleStore`; the constructor takes an already-open database. */
  constructor(db: SqliteDatabase, memory: MemoryStore, options: { logger: Logger; registry?: Registry; readOnly: boolean }) {
    this.db = db;
    this.memory = memory;
    this.logger = options.logger;
    this.metrics = createStoreMetrics(options.registry);
    this.readOnly = options.readOnly;
    if (!this.readOnly) {
      this.insertSeries = db.prepare('INSERT OR REPLACE INTO series (id, labels) VALUES (?, ?)');
      this.insertSample = db.prepare('INSERT OR REPLACE INTO samples (series_id, t, v, kind) VALUES (?, ?, ?, ?)');
      this.trimSeries = db.prepare('DELETE FROM samples WHERE series_id = ? AND t < ?');
      this.deleteSeries = db.prepare('DELETE FROM series WHERE id = ?');
    }
  }

  appender(): Appender {
    if (this.readOnly) throw new StoreError('SENTINEL_STORE', 'the sample store was opened read-only (sentinel query); only the daemon appends samples');
    const guard = (): void => {
      if (this.closed) throw new StoreError('SENTINEL_STORE', 'the sample store is closed; samples cannot be appended during shutdown');
    };
    return batchAppender(
      'SqliteStore',
      (pending) => {
        const outcome = this.memory.commitBatch(pending);
        if (outcome.accepted.length === 0 && outcome.newSeries.length === 0) return outcome.result;
        try {
          this.db.transaction(() => {
            for (const s of outcome.newSeries) this.insertSeries?.run(s.id, JSON.stringify(s.labels));
            for (const s of outcome.accepted) {
              const kind = s.isStale ? KIND_STALE : Number.isNaN(s.v) ? KIND_NAN : KIND_VALUE;
              this.insertSample?.run(s.seriesId, s.t, kind === KIND_VALUE ? s.v : null, kind);
            }
          })();
        } catch (err) {
          // Memory already holds the batch, so reads stay right; only a restart would lose it.
          this.metrics?.refused.inc({ reason: 'persist_failed' }, outcome.accepted.length);
          this.logger.error({ err, samples: outcome.accepted.length }, 'sample store could not write a batch to disk; check free space and permissions of storage.data_dir');
        }
        return outcome.result;
      },
      guard,
    );
  }

  select(matchers: readonly LabelMatcher[], startMs: number, endMs: number): SeriesData[] {
    return this.memory.select(matchers, startMs, endMs);
  }

  selectColumns(matchers: readonly LabelMatcher[], startMs: number, endMs: number): SeriesColumns[] {
    return this.memory.selectColumns(matchers, startMs, endMs);
  }

  /** replicate, replicaEvent and extents feed a replica in a query thread (see MemoryStore). */
  replicate(sink: ReplicaSink): () => void {
    return this.memory.replicate(sink);
  }

  replicaEvent(id: number): ReplicaEvent {
    return this.memory.replicaEvent(id);
  }

  extents(): Int32Array {
    return this.memory.extents();
  }

  latest(matchers: readonly LabelMatcher[]): LatestSample[] {
    return this.memory.latest(matchers);
  }

  series(matchers: readonly LabelMatcher[], startMs: number, endMs: number): Labels[] {
    return this.memory.series(matchers, startMs, endMs);
  }

  labelNames(matchers?: readonly LabelMatcher[]): string[] {
    return this.memory.labelNames(matchers);
  }

  labelValues(name: string, matchers?: readonly LabelMatcher[]): string[] {
    return this.memory.labelValues(name, matchers);
  }

  /** seriesCount is the number of series held. */
  get seriesCount(): number {
    return this.memory.seriesCount;
  }

  applyRetention(nowMs: number): void {
    const { cutoffMs, trimmedSeries, removedSeries } = this.memory.retain(nowMs);
    if (this.readOnly || (trimmedSeries.length === 0 && removedSeries.length === 0)) return;
    try {
      this.db.transaction(() => {
        for (const id of trimmedSeries) this.trimSeries?.run(id, cutoffMs);
        for (const id of removedSeries) this.deleteSeries?.run(id);
      })();
    } catch (err) {
      // The rows stay on disk and are dropped again by the next retention pass after a restart.
      this.logger.error({ err }, 'sample store could not delete expired samples from disk; check storage.data_dir');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.readOnly) {
      try {
        this.db.pragma('wal_checkpoint(TRUNCATE)');
      } catch (err) {
        this.logger.warn({ err }, 'sample store checkpoint at close failed; the WAL is replayed at next open');
      }
    }
    this.db.close();
  }
}

/**
 * openSampleStore opens (creating if needed) the persistent store in `dataDir` and loads its
 * history into memory. Errors name the path and what to do.
 */
export function openSampleStore(options: OpenSampleStoreOptions): SqliteStore {
  const { dataDir, retentionMs = DEFAULT_RETENTION_MS, maxSeries = DEFAULT_MAX_SERIES, registry, readOnly = false } = options;
  const logger = options.logger ?? pino({ level: 'silent' });
  const file = path.join(dataDir, STORE_FILE);
  let db: SqliteDatabase;
  try {
    if (readOnly) {
      if (!fs.existsSync(file)) {
        throw new StoreError('SENTINEL_STORE', `no sample store at ${file}; run the daemon (sentinel run) first or point storage.data_dir at its data directory`);
      }
      db = new Database(file, { readonly: true, fileMustExist: true });
    } else {
      db = openSqliteFile(file);
    }
    db.pragma('busy_timeout = 5000');
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError('SENTINEL_STORE', `cannot open the sample store at ${file}: ${(err as Error).message}; check storage.data_dir and its permissions`, { cause: err });
  }
  try {
    if (!readOnly) migrate(db, file);
    const memory = new MemoryStore({ retentionMs, maxSeries, logger, registry, sharedBuffers: options.sharedBuffers ?? false });
    load(db, memory, file);
    return new SqliteStore(db, memory, { logger, registry, readOnly });
  } catch (err) {
    db.close();
    if (err instanceof StoreError) throw err;
    throw new StoreError('SENTINEL_STORE', `cannot read the sample store at ${file}: ${(err as Error).message}; move the file away to start with an empty store`, { cause: err });
  }
}

function migrate(db: SqliteDatabase, file: string): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS series (id INTEGER PRIMARY KEY, labels TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS samples (
      series_id INTEGER NOT NULL,
      t INTEGER NOT NULL,
      v REAL,
      kind INTEGER NOT NULL,
      PRIMARY KEY (series_id, t)
    ) WITHOUT ROWID;
  `);
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
  if (!row) db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(SCHEMA_VERSION);
  else if (row.value !== SCHEMA_VERSION) {
    throw new StoreError('SENTINEL_STORE', `the sample store at ${file} has schema version ${row.value}, this sentinel expects ${SCHEMA_VERSION}; move the file away to start fresh`);
  }
}

function load(db: SqliteDatabase, memory: MemoryStore, file: string): void {
  const hasTables = db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('series', 'samples')").get() as { n: number };
  if (hasTables.n < 2) {
    throw new StoreError('SENTINEL_STORE', `${file} is not a sentinel sample store (tables missing); point storage.data_dir at the daemon's data directory`);
  }
  for (const row of db.prepare('SELECT id, labels FROM series').raw().iterate() as Iterable<[number, string]>) {
    memory.loadSeries(row[0], JSON.parse(row[1]) as Labels);
  }
  // Primary-key order is (series_id, t), so each series arrives in time order.
  for (const row of db.prepare('SELECT series_id, t, v, kind FROM samples').raw().iterate() as Iterable<[number, number, number | null, number]>) {
    const kind = row[3];
    memory.loadSample(row[0], row[1], kind === KIND_VALUE ? (row[2] as number) : NaN, kind === KIND_STALE);
  }
}
