/**
 * Reading and re-writing a filing bundle's .zip for tests: every entry's bytes (yauzl), and a copy of the
 * archive with one entry changed (yazl), so a tampered bundle is a well-formed zip whose only difference
 * is the content a verifier must notice.
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import yazl from 'yazl';

/** Every file entry of a zip, by name, in archive order. */
export async function readZip(file: string): Promise<Map<string, Buffer>> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true });
  const out = new Map<string, Buffer>();
  try {
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName.endsWith('/')) continue;
      const chunks: Buffer[] = [];
      for await (const c of await zip.openReadStreamPromise(entry)) chunks.push(c as Buffer);
      out.set(entry.fileName, Buffer.concat(chunks));
    }
  } finally {
    zip.close();
  }
  return out;
}

/** Writes `dst`: the entries of `src`, each passed through `change` (return the bytes unchanged to keep one). */
export async function rewriteZip(src: string, dst: string, change: (name: string, bytes: Buffer) => Buffer): Promise<void> {
  const entries = await readZip(src);
  const zip = new yazl.ZipFile();
  const mtime = new Date('2026-11-20T00:00:00Z');
  for (const [name, bytes] of entries) zip.addBuffer(change(name, bytes), name, { mtime, compress: true });
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(dst));
}
