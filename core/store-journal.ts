/**
 * Local persistence for the embedded store's durable part: a SQLite file (`node:sqlite`, built
 * into Node >= 22.13 without flags) holding a snapshot of every durable key plus a journal of the
 * writes since. Each write is one committed row before the store call resolves (WAL mode,
 * `synchronous=NORMAL`): a process crash (`kill -9`) loses no acknowledged write; a power loss
 * may lose the writes since the last WAL checkpoint. Compaction rewrites the snapshot and empties
 * the journal in one transaction. The file is opened in exclusive mode: a second gateway on the
 * same file gets an error log and keeps its durable data in memory only.
 *
 * @module
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import type { Logger } from 'pino';
import { ConfigError } from './errors.ts';

/** One journaled write: the mutation and the clock it ran at. */
export interface JournalRecord {
  now: number;
  m: unknown;
}

/** An open journal. */
export interface Journal {
  /** The snapshot (key → entry) and the writes made after it, oldest first. */
  load(): { snapshot: Array<[string, unknown]>; records: JournalRecord[] };
  append(rec: JournalRecord): void;
  /** Replaces the snapshot with `entries` and empties the journal, atomically. */
  compact(entries: Array<[string, unknown]>): void;
  close(): void;
}

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

/**
 * Opens (creating) the journal at `path`. Returns undefined — after logging why — when another
 * process holds the file or `node:sqlite` is unavailable; throws a ConfigError when the file is
 * not a usable database.
 *
 * @example
 * ```ts
 * const journal = openJournal('.data/switchyard.db', logger);
 * ```
 */
export function openJournal(path: string, logger?: Logger): Journal | undefined {
  let sqlite: typeof import('node:sqlite');
  try {
    sqlite = createRequire(import.meta.url)('node:sqlite') as typeof import('node:sqlite');
  } catch (err) {
    logger?.error({ path, err: String(err) }, 'store: node:sqlite is unavailable (Node >= 22.13 needed); durable data is kept in memory only');
    return undefined;
  }
  let db: DatabaseSync | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    db = new sqlite.DatabaseSync(path, { timeout: 0 });
    // Exclusive before WAL: the WAL index then lives in process memory, and the lock is ours.
    db.exec('PRAGMA locking_mode=EXCLUSIVE');
    db.exec('PRAGMA journal_mode=WAL');
    db.exec('PRAGMA synchronous=NORMAL');
    db.exec('CREATE TABLE IF NOT EXISTS snapshot(key TEXT PRIMARY KEY, entry TEXT NOT NULL)');
    db.exec('CREATE TABLE IF NOT EXISTS journal(seq INTEGER PRIMARY KEY AUTOINCREMENT, rec TEXT NOT NULL)');
    db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (err) {
    db?.close();
    const code = (err as { errcode?: number }).errcode;
    if (code === SQLITE_BUSY || code === SQLITE_LOCKED) {
      logger?.error({ path }, 'store: the durable store file is in use by another gateway; durable data is kept in memory only (use a redis store for several instances)');
      return undefined;
    }
    throw new ConfigError(`store.path: cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
  const d = db;
  const insert = d.prepare('INSERT INTO journal(rec) VALUES (?)');
  return {
    load() {
      const snapshot = d.prepare('SELECT key, entry FROM snapshot').all().map((r) => [String(r.key), JSON.parse(String(r.entry))] as [string, unknown]);
      const records: JournalRecord[] = [];
      for (const r of d.prepare('SELECT rec FROM journal ORDER BY seq').all()) {
        try {
          records.push(JSON.parse(String(r.rec)) as JournalRecord);
        } catch {
          logger?.warn({ path }, 'store: skipped an unreadable journal record');
        }
      }
      return { snapshot, records };
    },
    append(rec) {
      insert.run(JSON.stringify(rec));
    },
    compact(entries) {
      d.exec('BEGIN');
      try {
        d.exec('DELETE FROM snapshot');
        const put = d.prepare('INSERT INTO snapshot(key, entry) VALUES (?, ?)');
        for (const [k, e] of entries) put.run(k, JSON.stringify(e));
        d.exec('DELETE FROM journal');
        d.exec('COMMIT');
      } catch (err) {
        d.exec('ROLLBACK');
        logger?.error({ path, err: String(err) }, 'store: compaction failed; the journal is kept');
      }
    },
    close() {
      d.close();
    },
  };
}
