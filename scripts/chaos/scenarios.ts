/**
 * The chaos scenarios (issue 17): each drives the real built command (`bin/skillcert run`) against a generated
 * roster, breaks something — SIGKILL at random moments, a second run at the same time, a PostgreSQL machine killed
 * mid-batch, a full disk, a damaged or read-only registry — and then checks the invariants (invariants.ts) from the
 * outputs. `scripts/chaos.ts` runs them at full size; `test/chaos/chaos.test.ts` runs small ones through the same
 * functions.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, closeSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadProfile } from '../../pipeline/core/profile.js';
import { startPostgres } from '../../test/helpers/postgres.js';
import { prng } from '../../test/helpers/ingest-zip.js';
import { addFindings, checkInvariants, checkPdfs, type Findings, noFindings, readRegistry, type RegistryTarget, writtenBefore } from './invariants.js';
import { countCertificates, crashOf, DEFAULT_HANG_MS, failureMessage, killSurvivors, type KillPlan, type Proc, processesNaming, run, type RunRecord, type RunState, startRun } from './proc.js';
import { PROFILE, type Roster, writeChaosRoster } from './workload.js';

export interface ChaosOptions {
  /** Rows of the main roster. */
  readonly rows: number;
  /** SIGKILLs of scenario 1. */
  readonly kills: number;
  /**
   * Scenario 1's kill phases, dealt in shuffled rounds (default template first, then start, numbering, certificates,
   * bundle); `bundle-file` kills while a file of the bundle is being written (a temporary name in the batch folder).
   */
  readonly phases?: readonly Phase[];
  readonly seed: number;
  /** A folder for this session's rosters, outputs and registries. */
  readonly work: string;
  /** The bench photos (workload.writePhotos). */
  readonly photos: string;
  /** PDFs checked with pdfsig and qpdf per scenario besides those written around a kill. */
  readonly sample?: number;
  readonly hangMs?: number;
  /**
   * After a refusal (a damaged registry), restore and rerun to completion, and check the invariants then (default
   * true; the test suite's short version of a scenario it expects to fail leaves it out).
   */
  readonly recover?: boolean;
  /** Scenario 5a's damage: bytes flipped in the page in the middle of the file, or in the middle page of the certificates table (default both). */
  readonly damages?: readonly ('middle' | 'certificates')[];
  readonly log?: (line: string) => void;
}

export interface ScenarioResult {
  readonly name: string;
  /** `skillcert run` processes started. */
  readonly runs: number;
  readonly kills: number;
  readonly findings: Findings;
  readonly survivors: number;
  readonly crashes: number;
  readonly hangs: number;
  /** Expectations of the scenario itself that failed (a refusal that did not happen, a run that did not finish…). */
  readonly failures: readonly string[];
  /** What happened, for the report. */
  readonly notes: readonly string[];
  /** Set when the scenario could not run here (a mount refused): neither passed nor failed. */
  readonly skipped?: string;
  readonly seconds: number;
}

export const verdictOf = (r: ScenarioResult): 'PASS' | 'FAIL' | 'SKIPPED' =>
  r.skipped ? 'SKIPPED'
    : r.failures.length || r.findings.details.length || r.survivors || r.crashes || r.hangs || r.findings.duplicates || r.findings.unrecordedGaps || r.findings.brokenPdfs || r.findings.orphans ? 'FAIL'
      : 'PASS';

/** The environment of every run: the operator pinned for the audit trail, no debug output (which prints stacks). */
export function chaosEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SKILLCERT_OPERATOR: 'skillcert-chaos', ...extra };
  delete env.SKILLCERT_DEBUG;
  return env;
}

/** Runs, kills, crashes, hangs and survivors of one scenario. */
class Ledger {
  runs = 0;
  kills = 0;
  readonly crashes: string[] = [];
  readonly hangs: string[] = [];
  readonly survivors: Proc[] = [];
  readonly failures: string[] = [];
  readonly notes: string[] = [];
  /** The audit and verify-bundle runs of the checks: their crashes count too. */
  readonly checks: RunRecord[] = [];

  constructor(private readonly log: (line: string) => void) {}

  /** Records a finished run (`skillcert run` unless `check`). */
  add(r: RunRecord, check = false): RunRecord {
    if (!check) this.runs++;
    if (r.killedAt !== undefined) this.kills++;
    if (r.hung) this.hangs.push(`${r.label}: no progress for the hang bound; killed`);
    const crash = crashOf(r);
    if (crash) this.crashes.push(crash);
    if (r.survivors.length) {
      this.survivors.push(...r.survivors);
      this.failures.push(`${r.label}: ${r.survivors.length} process(es) survived it: ${r.survivors.map((p) => `${p.pid} ${p.cmd.slice(0, 80)}`).join('; ')}`);
      killSurvivors(r.survivors);
    }
    if (r.browserDirsLeft.length) {
      // Not a batch-folder invariant (it is outside --out), but a killed run's leftover: noted, then removed.
      this.notes.push(`${r.label}: its Chromium profile folder was left in ${r.browserDirsLeft.map((d) => dirname(d)).join(', ')} (${r.browserDirsLeft.map((d) => d.split('/').pop()).join(', ')}); removed by the harness`);
      for (const d of r.browserDirsLeft) rmSync(d, { recursive: true, force: true });
    }
    const how = r.killedAt !== undefined ? `killed at ${r.certificatesAtKill} certificates${r.descendantsAtKill ? ` with ${r.descendantsAtKill} child process(es) alive (Chromium)` : ''}` : r.hung ? 'HUNG' : `exit ${r.code ?? r.signal}`;
    this.log(`  ${r.label}: ${how} after ${(r.ms / 1000).toFixed(1)} s${r.code && r.killedAt === undefined ? ` — ${failureMessage(r)?.message.slice(0, 160) ?? r.stderr.slice(-160)}` : ''}`);
    return r;
  }

  /** A run that must have finished its batch. */
  mustSucceed(r: RunRecord): void {
    if (r.killedAt === undefined && !r.hung && r.code !== 0) this.failures.push(`${r.label}: expected to finish the batch, ended with exit ${r.code ?? r.signal}: ${failureMessage(r)?.message ?? r.stderr.slice(-300)}`);
  }

  /** No process left whose command line names the scenario's output folder(s). */
  noneNaming(...paths: string[]): void {
    for (const p of paths) {
      const left = processesNaming(p);
      if (left.length) {
        this.survivors.push(...left);
        this.failures.push(`${left.length} process(es) still name ${p}: ${left.map((x) => `${x.pid} ${x.cmd.slice(0, 80)}`).join('; ')}`);
        killSurvivors(left);
      }
    }
  }

  result(name: string, findings: Findings, t0: number, skipped?: string): ScenarioResult {
    for (const c of this.checks) {
      const crash = crashOf(c);
      if (crash) this.crashes.push(crash);
    }
    return {
      name, runs: this.runs, kills: this.kills, findings, survivors: this.survivors.length, crashes: this.crashes.length, hangs: this.hangs.length,
      failures: [...this.failures, ...this.crashes, ...this.hangs], notes: this.notes, seconds: (Date.now() - t0) / 1000, ...(skipped && { skipped }),
    };
  }
}

const runArgs = (roster: Roster, out: string, photos: string, registry?: string) =>
  ['run', '--roster', roster.file, '--profile', PROFILE, '--out', out, '--photos', photos, ...(registry ? ['--registry', registry] : [])];

const stockFrom = (): number => loadProfile(PROFILE).stock!.from;

const uniform = (random: () => number, a: number, b: number) => a + (b - a) * random();

/** True while a file of the bundle is being written: a temporary name in the batch folder, outside certificates/. */
function bundleFileOpen(out: string): boolean {
  for (const b of existsSync(out) ? readdirSync(out, { withFileTypes: true }) : []) {
    if (!b.isDirectory() || b.name.startsWith('.')) continue;
    const dir = join(out, b.name);
    try {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.name.startsWith('.tmp-')) return true;
        if (e.isDirectory() && e.name !== 'certificates' && readdirSync(join(dir, e.name)).some((n) => n.startsWith('.tmp-'))) return true;
      }
    } catch {
      // changing under us
    }
  }
  return false;
}

/** True once the run has started writing the batch's tables, receipts or bundle (anything outside certificates/). */
function bundleStarted(out: string, since: number): boolean {
  for (const b of existsSync(out) ? readdirSync(out, { withFileTypes: true }) : []) {
    if (!b.isDirectory() || b.name.startsWith('.')) continue;
    for (const n of readdirSync(join(out, b.name))) {
      if (n === 'certificates') continue;
      try {
        if (statSync(join(out, b.name, n)).mtimeMs >= since) return true;
      } catch {
        // renamed meanwhile: a write in progress
        return true;
      }
    }
  }
  return false;
}

export type Phase = 'template' | 'start' | 'numbering' | 'certificates' | 'bundle' | 'bundle-file';

/**
 * The kill moments of scenario 1, spread over the phases of a run: `template` (the first kill: while Chromium
 * prints the template, to see that it goes with the run), `start` (validation, workers starting), `numbering` (just
 * after the run's first new certificates appear: groups numbered, not all written), `certificates` (a random count
 * further on, leaving room for the kills still to come), `bundle` (tables, receipts, manifest, archive). A quarter of
 * each: the start, numbering and certificate kills shuffled, then the bundle kills — a bundle kill lets its run write
 * every certificate first, so after one the batch has no certificate left to be killed in.
 */
function killPlans(kills: number, random: () => number, given?: readonly Phase[]): Phase[] {
  if (given) return Array.from({ length: kills }, (_, i) => given[i % given.length]!);
  if (kills === 0) return [];
  const kinds: Phase[] = ['start', 'numbering', 'certificates', 'bundle'];
  const dealt = Array.from({ length: kills - 1 }, (_, i) => kinds[i % kinds.length]!);
  const early = dealt.filter((p) => p !== 'bundle');
  for (let i = early.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [early[i], early[j]] = [early[j]!, early[i]!];
  }
  // The first kill while Chromium prints the template (later runs take the page from the print cache).
  return ['template', ...early, ...dealt.filter((p) => p === 'bundle')];
}

function planFor(phase: Phase, have: number, rows: number, certKillsLeft: number, random: () => number, out: string): KillPlan {
  switch (phase) {
    case 'template': {
      const ms = Math.round(uniform(random, 0, 800));
      return { describe: `${ms} ms after Chromium started`, when: (s) => s.children > 0, thenMs: ms };
    }
    case 'start': {
      const ms = Math.round(uniform(random, 500, 6000));
      return { describe: `${(ms / 1000).toFixed(1)} s after the start`, when: (s: RunState) => s.elapsedMs >= ms };
    }
    case 'numbering': {
      if (have >= rows) return planFor('bundle', have, rows, certKillsLeft, random, out);
      const ms = Math.round(uniform(random, 0, 400));
      return { describe: `${ms} ms after its first new certificate`, when: (s) => s.certificates > have, thenMs: ms };
    }
    case 'certificates': {
      if (have >= rows) return planFor('bundle', have, rows, certKillsLeft, random, out);
      const target = Math.min(rows, have + Math.max(1, Math.round(uniform(random, 0.3, 1.7) * (rows - have) / (certKillsLeft + 1))));
      return { describe: `at ${target} certificates`, when: (s) => s.certificates >= target };
    }
    case 'bundle': {
      // The bundle of 2,000 rows takes ~6 s here, of 100 well under one.
      const ms = Math.round(uniform(random, 0, Math.max(300, rows * 2.5)));
      return { describe: `${ms} ms into the bundle`, when: (s) => s.certificates >= rows && bundleStarted(out, s.startedAt), thenMs: ms };
    }
    case 'bundle-file':
      return { describe: 'while a file of the bundle is being written', when: (s) => s.certificates >= rows && bundleFileOpen(out) };
  }
}

/** Numbers the registry holds as numbered but not issued (a killed run's certificates in flight). */
async function inFlight(registry: RegistryTarget): Promise<string[]> {
  if (registry.kind === 'sqlite' && !existsSync(registry.file)) return [];
  try {
    return (await readRegistry(registry)).certificates.filter((c) => c.status === 'numbered').map((c) => c.number);
  } catch {
    return [];
  }
}

/** "Around a kill": the certificates written in this long before it, and those numbered but not yet recorded. */
const AROUND_KILL_MS = 500;

/**
 * After a kill: the PDFs written just before it must be whole (qpdf, pdfsig) — a file under its final name is
 * complete or absent — and they and the numbers in flight are remembered, for the final check of the files as the
 * reruns left them.
 */
async function afterKill(r: RunRecord, out: string, registry: RegistryTarget, aroundKill: Set<string>, findings: Findings): Promise<void> {
  const near = writtenBefore(out, r.killedAt!, AROUND_KILL_MS);
  for (const f of near) aroundKill.add(f.slice(-26, -4));
  for (const n of await inFlight(registry)) aroundKill.add(n);
  const checked = await checkPdfs(near);
  findings.checkedPdfs += checked.length;
  const bad = checked.filter((c) => !c.ok);
  if (bad.length) {
    findings.brokenPdfs += bad.length;
    findings.details.push(`${r.label}: ${bad.length} PDF(s) written just before the kill are broken: ${bad.slice(0, 3).map((b) => `${b.file} (${b.why})`).join('; ')}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 1. kill-rerun (SQLite)

export async function killRerun(o: ChaosOptions): Promise<ScenarioResult> {
  const t0 = Date.now();
  const log = o.log ?? (() => undefined);
  const ledger = new Ledger(log);
  const random = prng(o.seed);
  const work = mkdtempSync(join(o.work, 'kill-rerun-'));
  const roster = await writeChaosRoster(join(work, 'roster.xlsx'), o.rows, 0);
  const out = join(work, 'out');
  const registry: RegistryTarget = { kind: 'sqlite', file: join(work, 'registry.sqlite') };
  const args = runArgs(roster, out, o.photos, registry.file);
  const findings = noFindings();
  const aroundKill = new Set<string>();
  const phases = killPlans(o.kills, random, o.phases);
  for (let i = 0; i < phases.length; i++) {
    const have = countCertificates(out);
    const certKillsLeft = phases.slice(i + 1).filter((p) => p === 'certificates' || p === 'numbering').length;
    const plan = planFor(phases[i]!, have, o.rows, certKillsLeft, random, out);
    const r = ledger.add(await run({ label: `run ${i + 1} (kill ${phases[i]}, ${plan.describe})`, args, env: chaosEnv(), out, watch: [registry.file, `${registry.file}-wal`], kill: plan, hangMs: o.hangMs ?? DEFAULT_HANG_MS }));
    if (r.killedAt !== undefined) await afterKill(r, out, registry, aroundKill, findings);
    else if (r.code === 0) ledger.notes.push(`run ${i + 1} finished before its kill moment (${plan.describe})`);
    else ledger.mustSucceed(r);
  }
  const last = ledger.add(await run({ label: 'final run', args, env: chaosEnv(), out, hangMs: o.hangMs ?? DEFAULT_HANG_MS }));
  ledger.mustSucceed(last);
  ledger.noneNaming(out);
  addFindings(findings, await checkInvariants({ out, registry, rosters: [roster], stockFrom: stockFrom(), aroundKill, sample: o.sample ?? 50, random, env: chaosEnv(), runs: ledger.checks }));
  ledger.notes.push(`${aroundKill.size} certificates written around a kill, ${findings.checkedPdfs} PDFs checked with pdfsig and qpdf`);
  return ledger.result('kill-rerun (SQLite)', findings, t0);
}

// ---------------------------------------------------------------------------------------------------------------
// 2. concurrent (SQLite)

/** The batch lock's refusal of a second run of the same batch (pipeline/batch-lock.ts). */
const LOCK_REFUSAL = /batch \S+ is being run by .*; wait for it to finish/;

export async function concurrent(o: ChaosOptions): Promise<ScenarioResult> {
  const t0 = Date.now();
  const log = o.log ?? (() => undefined);
  const ledger = new Ledger(log);
  const random = prng(o.seed + 2);
  const work = mkdtempSync(join(o.work, 'concurrent-'));
  const findings = noFindings();
  const hangMs = o.hangMs ?? DEFAULT_HANG_MS;

  // a. The same roster twice at once on one registry: the batch lock refuses one cleanly, or both finish.
  const roster = await writeChaosRoster(join(work, 'same.xlsx'), o.rows, 0);
  const outA = join(work, 'out-same');
  const regA: RegistryTarget = { kind: 'sqlite', file: join(work, 'same.sqlite') };
  const pair = await Promise.all(['a', 'b'].map((k) => startRun({ label: `same roster, run ${k}`, args: runArgs(roster, outA, o.photos, regA.file), env: chaosEnv(), out: outA, watch: [regA.file], hangMs }).done));
  for (const r of pair) {
    ledger.add(r);
    const m = failureMessage(r);
    if (r.code !== 0 && !(r.code === 1 && m && LOCK_REFUSAL.test(m.message))) ledger.failures.push(`${r.label}: neither finished nor refused by the batch lock: exit ${r.code ?? r.signal}: ${m?.message ?? r.stderr.slice(-300)}`);
  }
  if (pair.every((r) => r.code !== 0)) ledger.failures.push('same roster: both runs were refused; one of them must have the batch');
  ledger.notes.push(`same roster: ${pair.map((r) => (r.code === 0 ? 'finished' : 'refused by the batch lock')).join(', ')}`);
  ledger.noneNaming(outA);
  addFindings(findings, await checkInvariants({ out: outA, registry: regA, rosters: [roster], stockFrom: stockFrom(), sample: Math.ceil((o.sample ?? 50) / 2), random, env: chaosEnv(), runs: ledger.checks }));

  // b. Two rosters of the same organisation at once on one registry: the same serial counters (prefixes) and the
  // same blank stock, taken in turns.
  const first = await writeChaosRoster(join(work, 'first.xlsx'), o.rows, 0);
  const second = await writeChaosRoster(join(work, 'second.xlsx'), o.rows, 50_000);
  const outB = join(work, 'out-two');
  const regB: RegistryTarget = { kind: 'sqlite', file: join(work, 'two.sqlite') };
  const both = await Promise.all([first, second].map((r, i) => startRun({ label: `two rosters, run ${i + 1}`, args: runArgs(r, outB, o.photos, regB.file), env: chaosEnv(), out: outB, watch: [regB.file], hangMs }).done));
  for (const r of both) ledger.mustSucceed(ledger.add(r));
  ledger.noneNaming(outB);
  addFindings(findings, await checkInvariants({ out: outB, registry: regB, rosters: [first, second], stockFrom: stockFrom(), sample: Math.ceil((o.sample ?? 50) / 2), random, env: chaosEnv(), runs: ledger.checks }));
  return ledger.result('concurrent (SQLite)', findings, t0);
}

// ---------------------------------------------------------------------------------------------------------------
// 3. postgres: three machines on one batch, one killed

export async function postgres(o: ChaosOptions): Promise<ScenarioResult> {
  const t0 = Date.now();
  const log = o.log ?? (() => undefined);
  const ledger = new Ledger(log);
  const random = prng(o.seed + 3);
  const work = mkdtempSync(join(o.work, 'postgres-'));
  let server: Awaited<ReturnType<typeof startPostgres>>;
  try {
    server = await startPostgres();
  } catch (err) {
    return ledger.result('postgres', noFindings(), t0, `PostgreSQL did not start: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    const url = await server.createDatabase();
    const registry: RegistryTarget = { kind: 'postgres', url, password: server.password };
    const env = chaosEnv({ PGPASSWORD: server.password });
    const roster = await writeChaosRoster(join(work, 'roster.xlsx'), o.rows, 0);
    const out = join(work, 'out');
    // Chunks of a tenth of the batch, so the three machines take turns and a killed one holds a small share.
    const chunkRows = Math.max(20, Math.ceil(o.rows / 10));
    // A lease of a minute (the default would be half a second a row): the survivors take the killed machine's chunks
    // over when it ends, well within the hang detector's silence (DEFAULT_HANG_MS), and a healthy chunk needs only
    // ~5 certificates/s to finish inside it with three machines on the cores.
    const args = [...runArgs(roster, out, o.photos, url), '--chunk-rows', String(chunkRows), '--lease', '60'];
    const victim = Math.floor(random() * 3);
    const at = Math.max(1, Math.round(o.rows * uniform(random, 0.15, 0.6)));
    const hangMs = o.hangMs ?? DEFAULT_HANG_MS;
    const machines = [0, 1, 2].map((i) => startRun({
      label: `machine ${i + 1}${i === victim ? ` (killed at ${at} certificates)` : ''}`, args, env, out, hangMs,
      ...(i === victim && { kill: { describe: `at ${at} certificates`, when: (s: RunState) => s.certificates >= at } }),
    }).done);
    const ended = await Promise.all(machines);
    const aroundKill = new Set<string>();
    const findings = noFindings();
    for (const r of ended) {
      ledger.add(r);
      if (r.killedAt === undefined) ledger.mustSucceed(r);
    }
    const killed = ended.find((r) => r.killedAt !== undefined);
    if (killed) await afterKill(killed, out, registry, aroundKill, findings);
    else ledger.notes.push(`machine ${victim + 1} finished before ${at} certificates were written: not killed`);
    const rerun = ledger.add(await run({ label: 'rerun', args, env, out, hangMs }));
    ledger.mustSucceed(rerun);
    ledger.noneNaming(out);
    addFindings(findings, await checkInvariants({ out, registry, rosters: [roster], stockFrom: stockFrom(), aroundKill, sample: o.sample ?? 50, random, env, runs: ledger.checks }));
    return ledger.result('postgres (3 machines)', findings, t0);
  } finally {
    await server.stop().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 4. disk full

/** What must be undone if the harness is interrupted (mounts): run by scripts/chaos.ts on SIGINT/SIGTERM. */
export const cleanups = new Set<() => void>();

/** A small file system at `dir`: a tmpfs, or a loop-mounted ext4 image when tmpfs is refused. Throws when neither mounts. */
function mountSmall(dir: string, bytes: number, image: string): { readonly how: string; resize(bytes: number): void; readOnly(): void; unmount(): void } {
  mkdirSync(dir, { recursive: true });
  const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' });
  const kb = (n: number) => `${Math.ceil(n / 1024)}k`;
  const unmount = () => {
    cleanups.delete(unmount);
    if (sh('umount', [dir]).status !== 0) sh('umount', ['-l', dir]);
  };
  const tmpfs = sh('mount', ['-t', 'tmpfs', '-o', `size=${kb(bytes)},mode=0755`, 'chaos-tmpfs', dir]);
  if (tmpfs.status === 0) {
    cleanups.add(unmount);
    return {
      how: 'tmpfs',
      resize: (n) => void execFileSync('mount', ['-o', `remount,size=${kb(n)}`, dir]),
      readOnly: () => void execFileSync('mount', ['-o', 'remount,ro', dir]),
      unmount,
    };
  }
  // A loop device: an image file grown with resize2fs.
  execFileSync('truncate', ['-s', kb(bytes).replace('k', 'K'), image]);
  execFileSync('mkfs.ext4', ['-q', '-F', '-m', '0', image]);
  const loop = sh('mount', ['-o', 'loop', image, dir]);
  if (loop.status !== 0) throw new Error(`mount refused: tmpfs (${tmpfs.stderr.trim()}), loop image (${loop.stderr.trim()})`);
  cleanups.add(unmount);
  return {
    how: 'loop-mounted ext4 image',
    resize: (n) => {
      execFileSync('truncate', ['-s', kb(n).replace('k', 'K'), image]);
      const dev = execFileSync('findmnt', ['-n', '-o', 'SOURCE', dir], { encoding: 'utf8' }).trim();
      execFileSync('losetup', ['-c', dev]);
      execFileSync('resize2fs', [dev], { stdio: 'ignore' });
    },
    readOnly: () => void execFileSync('mount', ['-o', 'remount,ro', dir]),
    unmount,
  };
}

/** About what a certificate takes on disk, with its share of the bundle's archive and tables. */
const BYTES_PER_CERTIFICATE = 100_000;

export async function diskFull(o: ChaosOptions): Promise<ScenarioResult> {
  const t0 = Date.now();
  const log = o.log ?? (() => undefined);
  const ledger = new Ledger(log);
  const random = prng(o.seed + 4);
  const work = mkdtempSync(join(o.work, 'disk-full-'));
  const roster = await writeChaosRoster(join(work, 'roster.xlsx'), o.rows, 0);
  const disk = join(work, 'disk');
  // Room for the spool, the registry, the print cache and a share of the certificates: it fills mid-batch.
  // (beyond 1, the certificates fit and the bundle's archive, about as large again, fills it)
  const share = uniform(random, 0.3, 1.7);
  const small = 6_000_000 + Math.round(o.rows * share * BYTES_PER_CERTIFICATE);
  let fs: ReturnType<typeof mountSmall>;
  try {
    fs = mountSmall(disk, small, join(work, 'disk.img'));
  } catch (err) {
    return ledger.result('disk full', noFindings(), t0, (err as Error).message);
  }
  try {
    ledger.notes.push(`output on a ${fs.how} of ${(small / 1e6).toFixed(1)} MB (room for ~${Math.round(share * 100)} % of the certificates' size)`);
    const out = join(disk, 'out');
    // The registry in its default place, <out>/registry.sqlite, on the full disk too.
    const args = runArgs(roster, out, o.photos);
    const hangMs = o.hangMs ?? DEFAULT_HANG_MS;
    const full = ledger.add(await run({ label: 'run on a full disk', args, env: chaosEnv(), out, hangMs }));
    const m = failureMessage(full);
    if (full.code === 0) ledger.failures.push(`the run on a full disk exited 0: a full disk must fail the run (${countCertificates(out)} of ${o.rows} certificates written)`);
    else if (!m || !['E_IO', 'E_REGISTRY'].includes(m.code)) ledger.failures.push(`the run on a full disk did not fail with E_IO or E_REGISTRY: exit ${full.code ?? full.signal}: ${m ? `${m.code}: ${m.message}` : full.stderr.slice(-300)}`);
    else ledger.notes.push(`full disk: exit ${full.code}, ${m.code}: ${m.message.slice(0, 200)}`);
    const written = countCertificates(out);
    // Space freed: the file system made large enough for the whole batch and its bundle.
    fs.resize(64_000_000 + o.rows * BYTES_PER_CERTIFICATE * 3);
    const rerun = ledger.add(await run({ label: 'rerun with space', args, env: chaosEnv(), out, hangMs }));
    ledger.mustSucceed(rerun);
    ledger.notes.push(`${written} certificates were on disk when it filled`);
    ledger.noneNaming(out);
    const findings = await checkInvariants({ out, registry: { kind: 'sqlite', file: join(out, 'registry.sqlite') }, rosters: [roster], stockFrom: stockFrom(), sample: o.sample ?? 50, random, env: chaosEnv(), runs: ledger.checks });
    return ledger.result('disk full', findings, t0);
  } finally {
    fs.unmount();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 5. corrupted and read-only registry

/** The table or index a page of a SQLite file belongs to (sqlite3's dbstat), for the report. */
function pageOwner(file: string, page: number): string {
  const r = spawnSync('sqlite3', ['-readonly', file, `SELECT name FROM dbstat WHERE pageno = ${page}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : 'unknown';
}

/** The pages of a table or index of a SQLite file (sqlite3's dbstat), in file order. */
function pagesOf(file: string, name: string): number[] {
  const r = spawnSync('sqlite3', ['-readonly', file, `SELECT pageno FROM dbstat WHERE name = '${name}' ORDER BY pageno`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim().split('\n').filter(Boolean).map(Number) : [];
}

/** Where to damage a registry file: the page in the middle of the file, or the middle page of one table. */
export type Damage = { readonly at: 'middle of the file' } | { readonly at: 'table'; readonly table: string };

/**
 * Flips (XOR 0xFF) `count` bytes at the start of one page of a SQLite file — past the 100-byte file header and the
 * schema page — in the B-tree page header and cell pointers of whatever table or index lives there.
 */
export function flipPage(file: string, damage: Damage, count = 64): { page: number; offset: number; owner: string } {
  const header = Buffer.alloc(100);
  const fd0 = openSync(file, 'r');
  readSync(fd0, header, 0, 100, 0);
  closeSync(fd0);
  const raw = header.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  const pages = Math.floor(statSync(file).size / pageSize);
  if (pages < 4) throw new Error(`${file} has ${pages} pages: too small to damage in the middle`);
  let page: number;
  if (damage.at === 'table') {
    const of = pagesOf(file, damage.table);
    if (!of.length) throw new Error(`${file}: no pages of ${damage.table} (is sqlite3 with dbstat installed?)`);
    page = of[Math.floor(of.length / 2)]!;
  } else {
    page = Math.floor(pages / 2) + 1; // 1-based, as SQLite counts
  }
  if (page < 2) throw new Error(`${file}: refusing to damage page ${page} (the header and the schema)`);
  const owner = pageOwner(file, page);
  const offset = (page - 1) * pageSize;
  const fd = openSync(file, 'r+');
  try {
    const b = Buffer.alloc(count);
    readSync(fd, b, 0, count, offset);
    for (let i = 0; i < count; i++) b[i] = b[i]! ^ 0xff;
    writeSync(fd, b, 0, count, offset);
  } finally {
    closeSync(fd);
  }
  return { page, offset, owner };
}

/** sqlite3's own verdict on a file (the first line of PRAGMA quick_check). */
function quickCheck(file: string): string {
  const r = spawnSync('sqlite3', ['-readonly', file, 'PRAGMA quick_check'], { encoding: 'utf8' });
  return (r.stdout.trim() || r.stderr.trim()).split('\n').filter((l) => !l.startsWith('***')).slice(0, 2).join(' / ').slice(0, 160);
}

/** The names and modification times of a batch's certificates: a refused run must leave them as they were. */
function certificatesState(out: string): string {
  const rows: string[] = [];
  for (const b of existsSync(out) ? readdirSync(out, { withFileTypes: true }) : []) {
    if (!b.isDirectory() || b.name.startsWith('.')) continue;
    const d = join(out, b.name, 'certificates');
    for (const f of existsSync(d) ? readdirSync(d).sort() : []) rows.push(`${b.name}/${f}:${statSync(join(d, f)).mtimeMs}`);
  }
  return rows.join('\n');
}

/** A refusal as the brief of scenario 5 wants it: exit non-zero, E_REGISTRY or E_IO with a sentence, nothing written. */
function expectRefusal(ledger: Ledger, r: RunRecord, before: string, out: string, what: string): void {
  const m = failureMessage(r);
  if (r.code === 0) ledger.failures.push(`${what}: the run exited 0 — it went on with the registry instead of refusing it (${r.stdout.split('\n')[0]})`);
  else if (!m || !['E_REGISTRY', 'E_IO'].includes(m.code)) ledger.failures.push(`${what}: exit ${r.code ?? r.signal} without an E_REGISTRY or E_IO message: ${m ? `${m.code}: ${m.message}` : r.stderr.slice(-300)}`);
  else ledger.notes.push(`${what}: refused, exit ${r.code}, ${m.code}: ${m.message.slice(0, 220)}`);
  if (certificatesState(out) !== before) ledger.failures.push(`${what}: certificate files were written or changed although the registry was refused`);
}

/**
 * A registry with one batch in it (scenario 5's starting point): big enough that its middle is data, not the header
 * or the schema. Made once per session and size, and only ever copied, so 5a and 5b share it.
 */
const bases = new Map<string, Promise<{ roster: Roster; rows: number; base: string; baseReg: string; run: RunRecord }>>();

async function issuedBase(o: ChaosOptions, name: string, ledger: Ledger): Promise<{ work: string; roster: Roster; rows: number; base: string; baseReg: string }> {
  const rows = Math.min(o.rows, 200);
  const key = `${o.work}|${rows}`;
  let made = bases.get(key);
  const first = !made;
  if (!made) {
    made = (async () => {
      const dir = mkdtempSync(join(o.work, 'registry-base-'));
      const roster = await writeChaosRoster(join(dir, 'issued.xlsx'), rows, 20_000);
      const base = join(dir, 'out');
      const baseReg = join(dir, 'registry.sqlite');
      const r = await run({ label: 'the batch before the damage', args: runArgs(roster, base, o.photos, baseReg), env: chaosEnv(), out: base, hangMs: o.hangMs ?? DEFAULT_HANG_MS });
      return { roster, rows, base, baseReg, run: r };
    })();
    bases.set(key, made);
  }
  const b = await made;
  if (first) ledger.mustSucceed(ledger.add(b.run));
  else ledger.notes.push('the batch before the damage is the one the other registry scenario made');
  if (b.run.code !== 0) throw new Error(`the batch before the damage did not finish (exit ${b.run.code}): ${b.run.stderr.slice(-300)}`);
  return { work: mkdtempSync(join(o.work, `${name}-`)), roster: b.roster, rows, base: b.base, baseReg: b.baseReg };
}

/**
 * 5a. Bytes flipped in the middle of the file, and in the middle of the certificates table: the rerun of the same
 * roster (which looks every person up again) must stop with a clear message, not go on with what it can read. Then
 * the registry is restored from its copy (what an operator does) and the rerun completes.
 */
export async function corruptedRegistry(o: ChaosOptions): Promise<ScenarioResult> {
  const t0 = Date.now();
  const ledger = new Ledger(o.log ?? (() => undefined));
  const random = prng(o.seed + 5);
  const hangMs = o.hangMs ?? DEFAULT_HANG_MS;
  const findings = noFindings();
  const { work, roster, base, baseReg } = await issuedBase(o, 'corrupted', ledger);
  const damages = (o.damages ?? ['middle', 'certificates']).map((d): Damage => (d === 'middle' ? { at: 'middle of the file' } : { at: 'table', table: d }));
  for (const damage of damages) {
    const key = damage.at === 'table' ? damage.table : 'middle';
    const out = join(work, `out-${key}`);
    cpSync(base, out, { recursive: true });
    const file = join(work, `registry-${key}.sqlite`);
    copyFileSync(baseReg, file);
    const flipped = flipPage(file, damage);
    const what = `corrupted registry (${damage.at === 'table' ? `${damage.table} table` : damage.at}: page ${flipped.page}, ${flipped.owner})`;
    ledger.notes.push(`${what}: 64 bytes flipped at byte ${flipped.offset}; sqlite3 PRAGMA quick_check says: ${quickCheck(file)}`);
    const before = certificatesState(out);
    const r = ledger.add(await run({ label: `rerun on a ${what}`, args: runArgs(roster, out, o.photos, file), env: chaosEnv(), out, hangMs }));
    expectRefusal(ledger, r, before, out, what);
    ledger.noneNaming(out);
    if (o.recover === false) continue;
    copyFileSync(baseReg, file);
    for (const side of ['-wal', '-shm']) rmSync(`${file}${side}`, { force: true });
    ledger.mustSucceed(ledger.add(await run({ label: `rerun, registry restored from its copy (${key})`, args: runArgs(roster, out, o.photos, file), env: chaosEnv(), out, hangMs })));
    ledger.noneNaming(out);
    addFindings(findings, await checkInvariants({ out, registry: { kind: 'sqlite', file }, rosters: [roster], stockFrom: stockFrom(), sample: Math.ceil((o.sample ?? 50) / 2), random, env: chaosEnv(), runs: ledger.checks }));
  }
  return ledger.result('corrupted registry', findings, t0);
}

/**
 * 5b. A read-only registry: chmod 0444, and since root ignores file modes, on a file system remounted read-only (or
 * immutable with chattr +i when no mount is allowed). A new roster must be refused before anything is numbered; with
 * the registry writable again it is issued.
 */
export async function readOnlyRegistry(o: ChaosOptions): Promise<ScenarioResult> {
  const t0 = Date.now();
  const ledger = new Ledger(o.log ?? (() => undefined));
  const random = prng(o.seed + 6);
  const hangMs = o.hangMs ?? DEFAULT_HANG_MS;
  const { work, roster, rows, base, baseReg } = await issuedBase(o, 'read-only', ledger);
  let skipped: string | undefined;
  const out = join(work, 'out');
  cpSync(base, out, { recursive: true });
  const fresh = await writeChaosRoster(join(work, 'fresh.xlsx'), rows, 30_000);
  const dir = join(work, 'ro');
  let fs: ReturnType<typeof mountSmall> | undefined;
  let immutable: string | undefined;
  try {
    fs = mountSmall(dir, 64_000_000, join(work, 'ro.img'));
  } catch {
    mkdirSync(dir, { recursive: true });
  }
  const file = join(dir, 'registry.sqlite');
  try {
    copyFileSync(baseReg, file);
    chmodSync(file, 0o444);
    let how = 'chmod 0444';
    if (process.getuid?.() === 0) {
      if (fs) {
        fs.readOnly();
        how += ` on a ${fs.how} remounted read-only`;
      } else if (spawnSync('chattr', ['+i', file, dir]).status === 0) {
        immutable = file;
        how += ', chattr +i on the file and its folder';
      } else {
        skipped = 'as root neither a read-only mount nor chattr +i was possible, and chmod does not stop root';
      }
    }
    if (!skipped) {
      ledger.notes.push(`read-only: ${how}`);
      const before = certificatesState(out);
      const r = ledger.add(await run({ label: 'run on a read-only registry', args: runArgs(fresh, out, o.photos, file), env: chaosEnv(), out, hangMs }));
      expectRefusal(ledger, r, before, out, 'read-only registry');
      ledger.noneNaming(out);
    }
  } finally {
    if (immutable) spawnSync('chattr', ['-i', immutable, dir]);
    fs?.unmount();
  }
  // Writable again (a copy): the fresh roster is issued, and both batches hold.
  const writable = join(work, 'writable.sqlite');
  copyFileSync(baseReg, writable);
  ledger.mustSucceed(ledger.add(await run({ label: 'the new roster, registry writable again', args: runArgs(fresh, out, o.photos, writable), env: chaosEnv(), out, hangMs })));
  ledger.noneNaming(out);
  const findings = await checkInvariants({ out, registry: { kind: 'sqlite', file: writable }, rosters: [roster, fresh], stockFrom: stockFrom(), sample: o.sample ?? 50, random, env: chaosEnv(), runs: ledger.checks });
  return ledger.result('read-only registry', findings, t0, skipped);
}

export const SCENARIOS = {
  'kill-rerun': killRerun,
  concurrent,
  postgres,
  'disk-full': diskFull,
  'corrupted-registry': corruptedRegistry,
  'read-only-registry': readOnlyRegistry,
} as const;

export type ScenarioName = keyof typeof SCENARIOS;
