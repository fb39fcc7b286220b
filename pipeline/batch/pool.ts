/**
 * The worker pool of a batch: N worker threads (one per core but one by default), each with its own parsed fonts (over the
 * main thread's font bytes, shared) and signing identity; jobs go to the least busy worker and at most
 * `perWorker` wait at each, so memory stays bounded however large the roster. With 0 workers the jobs run in
 * this thread (tests, tiny batches).
 *
 * The pool starts before the template exists (Chromium prints it meanwhile); `useTemplate` hands it over, and
 * only then may jobs run.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { CertificateKit, KitValidation } from '../certificate/produce.js';
import { SkillcertError } from '../core/errors.js';
import { startThread } from '../core/threads.js';
import { type Job, type JobResult, type KitParts, prepareKit, runJob, withTemplate, type WorkerInit, type WorkerMessage } from './worker.js';

interface Slot { worker: Worker; busy: number }

/**
 * A worker's young generation: V8 lets it grow to ~100 MB per thread when it churns through certificates, which
 * alone took a batch past its memory budget; at 16 MB a worker stays near 70 MB for ~6 % more time in the
 * scavenger. A certificate's live data is a few MB, so nothing ever runs short.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 16 };

export class Pool {
  private readonly slots: Slot[] = [];
  private readonly waiting = new Map<number, (r: JobResult) => void>();
  private readonly idle: (() => void)[] = [];
  /** In-thread pool (size 0): the kit without and then with its template. */
  private parts?: KitParts;
  private kit?: CertificateKit;
  private failure?: Error;
  /** Job ids are the pool's: callers running batches side by side (a queued batch's chunks) share it. */
  private sent = 0;

  private constructor(private readonly perWorker: number) {}

  /**
   * One worker per core but one: the main thread keeps a core for what it does per certificate — the photo
   * checks (sharp, on libuv's threads), the registry, the roster — which is about as much as a worker's PDF.
   * On 2 cores, 2 workers made a batch between as fast and ~10 % faster for ~60 MB more (bench, 2,000 and 3,000
   * rows).
   */
  static defaultSize(): number {
    return Math.max(1, availableParallelism() - 1);
  }

  static async start(init: WorkerInit, size: number, perWorker = 3): Promise<Pool> {
    const pool = new Pool(perWorker);
    if (size === 0) {
      pool.parts = prepareKit(init);
      return pool;
    }
    const started = Array.from({ length: size }, () => new Promise<void>((resolve, reject) => {
      const worker = startThread(import.meta.url, './worker', { workerData: init, resourceLimits: WORKER_LIMITS });
      const slot: Slot = { worker, busy: 0 };
      pool.slots.push(slot);
      worker.on('message', (m: JobResult | { ready: true }) => {
        if ('ready' in m) { resolve(); return; }
        slot.busy--;
        const done = pool.waiting.get(m.id);
        pool.waiting.delete(m.id);
        done?.(m);
        pool.idle.shift()?.();
      });
      worker.on('error', (err) => {
        pool.failure = err;
        reject(new SkillcertError('E_RENDER', `a worker thread failed: ${err.message}`, {}, { cause: err }));
        for (const [id, done] of pool.waiting) done({ id, ok: false, code: 'E_RENDER', message: `worker failed: ${err.message}` });
        pool.waiting.clear();
        for (const wake of pool.idle.splice(0)) wake();
      });
    }));
    try {
      await Promise.all(started);
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Hands every worker the template PDF; jobs may run from now on. */
  useTemplate(bytes: Uint8Array, validation: KitValidation = {}): void {
    if (this.parts) {
      this.kit = withTemplate(this.parts, bytes, validation);
      return;
    }
    for (const s of this.slots) s.worker.postMessage({ template: bytes, validation } satisfies WorkerMessage);
  }

  /** Runs one job; resolves when its file is written (or with the reason it could not be). */
  async run(work: Omit<Job, 'id'>): Promise<JobResult> {
    const job: Job = { ...work, id: ++this.sent };
    if (this.parts) {
      if (!this.kit) throw new Error('internal: a job was run before the pool had its template');
      return runJob(this.kit, job);
    }
    for (;;) {
      if (this.failure) throw new SkillcertError('E_RENDER', `a worker thread failed: ${this.failure.message}`, {}, { cause: this.failure });
      const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
      if (slot.busy < this.perWorker) {
        slot.busy++;
        return new Promise<JobResult>((resolve) => {
          this.waiting.set(job.id, resolve);
          slot.worker.postMessage(job satisfies WorkerMessage);
        });
      }
      await new Promise<void>((wake) => this.idle.push(wake));
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
