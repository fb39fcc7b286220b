/**
 * The archive's thread (archive.ts startArchive): writes the first entries it was started with, then waits for
 * the rest of the list (or null: stop, the temporary removed), and posts how it ended.
 */
import { once } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import { SkillcertError } from '../core/errors.js';
import { type ArchiveThreadResult, zipEntries } from './archive.js';

const { dir, first, archive, time } = workerData as { dir: string; first: string[]; archive: string; time: Date };
const port = parentPort!;
let aborted = false;

async function* groups(): AsyncGenerator<readonly string[]> {
  yield first;
  const [rest] = (await once(port, 'message')) as [string[] | null];
  if (rest === null) {
    aborted = true;
    throw new Error('stopped before its last entries');
  }
  yield rest;
}

let result: ArchiveThreadResult;
try {
  const written = await zipEntries(dir, groups(), archive, time);
  result = { ok: true, sha256: written.sha256 };
} catch (err) {
  result = { ok: false, aborted, message: (err as Error).message, ...(err instanceof SkillcertError ? { code: err.code } : {}) };
}
port.postMessage(result);
