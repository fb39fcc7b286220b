/**
 * The batch of `npm run bench`, in a process of its own (scripts/bench.ts starts it): reads the run's options as
 * JSON on stdin, runs the whole batch, then the same-run reference (below), and prints one JSON line (BenchRun):
 * times, count, CPU of this process (every thread), peak RSS, and on Linux the stage in which the peak was reached
 * (the kernel's high-water mark, read every 20 ms).
 *
 * The reference: right after the batch, on the same machine at the same moment, the bare certificate loop — the
 * batch's template, one prepared photo, the same worker pool rendering, stamping, signing and writing REFERENCE
 * certificates — without ingest, validation, photo checks, numbering, registry or bundle. The batch's CPU per
 * certificate over the reference's is what the batch's own machinery costs.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeContext } from '../pipeline/core/context.js';
import { makeLogger } from '../pipeline/core/log.js';
import { SkillcertError } from '../pipeline/core/errors.js';
import { runBatch, type RunOptions } from '../pipeline/batch/run.js';
import { planBatch } from '../pipeline/batch/plan.js';
import { printTemplate, startEngines } from '../pipeline/batch/engines.js';
import { preparePhoto } from '../pipeline/stamp/index.js';

export interface CpuSample { readonly wallMs: number; readonly cpuMs: number; readonly count: number }

export interface BenchRun {
  readonly dir: string;
  readonly issued: number;
  /** runBatch from call to return: roster to signed files, tables and bundle. */
  readonly seconds: number;
  /** This process's user + system CPU (all threads) during runBatch. */
  readonly batchCpuMs: number;
  /** This process's CPU before runBatch: Node's start and the modules the batch loads (as `skillcert run` loads them). */
  readonly startCpuMs: number;
  /** This process's CPU after runBatch: the reference's pool, template and loop — not the batch's. */
  readonly afterCpuMs: number;
  /** The bare certificate loop after the batch. */
  readonly reference: CpuSample;
  /** getrusage's ru_maxrss of this process, in KiB. */
  readonly maxRssKb: number;
  /** The high-water mark reached by the end of each stage, in MiB (Linux). */
  readonly peakByStage: Record<string, number>;
  readonly timings: Record<string, unknown>;
  readonly problems: readonly string[];
}

/** Certificates of the reference loop: enough for a steady rate, few enough to add seconds, not minutes. */
const REFERENCE = 300;
const STATUS = '/proc/self/status';
const highWater = (): number => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(STATUS, 'utf8'))?.[1] ?? 0) / 1024;
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

// A refused input (a profile without its identity, a damaged roster) is its message; anything else, a bug, its stack.
process.on('uncaughtException', (err) => {
  process.stderr.write(`bench: ${err instanceof SkillcertError ? err.message : (err.stack ?? String(err))}\n`);
  process.exit(1);
});

const opts = JSON.parse(readFileSync(0, 'utf8')) as RunOptions & { readonly printOnly?: boolean };
const ctx = makeContext({ now: new Date('2026-11-20T10:00:00+08:00'), log: makeLogger('warn'), operator: 'bench' });
if (opts.printOnly) {
  // An earlier night of the same output folder: only the template, printed by Chromium into the print cache.
  const plan = planBatch(ctx, opts);
  await printTemplate(plan.identity.profile, plan.identity.fonts, plan.out);
  process.exit(0);
}
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const startCpuMs = cpuMs(cpu0);
const marks: [number, number][] = [];
const sampler = existsSync(STATUS) ? setInterval(() => marks.push([performance.now() - t0, highWater()]), 20) : undefined;
const r = await runBatch(ctx, opts);
if (sampler) clearInterval(sampler);
const seconds = (performance.now() - t0) / 1000;
const batchCpuMs = cpuMs(process.cpuUsage(cpu0));

// Stage ends from the run's own timings, in the order they ran.
const { validateMs, templateMs, certificatesMs } = r.summary.timings as Record<string, number>;
const stages: [string, number][] = [['validate', validateMs ?? 0], ['template', templateMs ?? 0], ['certificates', certificatesMs ?? 0], ...Object.entries(r.outputs?.timings ?? {})];
const peakByStage: Record<string, number> = {};
let end = 0;
for (const [name, ms] of stages) {
  end += ms;
  peakByStage[name] = Math.round(marks.filter(([t]) => t <= end).reduce((m, [, h]) => Math.max(m, h), 0));
}
const maxRssKb = process.resourceUsage().maxRSS;

async function reference(): Promise<CpuSample> {
  const plan = planBatch(ctx, opts);
  const engines = startEngines(plan, ctx.now); // the print cache holds the batch's template: no Chromium here
  try {
    const pool = await engines.ready();
    const first = r.summary.issued[0]!;
    const photo = await preparePhoto(plan.photoDir, first.photo);
    if (!photo.ok) throw new Error(`bench reference: ${photo.problem.message}`);
    const dir = join(r.dir, 'reference');
    mkdirSync(dir, { recursive: true });
    const records = r.summary.issued.slice(0, Math.min(REFERENCE, r.summary.issued.length));
    const t = performance.now();
    const c = process.cpuUsage();
    let i = 0;
    await Promise.all(records.map(async (rec) => {
      const res = await pool.run({ rec, photoJpeg: photo.photo.jpeg, file: join(dir, `${i++}.pdf`), now: ctx.now.getTime() });
      if (!res.ok) throw new Error(`bench reference: ${res.message}`);
    }));
    return { wallMs: performance.now() - t, cpuMs: cpuMs(process.cpuUsage(c)), count: records.length };
  } finally {
    await engines.close();
  }
}

const cpu1 = process.cpuUsage();
const referenceRun = await reference();
const result: BenchRun = {
  dir: r.dir,
  issued: r.summary.issued.length,
  seconds,
  batchCpuMs,
  startCpuMs,
  afterCpuMs: cpuMs(process.cpuUsage(cpu1)),
  reference: referenceRun,
  maxRssKb,
  peakByStage,
  timings: { ...r.summary.timings, bundle: r.outputs?.timings ?? {} },
  problems: r.summary.rejected.slice(0, 3).map((p) => p.message),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
