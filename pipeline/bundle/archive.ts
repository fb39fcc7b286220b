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
import yazl from 'yazl';
import { withTempFile } from '../core/files.js';
import { SkillcertError } from '../core/errors.js';
import { byBytes } from './manifest.js';

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
  const fromYazl = createRequire(createRequire(import.meta.url).resolve('yazl'));
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
 * Every entry is added lazily: yazl asks for an entry's bytes when it reaches it, and the file is then read whole,
 * synchronously (nothing else runs while the bundle is written; one read from the page cache instead of a read
 * stream's open, reads and close through the thread pool, each a round trip). Memory
 * holds one file at a time, never the batch (buffers handed to yazl.addBuffer stay referenced until the archive
 * ends: 2 GB for 20,000 certificates). Returns the archive's path and the SHA-256 of the bytes written, taken as they
 * pass (reading 2 GB back to hash them is a second pass over the disk).
 */
export async function writeArchive(dir: string, files: readonly string[], archive: string, time: Date): Promise<{ file: string; sha256: string }> {
  const zip = new yazl.ZipFile();
  const mtime = chinaWallClock(time);
  const paths = [...new Set(files)].sort(byBytes);
  // Listened to before the first entry is added: yazl asks for the first entry's bytes at once.
  const failed = new Promise<never>((_, reject) => zip.on('error', reject));
  failed.catch(() => undefined);
  for (const rel of paths) {
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
  }
  zip.end();
  const digest = createHash('sha256');
  await withTempFile(archive, async (tmp) => {
    const file = createWriteStream(tmp, { highWaterMark: WRITE_BUFFER });
    // A second listener beside the pipe sees every chunk in order; the pipe keeps the back-pressure.
    zip.outputStream.on('data', (chunk: Buffer) => digest.update(chunk));
    try {
      await Promise.race([pipeline(zip.outputStream, file), failed]);
    } catch (err) {
      (zip.outputStream as unknown as Readable).destroy();
      // The temporary file is removed once its stream has closed: a stream still opening would create it again.
      if (!file.closed) await new Promise<void>((closed) => file.destroy().once('close', () => closed()));
      throw new SkillcertError('E_IO', `cannot write the archive ${archive}: ${(err as Error).message}`, { file: archive }, { cause: err });
    }
  });
  return { file: archive, sha256: digest.digest('hex') };
}
