/**
 * The filing bundle's archive (SPEC §7): one .zip with every file of the batch folder, the manifest and its
 * signature. Deterministic: entries in byte order of their paths, every entry stamped with the same time
 * (the run's, passed in), the same mode and compression (stored for formats compressed inside, deflated for the
 * rest), so the same folder gives the same archive.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { byBytes, withTempFile } from '../core/files.js';
import { type ErrorCode, SkillcertError } from '../core/errors.js';
import { startThread } from '../core/threads.js';
import { requireCjs } from '../core/cjs.js';

const yazl = requireCjs('yazl') as typeof import('yazl');

/**
 * A Date whose local-time fields read as the wall-clock time in China. The zip's DOS timestamp is local
 * time without a zone; with the Unix extra field left out (forceDosTimestamp) the entry time is then the
 * same bytes on every machine, whatever its time zone, and means what the issuing office reads on its clock.
 */
function chinaWallClock(d: Date): Date {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
      .formatToParts(d)
      .map((p) => [p.type, p.value]),
  );
  return new Date(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
}

// yazl computes each entry's CRC-32 with its buffer-crc32, in JavaScript: ~10 ms a megabyte, 20 s for the
// certificates of a 20,000-row batch. zlib.crc32 (Node >= 20.15) gives the same value natively.
if (typeof zlib.crc32 === 'function') {
  const fromYazl = createRequire(requireCjs.resolve('yazl'));
  const crc = fromYazl('buffer-crc32') as { unsigned: (data: Buffer, previous?: number) => number };
  crc.unsigned = (data, previous) => zlib.crc32(data, previous ?? 0);
}

const ALREADY_COMPRESSED = /\.(pdf|xlsx|zip|png|jpe?g)$/i;

/**
 * Bytes the archive file's stream takes before it asks yazl to wait: with the default 16 KB every entry's header,
 * data and descriptor went to the disk as three writes, one after the other through the thread pool (60,000 writes
 * for 20,000 certificates); a few MB lets them gather into one writev (20,000 certificates: 9.9 -> 7.1 s).
 */
const WRITE_BUFFER = 4 * 1024 * 1024;

/**
 * Writes `archive` holding `files` (relative to `dir`); the archive appears under its name only when complete.
 * Returns the archive's path and the SHA-256 of the bytes written.
 */
export async function writeArchive(dir: string, files: readonly string[], archive: string, time: Date): Promise<ArchiveWritten> {
  return zipEntries(dir, once([...new Set(files)].sort(byBytes)), archive, time);
}

async function* once<T>(value: T): AsyncGenerator<T> {
  yield value;
}

export interface ArchiveWritten {
  readonly file: string;
  readonly sha256: string;
}

/**
 * The archive from groups of paths (relative to `dir`) as they come: each group in byte order and after the last
 * path of the group before, so that the entries are in byte order however the list was given. Every entry is added
 * lazily: yazl asks for an entry's bytes when it reaches it, and the file is then read whole, synchronously (one
 * read from the page cache instead of a read stream's open, reads and close through the thread pool, each a round
 * trip). Memory holds one file at a time, never the batch (buffers handed to yazl.addBuffer stay referenced until
 * the archive ends: 2 GB for 20,000 certificates). The SHA-256 is taken of the bytes as they pass (reading 2 GB
 * back to hash them is a second pass over the disk). A group source that throws stops the archive, and its
 * temporary goes.
 */
export async function zipEntries(dir: string, groups: AsyncIterable<readonly string[]>, archive: string, time: Date): Promise<ArchiveWritten> {
  const zip = new yazl.ZipFile();
  const mtime = chinaWallClock(time);
  // Listened to before the first entry is added: yazl asks for the first entry's bytes at once.
  const failed = new Promise<never>((_, reject) => zip.on('error', reject));
  failed.catch(() => undefined);
  const add = (rel: string) => {
    // PDFs and workbooks are compressed inside already: deflating them again gained ~10 % and was most of the
    // bundle's time (seconds per thousand certificates), so they are stored.
    const compress = !ALREADY_COMPRESSED.test(rel);
    zip.addReadStreamLazy(rel, { mtime, mode: 0o100644, compress, ...(compress ? { compressionLevel: 6 } : {}), forceDosTimestamp: true }, (give) => {
      let bytes: Buffer;
      try {
        bytes = readFileSync(join(dir, rel));
      } catch (err) {
        // (yazl reads only the error when there is one; its typings want a stream beside it all the same.)
        give(err, undefined as unknown as NodeJS.ReadableStream);
        return;
      }
      give(null, new PassThrough().end(bytes));
    });
  };
  const adding = (async () => {
    let last: string | undefined;
    for await (const group of groups) {
      for (const rel of group) {
        if (last !== undefined && byBytes(last, rel) >= 0) throw new Error(`internal: archive entry ${rel} does not come after ${last}`);
        add((last = rel));
      }
    }
    zip.end();
  })();
  // Stops the write when the entries cannot be had; once they all are, only the write itself ends it.
  const stopped = Promise.race([failed, adding.then(() => new Promise<never>(() => undefined))]);
  stopped.catch(() => undefined);
  const digest = createHash('sha256');
  await withTempFile(archive, async (tmp) => {
    const file = createWriteStream(tmp, { highWaterMark: WRITE_BUFFER });
    // A second listener beside the pipe sees every chunk in order; the pipe keeps the back-pressure.
    zip.outputStream.on('data', (chunk: Buffer) => digest.update(chunk));
    try {
      await Promise.race([pipeline(zip.outputStream, file), stopped]);
    } catch (err) {
      (zip.outputStream as unknown as Readable).destroy();
      // The temporary file is removed once its stream has closed: a stream still opening would create it again.
      if (!file.closed) await new Promise<void>((closed) => file.destroy().once('close', () => closed()));
      throw new SkillcertError('E_IO', `cannot write the archive ${archive}: ${(err as Error).message}`, { file: archive }, { cause: err });
    }
  });
  return { file: archive, sha256: digest.digest('hex') };
}

/** An archive whose first entries are being written by a thread of its own while the rest of the bundle is made. */
export interface ArchiveInProgress {
  /**
   * Ends the archive with `files` (all of it, the first entries included). When `files` in byte order does not
   * begin with the entries the thread started with (a file the bundle wrote sorts among them), the early archive is
   * dropped and the whole is written here, in order, as writeArchive writes it: the same bytes either way.
   */
  finish(files: readonly string[]): Promise<ArchiveWritten>;
  /** Stops the thread and removes its temporary, when the bundle failed before finish (a no-op after it). */
  close(): Promise<void>;
}

/** What the archive's thread posts when it has ended. */
export type ArchiveThreadResult = { readonly ok: true; readonly sha256: string } | { readonly ok: false; readonly aborted: boolean; readonly code?: string; readonly message: string };

/**
 * Starts writing `archive` with `first` (relative to `dir`; files the rest of the bundle will not write, the
 * certificates) in a worker thread: the archive of a batch is mostly its certificates (2 GB at 20,000), whose
 * reads, CRC-32, SHA-256 and writes then run on the second core while this thread writes the tables and receipts
 * (measured: 20,000 certificates, the bundle ~14.3 s → ~11.2 s; 1,000, ~1.4 s → ~0.95 s).
 */
export function startArchive(dir: string, first: readonly string[], archive: string, time: Date): ArchiveInProgress {
  const head = [...new Set(first)].sort(byBytes);
  const worker = startThread(import.meta.url, './archive-thread', { workerData: { dir, first: head, archive, time } });
  const ended = new Promise<ArchiveThreadResult>((resolve) => {
    worker.once('message', resolve);
    worker.once('error', (err) => resolve({ ok: false, aborted: false, message: `the archive's thread failed: ${err.message}` }));
    worker.once('exit', (code) => resolve({ ok: false, aborted: false, message: `the archive's thread stopped (exit code ${code})` }));
  });
  let finished = false;
  const end = async (rest: readonly string[] | null): Promise<ArchiveThreadResult> => {
    finished = true;
    worker.postMessage(rest);
    const r = await ended;
    await worker.terminate();
    return r;
  };
  return {
    async finish(files) {
      const all = [...new Set(files)].sort(byBytes);
      const fits = head.every((p, i) => all[i] === p);
      const r = await end(fits ? all.slice(head.length) : null);
      if (r.ok) return { file: archive, sha256: r.sha256 };
      if (!fits && r.aborted) return writeArchive(dir, all, archive, time);
      throw new SkillcertError((r.code as ErrorCode | undefined) ?? 'E_IO', r.message, { file: archive });
    },
    async close() {
      if (!finished) await end(null);
    },
  };
}
