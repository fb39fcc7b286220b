/**
 * The batch of `npm run bench`, in a process of its own (scripts/bench.ts starts it): reads the run's options as
 * JSON on stdin, runs the whole batch, and prints one JSON line (BenchRun) with its time, count and peak RSS, and
 * on Linux the stage in which the peak was reached (the kernel's high-water mark, read every 20 ms).
 */
import { existsSync, readFileSync } from 'node:fs';
import { makeContext } from '../pipeline/core/context.js';
import { makeLogger } from '../pipeline/core/log.js';
import { runBatch, type RunOptions } from '../pipeline/batch/run.js';

export interface BenchRun {
  readonly dir: string;
  readonly issued: number;
  /** runBatch from call to return: roster to signed files, tables and bundle. */
  readonly seconds: number;
  /** getrusage's ru_maxrss of this process, in KiB. */
  readonly maxRssKb: number;
  /** The high-water mark reached by the end of each stage, in MiB (Linux). */
  readonly peakByStage: Record<string, number>;
  readonly timings: Record<string, unknown>;
  readonly problems: readonly string[];
}

const STATUS = '/proc/self/status';
const highWater = (): number => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(STATUS, 'utf8'))?.[1] ?? 0) / 1024;

const opts = JSON.parse(readFileSync(0, 'utf8')) as RunOptions;
const ctx = makeContext({ now: new Date('2026-11-20T10:00:00+08:00'), log: makeLogger('warn'), operator: 'bench' });
const t0 = performance.now();
const marks: [number, number][] = [];
const sampler = existsSync(STATUS) ? setInterval(() => marks.push([performance.now() - t0, highWater()]), 20) : undefined;
const r = await runBatch(ctx, opts);
if (sampler) clearInterval(sampler);
const seconds = (performance.now() - t0) / 1000;

// Stage ends from the run's own timings, in the order they ran.
const { validateMs, templateMs, certificatesMs } = r.summary.timings as Record<string, number>;
const stages: [string, number][] = [['validate', validateMs ?? 0], ['template', templateMs ?? 0], ['certificates', certificatesMs ?? 0], ...Object.entries(r.outputs?.timings ?? {})];
const peakByStage: Record<string, number> = {};
let end = 0;
for (const [name, ms] of stages) {
  end += ms;
  peakByStage[name] = Math.round(marks.filter(([t]) => t <= end).reduce((m, [, h]) => Math.max(m, h), 0));
}

const result: BenchRun = {
  dir: r.dir,
  issued: r.summary.issued.length,
  seconds,
  maxRssKb: process.resourceUsage().maxRSS,
  peakByStage,
  timings: { ...r.summary.timings, bundle: r.outputs?.timings ?? {} },
  problems: r.summary.rejected.slice(0, 3).map((p) => p.message),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
