/**
 * Runs the registry worker as a real child process and reads back the registry file it wrote, for the
 * exactly-once tests.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { WorkerJob, WorkerLine } from './registry-fixtures.js';

const WORKER = fileURLToPath(new URL('./registry-worker.ts', import.meta.url));

export function tempRegistryPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'skillcert-registry-')), 'registry.sqlite');
}

export interface Worker {
  readonly child: ChildProcessWithoutNullStreams;
  /** Certificate lines printed so far (each printed after its transaction committed). */
  readonly lines: WorkerLine[];
  /** Resolves once the worker printed {"ready":true}; rejects if it ended before. */
  readonly ready: Promise<void>;
  /** Resolves when the process ended, with its exit code or the signal that ended it. */
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  /** Calls back on every certificate line. */
  onLine(fn: (line: WorkerLine, count: number) => void): void;
}

export function startWorker(job: WorkerJob): Worker {
  const child = spawn(process.execPath, ['--import=tsx', WORKER, JSON.stringify(job)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: WorkerLine[] = [];
  const listeners: ((line: WorkerLine, count: number) => void)[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  let markReady = (): void => {};
  let notReady = (_: Error): void => {};
  const ready = new Promise<void>((resolve, reject) => ((markReady = resolve), (notReady = reject)));
  // A worker that never waits for the go rejects `ready` when it ends; only those that await it care.
  ready.catch(() => undefined);
  createInterface({ input: child.stdout }).on('line', (text) => {
    const parsed = JSON.parse(text) as WorkerLine | { ready: true };
    if ('ready' in parsed) return markReady();
    lines.push(parsed);
    for (const fn of listeners) fn(parsed, lines.length);
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => {
      // A worker that ended before it was ready (it could not open the registry) fails the test instead of hanging it.
      notReady(new Error(`worker exited with ${code ?? signal} before it was ready: ${stderr}`));
      resolve({ code, signal, stderr });
    }),
  );
  return { child, lines, ready, done, onLine: (fn) => void listeners.push(fn) };
}

/** Runs a worker to the end and fails loudly when it did not exit cleanly. */
export async function runWorker(job: WorkerJob): Promise<WorkerLine[]> {
  return finished(startWorker(job));
}

/**
 * Starts one worker per job, lets them all go at the same moment once every one is ready (so that they number at
 * once), and runs them to the end; fails loudly when one did not exit cleanly. The certificate lines, per job.
 */
export async function runTogether<const J extends readonly Omit<WorkerJob, 'waitForGo'>[]>(...jobs: J): Promise<{ [K in keyof J]: WorkerLine[] }> {
  const workers = jobs.map((job) => startWorker({ ...job, waitForGo: true }));
  await Promise.all(workers.map((w) => w.ready));
  for (const w of workers) w.child.stdin.write('go\n');
  return (await Promise.all(workers.map(finished))) as { [K in keyof J]: WorkerLine[] };
}

async function finished(w: Worker): Promise<WorkerLine[]> {
  const end = await w.done;
  if (end.code !== 0) throw new Error(`worker exited with ${end.code ?? end.signal}: ${end.stderr}`);
  return w.lines;
}

export interface StoredCertificate {
  number: string;
  prefix: string;
  serial: number;
  stock_serial: string;
  person_key: string;
  id_no: string;
  batch_id: string;
}

/** Reads the registry file directly, not through the code under test. */
export function readCertificates(path: string): { certificates: StoredCertificate[]; counters: Map<string, number> } {
  const db = new Database(path, { readonly: true });
  try {
    const certificates = db.prepare('SELECT number, prefix, serial, stock_serial, person_key, id_no, batch_id FROM certificates').all() as StoredCertificate[];
    const counters = new Map(
      (db.prepare('SELECT prefix, last_serial FROM serial_counters').all() as { prefix: string; last_serial: number }[]).map((r) => [r.prefix, r.last_serial]),
    );
    return { certificates, counters };
  } finally {
    db.close();
  }
}
