/**
 * One run per batch at a time, with the SQLite registry. Two runs of the same roster (a nightly run still going when
 * the next is started) would render the same certificates, and the second rename would replace a file whose digest
 * the registry recorded from the first: the verifier would then call a certificate on disk "not one the registry
 * issued". (With a PostgreSQL registry, runs of one batch share it through its job queue instead: queue.ts.)
 *
 * The lock is an operating-system lock held by an open SQLite file in exclusive locking mode, beside the batch
 * folder in the output root (`.lock-<batch id>`, so that the bundle, which lists the batch folder, never holds it):
 * the kernel releases it when the process ends in any way, SIGKILL and power loss included, so a rerun after a
 * crash never finds a stale lock, and there is no window in which two runs both believe they took over. Who holds
 * it is written beside it (`.lock-<batch id>.owner`) only to say so in the error.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SkillcertError } from '../core/errors.js';

export const lockFile = (batchId: string): string => `.lock-${batchId}`;

interface Owner {
  readonly pid: number;
  readonly host: string;
  readonly started: string;
}

/** Takes the lock of a batch in the output root `out` (which must exist), or fails at once naming who holds it. Returns the release. */
export function lockBatch(out: string, batchId: string, now: Date = new Date()): () => void {
  const file = join(out, lockFile(batchId));
  const db = new Database(file, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // The first write takes SQLite's EXCLUSIVE lock, which exclusive locking mode keeps until the file is closed.
    db.exec('CREATE TABLE IF NOT EXISTS held (at TEXT NOT NULL)');
    db.prepare('INSERT INTO held (at) VALUES (?)').run(now.toISOString());
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY')) {
      const owner = readOwner(`${file}.owner`);
      const who = owner ? `process ${owner.pid} on ${owner.host}, started ${owner.started}` : 'another skillcert process';
      throw new SkillcertError(
        'E_IO',
        `batch ${batchId} is being run by ${who}; wait for it to finish (a rerun after it ends, or after it was killed, resumes the batch)`,
        { path: file },
      );
    }
    throw new SkillcertError('E_IO', `cannot lock batch ${batchId} (${file}): ${(err as Error).message}`, { path: file }, { cause: err });
  }
  const owner: Owner = { pid: process.pid, host: hostname(), started: now.toISOString() };
  writeFileSync(`${file}.owner`, `${JSON.stringify(owner)}\n`);
  return () => db.close();
}

function readOwner(file: string): Owner | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Owner;
  } catch {
    return undefined;
  }
}
