/**
 * Where `skillcert serve` verifies uploads: on a few worker threads (verify-worker.ts), so a verification, all CPU,
 * uses every core instead of the one the HTTP side runs on; the registry stays here and answers the threads'
 * status questions. Without the built worker script (the sources run under tsx, as in the tests) or with 0 threads,
 * the same verifyPdfBytes runs in this thread.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { unknown } from '../core/check.js';
import type { Registry } from '../registry/index.js';
import { verifyPdfBytes, type FileVerdict } from '../verify/certificate.js';
import type { FromWorker, ToWorker, WorkerSetup } from './verify-worker.js';

export interface VerifyPool {
  /** Threads verifying (0: in this thread). */
  readonly threads: number;
  verify(bytes: Uint8Array, at?: Date): Promise<FileVerdict>;
  close(): Promise<void>;
}

export interface PoolOptions extends WorkerSetup {
  readonly registry: Registry;
  readonly threads: number;
}

const WORKER = new URL('./verify-worker.js', import.meta.url);

export function verifyPool(opts: PoolOptions): VerifyPool {
  const inThread = (bytes: Uint8Array, at?: Date) => verifyPdfBytes(bytes, 'upload', { trustAnchors: opts.trustAnchors, orgCertificates: opts.orgCertificates, registry: opts.registry, ...(at ? { at } : {}) });
  if (opts.threads <= 0 || WORKER.protocol !== 'file:' || !existsSync(fileURLToPath(WORKER))) return { threads: 0, verify: inThread, close: async () => {} };

  interface Thread {
    readonly worker: Worker;
    readonly waiting: Map<number, (v: FileVerdict) => void>;
    answered: boolean;
  }
  const setup: WorkerSetup = { trustAnchors: opts.trustAnchors, orgCertificates: opts.orgCertificates };
  let lastId = 0;
  let closing = false;

  const start = (): Thread => {
    const t: Thread = { worker: new Worker(WORKER, { workerData: setup }), waiting: new Map(), answered: false };
    t.worker.on('message', (m: FromWorker) => {
      if (m.kind === 'verdict') {
        t.answered = true;
        t.waiting.get(m.id)?.(m.verdict);
        t.waiting.delete(m.id);
        return;
      }
      const answer = (r: ToWorker) => t.worker.postMessage(r);
      opts.registry.status(m.number, m.sha256).then(
        (report) => answer({ kind: 'status', id: m.id, report }),
        (err: Error) => answer({ kind: 'status', id: m.id, error: err.message }),
      );
    });
    // A thread that dies (out of memory on a hostile file) answers what it held as undecided, and is replaced; one
    // that died before any verdict (it cannot start) is not, and without threads the service verifies in its own.
    t.worker.once('exit', (code) => {
      for (const done of t.waiting.values()) done({ file: 'upload', verdict: 'indeterminate', checks: [unknown('file.verify', `the verification stopped (thread exit ${code}); try again later`)] });
      t.waiting.clear();
      const i = threads.indexOf(t);
      if (closing) return;
      if (t.answered) threads[i] = start();
      else threads.splice(i, 1);
    });
    t.worker.on('error', () => {}); // followed by 'exit', handled there
    return t;
  };
  const threads = Array.from({ length: opts.threads }, start);

  return {
    get threads() {
      return threads.length;
    },
    verify(bytes, at) {
      if (threads.length === 0) return inThread(bytes, at);
      // The thread with the least to do; the service's gate bounds how much that is.
      const t = threads.reduce((a, b) => (b.waiting.size < a.waiting.size ? b : a));
      const id = ++lastId;
      return new Promise<FileVerdict>((resolve) => {
        t.waiting.set(id, resolve);
        t.worker.postMessage({ kind: 'verify', id, bytes, ...(at ? { at: at.getTime() } : {}) } satisfies ToWorker);
      });
    },
    async close() {
      closing = true;
      await Promise.all(threads.map((t) => t.worker.terminate()));
    },
  };
}
