/**
 * openSqliteFile: a SQLite database file opened for durable appends, as the sample store and the
 * sentinel's on-disk queues (Alertmanager deliveries, remote_write batches) keep them.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';

/**
 * openSqliteFile creates the file's directory and opens the database in WAL mode with
 * synchronous NORMAL, which is durable against process crashes (only an OS crash may lose the
 * last commits). `:memory:` opens an in-memory database.
 */
export function openSqliteFile(path: string): SqliteDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  return db;
}
