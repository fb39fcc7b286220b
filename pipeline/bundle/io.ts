/** Files appear under their names only when complete: written to a `.tmp-` name in the same folder, then renamed. */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SkillcertError } from '../errors.js';

export async function writeAtomic(file: string, data: Uint8Array | string): Promise<string> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.tmp-${basename(file)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new SkillcertError('E_IO', `cannot write ${file}: ${(err as Error).message}; check that the batch folder is writable and has space`, { file }, { cause: err });
  }
  return file;
}
