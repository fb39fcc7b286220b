/**
 * The filing bundle's archive (SPEC §7): one .zip with every file of the batch folder, the manifest and its
 * signature. Deterministic: entries in byte order of their paths, every entry stamped with the same time
 * (the run's, passed in), the same mode and compression (stored for formats compressed inside, deflated for the
 * rest), so the same folder gives the same archive.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import yazl from 'yazl';
import { SkillcertError } from '../errors.js';
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

/** Files read ahead of the one being added: reads wait on libuv's threads while the archive is written. */
const READ_AHEAD = 8;
/** Bytes yazl may hold for the file beyond what it has taken. */
const QUEUED_BYTES = 16 * 1024 * 1024;

/**
 * Writes `archive` holding `files` (relative to `dir`); the archive appears under its name only when complete.
 * Each file is read whole, a few ahead, and added as a buffer (one open and read instead of a read stream per
 * entry, a third of the time for thousands of certificates); the output's backpressure bounds the memory.
 */
export async function writeArchive(dir: string, files: readonly string[], archive: string, time: Date): Promise<string> {
  await mkdir(dirname(archive), { recursive: true });
  const tmp = join(dirname(archive), `.tmp-${basename(archive)}-${process.pid}`);
  const zip = new yazl.ZipFile();
  const mtime = chinaWallClock(time);
  const paths = [...new Set(files)].sort(byBytes);
  const out = zip.outputStream as unknown as Readable;
  const written = pipeline(out, createWriteStream(tmp));
  written.catch(() => undefined);
  try {
    const reads: (Promise<Buffer> | undefined)[] = paths.slice(0, READ_AHEAD).map((rel) => readFile(join(dir, rel)));
    for (let i = 0; i < paths.length; i++) {
      const rel = paths[i]!;
      const bytes = await reads[i]!;
      reads[i] = undefined;
      if (i + READ_AHEAD < paths.length) reads.push(readFile(join(dir, paths[i + READ_AHEAD]!)));
      // PDFs and workbooks are compressed inside already: deflating them again gained ~10 % and was most of the
      // bundle's time (seconds per thousand certificates), so they are stored.
      const compress = !ALREADY_COMPRESSED.test(rel);
      zip.addBuffer(bytes, rel, { mtime, mode: 0o100644, compress, ...(compress ? { compressionLevel: 6 } : {}), forceDosTimestamp: true });
      // yazl writes into its output regardless of backpressure: wait for the file to take what is queued.
      while (out.readableLength > QUEUED_BYTES) await once(out, 'data');
    }
    zip.end();
    await written;
    await rename(tmp, archive);
  } catch (err) {
    out.destroy();
    await written.catch(() => undefined);
    await rm(tmp, { force: true });
    throw new SkillcertError('E_IO', `cannot write the archive ${archive}: ${(err as Error).message}`, { file: archive }, { cause: err });
  }
  return archive;
}
