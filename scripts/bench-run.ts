/**
 * The batch of `npm run bench`, in a process of its own (scripts/bench.ts starts it): reads the run's options as
 * JSON on stdin, runs the whole batch, and prints one JSON line (BenchRun) with its time, count and peak RSS.
 */
import { readFileSync } from 'node:fs';
import { makeContext } from '../pipeline/context.js';
import { makeLogger } from '../pipeline/log.js';
import { runBatch, type RunOptions } from '../pipeline/run.js';

export interface BenchRun {
  readonly dir: string;
  readonly issued: number;
  /** runBatch from call to return: roster to signed files, tables and bundle. */
  readonly seconds: number;
  /** getrusage's ru_maxrss of this process, in KiB. */
  readonly maxRssKb: number;
  readonly timings: Record<string, unknown>;
  readonly problems: readonly string[];
}

const opts = JSON.parse(readFileSync(0, 'utf8')) as RunOptions;
const ctx = makeContext({ now: new Date('2026-11-20T10:00:00+08:00'), log: makeLogger('warn'), operator: 'bench' });
const t0 = performance.now();
const r = await runBatch(ctx, opts);
const result: BenchRun = {
  dir: r.dir,
  issued: r.summary.issued.length,
  seconds: (performance.now() - t0) / 1000,
  maxRssKb: process.resourceUsage().maxRSS,
  timings: { ...r.summary.timings, bundle: r.outputs.timings },
  problems: r.summary.rejected.slice(0, 3).map((p) => p.message),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
