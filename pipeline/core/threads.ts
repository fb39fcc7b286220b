/** Worker threads of the project's own modules, compiled or under tsx (the tests). */
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread running the module `name` (without its extension) beside `from` (an import.meta.url): the
 * compiled .js, or, when `from` is a .ts file run by tsx, the .ts loaded through tsx's API (Node 20 does not carry
 * the main thread's `--import tsx` into a worker, nor honour it in a worker's execArgv).
 */
export function startThread(from: string, name: string, options: WorkerOptions = {}): Worker {
  if (!fileURLToPath(from).endsWith('.ts')) return new Worker(new URL(`${name}.js`, from), options);
  const url = JSON.stringify(new URL(`${name}.ts`, from).href);
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${url}); });`, { ...options, eval: true });
}
