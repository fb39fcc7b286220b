/**
 * The worker pool of a batch: N worker threads (one per core by default), each with its own parsed fonts and
 * signing identity; jobs go to the least busy worker and at most `perWorker` wait at each, so memory stays
 * bounded however large the roster. With 0 workers the jobs run in this thread (tests, tiny batches).
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SkillcertError } from './errors.js';
import { type Job, type JobResult, makeKit, runJob, type WorkerInit } from './worker.js';

interface Slot { worker: Worker; busy: number }

export class Pool {
  private readonly slots: Slot[] = [];
  private readonly waiting = new Map<number, (r: JobResult) => void>();
  private readonly idle: (() => void)[] = [];
  private kit?: ReturnType<typeof makeKit>;
  private failure?: Error;

  private constructor(private readonly perWorker: number) {}

  static defaultSize(): number {
    return availableParallelism();
  }

  static async start(init: WorkerInit, size: number, perWorker = 3): Promise<Pool> {
    const pool = new Pool(perWorker);
    if (size === 0) {
      pool.kit = makeKit(init);
      return pool;
    }
    // Under tsx (tests) the worker is the .ts file and needs the same loader; compiled, it is worker.js.
    const self = fileURLToPath(import.meta.url);
    const ts = self.endsWith('.ts');
    const url = new URL(ts ? './worker.ts' : './worker.js', import.meta.url);
    await Promise.all(
      Array.from({ length: size }, () => new Promise<void>((resolve, reject) => {
        const worker = new Worker(url, { workerData: init, ...(ts ? { execArgv: ['--import', 'tsx'] } : {}) });
        const slot: Slot = { worker, busy: 0 };
        worker.on('message', (m: JobResult | { ready: true }) => {
          if ('ready' in m) { pool.slots.push(slot); resolve(); return; }
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
      })),
    );
    return pool;
  }

  /** Runs one job; resolves when its file is written (or with the reason it could not be). */
  async run(job: Job): Promise<JobResult> {
    if (this.kit) return runJob(this.kit, job);
    for (;;) {
      if (this.failure) throw new SkillcertError('E_RENDER', `a worker thread failed: ${this.failure.message}`, {}, { cause: this.failure });
      const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
      if (slot.busy < this.perWorker) {
        slot.busy++;
        return new Promise<JobResult>((resolve) => {
          this.waiting.set(job.id, resolve);
          slot.worker.postMessage(job);
        });
      }
      await new Promise<void>((wake) => this.idle.push(wake));
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
