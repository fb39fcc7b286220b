/**
 * A batch worker thread: parses the fonts and the signing identity once, then turns numbered records into
 * signed certificate files, one message at a time. It writes each file under a temporary name and renames it,
 * so a killed run never leaves a half-written certificate behind.
 */
import { createHash } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { type CertificateKit, produceCertificate } from './certificate.js';
import { SkillcertError } from './errors.js';
import { FontSet } from './fonts/index.js';
import { loadProfile } from './profile.js';
import type { Numbered } from './record.js';
import { loadSheet, type Reissue } from './render/index.js';
import { loadSigner } from './sign/index.js';

export interface WorkerInit {
  readonly profilePath: string;
  readonly templateBytes: Uint8Array;
  readonly p12: Uint8Array;
  readonly password: string;
}

export interface Job {
  readonly id: number;
  readonly rec: Numbered;
  readonly photoJpeg: Uint8Array;
  /** Final path of the certificate file. */
  readonly file: string;
  readonly now: number;
  readonly reissue?: Reissue;
}

export type JobResult =
  | { readonly id: number; readonly ok: true; readonly file: string; readonly sha256: string; readonly bytes: number }
  | { readonly id: number; readonly ok: false; readonly code: string; readonly message: string };

export function makeKit(init: WorkerInit): CertificateKit {
  const profile = loadProfile(init.profilePath);
  return {
    profile,
    fonts: FontSet.load(),
    template: { sheet: loadSheet(profile.styleId), profile, bytes: init.templateBytes, placed: [] },
    signer: loadSigner({ p12: init.p12, password: init.password, source: profile.signer.p12 }),
  };
}

/** Produces, writes (temp name, then rename) and digests one certificate. */
export async function runJob(kit: CertificateKit, job: Job): Promise<JobResult> {
  try {
    const bytes = await produceCertificate(kit, job.rec, job.photoJpeg, { now: new Date(job.now), ...(job.reissue ? { reissue: job.reissue } : {}) });
    const tmp = `${job.file}.tmp-${process.pid}-${job.id}`;
    await writeFile(tmp, bytes);
    await rename(tmp, job.file);
    return { id: job.id, ok: true, file: job.file, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
  } catch (err) {
    const e = err as Error;
    return { id: job.id, ok: false, code: err instanceof SkillcertError ? err.code : 'E_RENDER', message: e.message };
  }
}

if (parentPort && workerData) {
  const port = parentPort;
  const kit = makeKit(workerData as WorkerInit);
  port.on('message', (job: Job) => {
    void runJob(kit, job).then((r) => port.postMessage(r));
  });
  port.postMessage({ ready: true });
}
