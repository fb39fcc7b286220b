/**
 * A batch worker thread: opens the profile, the fonts and the signing identity once, then — as soon as the
 * template arrives — turns numbered records into signed certificate files, one message at a time. It writes each
 * file under a temporary name and renames it, so a killed run never leaves a half-written certificate behind.
 *
 * The workers start while Chromium prints the template: their start-up (modules, fonts, P12) no longer waits for it.
 */
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { type CertificateKit, type KitValidation, produceCertificate } from '../certificate/produce.js';
import { writeAtomicSync } from '../core/files.js';
import { SkillcertError } from '../core/errors.js';
import { FontSet } from '../fonts/index.js';
import { loadProfile } from '../core/profile.js';
import type { Numbered } from '../core/record.js';
import type { Reissue } from '../render/fields.js';
import { loadSheet } from '../render/sheet.js';
import { loadSigner } from '../sign/index.js';

export interface WorkerInit {
  readonly profilePath: string;
  readonly p12: Uint8Array;
  readonly password: string;
  /**
   * The font files the main thread already read, by path, in SharedArrayBuffers: one copy in memory for every
   * thread instead of one per thread (the CJK faces are ~15 MB each).
   */
  readonly fontFiles?: ReadonlyMap<string, Uint8Array>;
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

/** What a worker needs before the template: everything else of the kit. */
export type KitParts = Omit<CertificateKit, 'template'>;

export function prepareKit(init: WorkerInit): KitParts {
  const profile = loadProfile(init.profilePath);
  return {
    profile,
    fonts: FontSet.load(init.fontFiles ? { files: init.fontFiles } : {}),
    signer: loadSigner({ p12: init.p12, password: init.password, source: profile.signer.p12 }),
  };
}

export function withTemplate(parts: KitParts, templateBytes: Uint8Array, validation: KitValidation = {}): CertificateKit {
  return { ...parts, ...validation, template: { sheet: loadSheet(parts.profile.styleId), profile: parts.profile, bytes: templateBytes, placed: [] } };
}

/** Produces, writes (temp name, then rename, synchronously) and digests one certificate. */
export async function runJob(kit: CertificateKit, job: Job): Promise<JobResult> {
  try {
    const bytes = await produceCertificate(kit, job.rec, job.photoJpeg, { now: new Date(job.now), ...(job.reissue ? { reissue: job.reissue } : {}) });
    // The worker's thread has nothing else to do while the file is written (B-B is CPU-bound; above it the
    // timestamp round trips of the other jobs in flight wait in the kernel meanwhile).
    writeAtomicSync(job.file, bytes);
    return { id: job.id, ok: true, file: job.file, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
  } catch (err) {
    const e = err as Error;
    return { id: job.id, ok: false, code: err instanceof SkillcertError ? err.code : 'E_RENDER', message: e.message };
  }
}

/** Messages from the pool: the template (with the batch's validation data) once, then jobs. */
export type WorkerMessage = { readonly template: Uint8Array; readonly validation?: KitValidation } | Job;

if (parentPort && workerData) {
  const port = parentPort;
  const parts = prepareKit(workerData as WorkerInit);
  let kit: CertificateKit | undefined;
  port.on('message', (m: WorkerMessage) => {
    if ('template' in m) {
      kit = withTemplate(parts, m.template, m.validation);
      return;
    }
    if (!kit) {
      port.postMessage({ id: m.id, ok: false, code: 'E_RENDER', message: 'internal: a job reached the worker before the template' } satisfies JobResult);
      return;
    }
    void runJob(kit, m).then((r) => port.postMessage(r));
  });
  port.postMessage({ ready: true });
}
