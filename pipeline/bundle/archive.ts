/**
 * The filing bundle's archive (SPEC §7): one .zip with every file of the batch folder, the manifest and its
 * signature. Deterministic: entries in byte order of their paths, every entry stamped with the same time
 * (the run's, passed in), the same mode and compression, so the same folder gives the same archive.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
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

/** Writes `archive` holding `files` (relative to `dir`); the archive appears under its name only when complete. */
export async function writeArchive(dir: string, files: readonly string[], archive: string, time: Date): Promise<string> {
  await mkdir(dirname(archive), { recursive: true });
  const tmp = join(dirname(archive), `.tmp-${basename(archive)}-${process.pid}`);
  const zip = new yazl.ZipFile();
  const mtime = chinaWallClock(time);
  for (const rel of [...new Set(files)].sort(byBytes)) {
    zip.addFile(join(dir, rel), rel, { mtime, mode: 0o100644, compress: true, compressionLevel: 6, forceDosTimestamp: true });
  }
  zip.end();
  try {
    await pipeline(zip.outputStream, createWriteStream(tmp));
    await rename(tmp, archive);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new SkillcertError('E_IO', `cannot write the archive ${archive}: ${(err as Error).message}`, { file: archive }, { cause: err });
  }
  return archive;
}
