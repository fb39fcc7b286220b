/**
 * `npm run chaos -- [--rows N] [--kills K] [--only SCENARIO,…] [--seed S] [--sample N] [--hang-seconds S] [--phases P,…] [--keep]`:
 * the reliability harness of issue 17. On a generated roster (default 2,000 rows, photos as `npm run bench` makes
 * them) it runs the real built command through the scenarios — kill-rerun, concurrent, postgres, disk-full,
 * corrupted-registry, read-only-registry (`--only bad-registry` is both; scripts/chaos/scenarios.ts) — checks the invariants after each (scripts/chaos/invariants.ts), prints
 * one table and exits non-zero if any invariant fails. Not part of `npm test` (test/chaos/chaos.test.ts runs a
 * short version). Needs root for the disk-full and read-only mounts; without it those are reported as skipped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { liveGroups } from './chaos/proc.js';
import { cleanups, type Phase, SCENARIOS, type ScenarioName, type ScenarioResult, verdictOf } from './chaos/scenarios.js';
import { notes, table } from './chaos/table.js';
import { writePhotos } from './chaos/workload.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '2000' },
    kills: { type: 'string', default: '20' },
    only: { type: 'string', multiple: true },
    seed: { type: 'string' },
    sample: { type: 'string', default: '50' },
    'hang-seconds': { type: 'string', default: '120' },
    phases: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});

function whole(name: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`chaos: Expected --${name} as a whole number ≥ ${min} but received ${v}\n`);
    process.exit(2);
  }
  return n;
}

const names = Object.keys(SCENARIOS) as ScenarioName[];
/** Scenario 5 is two scenarios: the damaged file and the read-only one. */
const ALIASES: Record<string, ScenarioName[]> = { 'bad-registry': ['corrupted-registry', 'read-only-registry'] };
const only = (values.only ?? []).flatMap((s) => s.split(',')).flatMap((s) => ALIASES[s] ?? [s]);
const unknown = only.filter((s) => !names.includes(s as ScenarioName));
if (unknown.length) {
  process.stderr.write(`chaos: Expected --only to name one of ${names.join(', ')} but received ${unknown.join(', ')}\n`);
  process.exit(2);
}
const rows = whole('rows', values.rows, 10);
const kills = whole('kills', values.kills, 0);
const seed = values.seed !== undefined ? whole('seed', values.seed, 0) : Math.floor(Math.random() * 2 ** 31);
const PHASES: readonly Phase[] = ['template', 'start', 'numbering', 'certificates', 'bundle', 'bundle-file'];
const phases = values.phases?.split(',') as Phase[] | undefined;
if (phases?.some((p) => !PHASES.includes(p))) {
  process.stderr.write(`chaos: Expected --phases as a comma-separated list of ${PHASES.join(', ')} but received ${values.phases}\n`);
  process.exit(2);
}
const selected = only.length ? [...new Set(only as ScenarioName[])] : names;

const work = mkdtempSync(join(tmpdir(), 'skillcert-chaos-'));
// Interrupted (Ctrl-C, a CI timeout): the runs' process groups go, the mounts are undone, the folder is removed.
const interrupted = (signal: NodeJS.Signals) => {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const undo of [...cleanups]) undo();
  if (!values.keep) rmSync(work, { recursive: true, force: true });
  process.stderr.write(`chaos: interrupted by ${signal}\n`);
  process.exit(130);
};
process.on('SIGINT', interrupted);
process.on('SIGTERM', interrupted);

const t0 = Date.now();
process.stdout.write(`chaos: seed ${seed}, ${rows} rows, ${kills} kills, scenarios ${selected.join(', ')}; work in ${work}\n`);
const results: ScenarioResult[] = [];
try {
  const photos = await writePhotos(join(work, 'photos'));
  for (const name of selected) {
    process.stdout.write(`\n== ${name}\n`);
    const started = Date.now();
    try {
      results.push(await SCENARIOS[name]({ rows, kills, seed, work, photos, ...(phases && { phases }), sample: Number(values.sample), hangMs: Number(values['hang-seconds']) * 1000, log: (l) => process.stdout.write(`${l}\n`) }));
    } catch (err) {
      // The harness's own failure is a failed scenario, with its stack (it is not the pipeline's output).
      results.push({
        name, runs: 0, kills: 0, findings: { duplicates: 0, unrecordedGaps: 0, brokenPdfs: 0, orphans: 0, checkedPdfs: 0, details: [] }, survivors: 0, crashes: 0, hangs: 0,
        failures: [`the harness failed: ${(err as Error).stack ?? String(err)}`], notes: [], seconds: (Date.now() - started) / 1000,
      });
    }
    process.stdout.write(`   ${verdictOf(results.at(-1)!)} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  }
} finally {
  for (const undo of [...cleanups]) undo();
  if (values.keep) process.stdout.write(`kept ${work}\n`);
  else rmSync(work, { recursive: true, force: true });
}

process.stdout.write(`\n${table(results)}\n\n${notes(results)}\n\nseed ${seed}; ${((Date.now() - t0) / 60000).toFixed(1)} min\n`);
process.exitCode = results.some((r) => verdictOf(r) === 'FAIL') ? 1 : 0;
