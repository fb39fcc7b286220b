/**
 * SHA-256 of a file read as a stream (a roster or a filing archive runs to gigabytes), with its size: one helper
 * for the roster's digest, the manifest's entries and the archive recorded in the registry.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { SkillcertError } from './errors.js';

/** Size and lower-case hex SHA-256 of `file`; a file that changes while it is read is an E_IO, not a wrong digest. */
export async function hashFile(file: string): Promise<{ size: number; sha256: string }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  const st = await lstat(file);
  if (st.size !== size) throw new SkillcertError('E_IO', `${file} changed while it was being hashed (${size} bytes read, ${st.size} on disk); run again once nothing writes to it`);
  return { size, sha256: h.digest('hex') };
}
