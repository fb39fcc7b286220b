/**
 * Runs of the real built command for the chaos harness: `bin/skillcert run …` as a child in a process group of its
 * own (detached), so that a kill reaches every process of the run at once with `process.kill(-pid, 'SIGKILL')`.
 *
 * Every wait is bounded: a run whose output and files have not changed for `hangMs` is killed and counted as a hang.
 * While a run is alive its descendants are noted from /proc (pid and start time, so a reused pid is not mistaken for
 * one of them); once it has ended, any of them still alive is a surviving process. Chromium is started by
 * Puppeteer in a process group of its own, which the kill of the run's group does not reach: it must go by itself
 * (the run talks to it over a pipe, so it should see the pipe close).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT } from '../../pipeline/core/paths.js';

export const SKILLCERT = join(ROOT, 'bin', 'skillcert');

/** What a kill plan sees of a run, about every 100 ms. */
export interface RunState {
  /** Since the run was started. */
  readonly elapsedMs: number;
  /** Certificate files (final names) in every batch folder of the output root. */
  readonly certificates: number;
  /** When the run was started (epoch ms). */
  readonly startedAt: number;
  /** Processes below the run (Chromium's while it prints the template), sampled about every 300 ms. */
  readonly children: number;
}

/** When to SIGKILL a run: `thenMs` after `when` first holds (a run that ends before is not killed). */
export interface KillPlan {
  /** For the report: "after 1.3 s", "at 812 certificates". */
  readonly describe: string;
  readonly when: (s: RunState) => boolean;
  readonly thenMs?: number;
}

export interface RunSpec {
  /** A name for reports: "kill-rerun #3". */
  readonly label: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** The output root: watched for progress, and counted for certificates. */
  readonly out: string;
  /** Other paths whose change counts as progress (the registry file and its WAL). */
  readonly watch?: readonly string[];
  readonly kill?: KillPlan;
  /** No progress for this long: killed, counted as a hang. */
  readonly hangMs?: number;
  /** Called about every 100 ms with the number of certificate files in the output root. */
  readonly onTick?: (certificates: number) => void;
}

export interface Proc {
  readonly pid: number;
  readonly start: string;
  readonly cmd: string;
}

export interface RunRecord {
  readonly label: string;
  readonly args: readonly string[];
  readonly pid: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  /** Killed by its KillPlan (a chaos kill), at this time (epoch ms) with this many certificate files on disk. */
  readonly killedAt?: number;
  readonly certificatesAtKill?: number;
  /** Processes below the run at the moment of its kill (Chromium's, while it prints the template). */
  readonly descendantsAtKill?: number;
  /** Killed because it made no progress for hangMs. */
  readonly hung: boolean;
  /** Descendants seen alive while it ran that were still alive after it ended (and a grace period). */
  readonly survivors: readonly Proc[];
  /** Chromium profile folders (--user-data-dir of a descendant) still on disk after it ended. */
  readonly browserDirsLeft: readonly string[];
}

export const DEFAULT_HANG_MS = 120_000;
/** How long a killed run's Chromium gets to notice its pipe closed before it counts as surviving. */
const SURVIVOR_GRACE_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** pid → [ppid, start time] for every process, from /proc (Linux). */
function processTable(): Map<number, { ppid: number; start: string }> {
  const table = new Map<number, { ppid: number; start: string }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // the command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(name), { ppid: Number(fields[1]), start: fields[19]! });
    } catch {
      // ended meanwhile
    }
  }
  return table;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** The processes below `root` (not `root` itself). */
function descendants(root: number, table = processTable()): Proc[] {
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of table) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const out: Proc[] = [];
  const stack = [...(children.get(root) ?? [])];
  while (stack.length) {
    const pid = stack.pop()!;
    out.push({ pid, start: table.get(pid)!.start, cmd: commandLine(pid) });
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Those of `procs` that are still alive (same pid and same start time). */
export function stillAlive(procs: Iterable<Proc>): Proc[] {
  const table = processTable();
  return [...procs].filter((p) => table.get(p.pid)?.start === p.start);
}

/**
 * Processes whose command line names `path` (a run's output folder): none may be left once every run of a scenario
 * has ended. The harness's own process is not one of them.
 */
export function processesNaming(path: string): Proc[] {
  const table = processTable();
  return [...table].filter(([pid]) => pid !== process.pid && commandLine(pid).includes(path)).map(([pid, { start }]) => ({ pid, start, cmd: commandLine(pid) }));
}

/** Certificate PDFs (by their final names) under every batch folder of an output root. */
export function countCertificates(out: string): number {
  let n = 0;
  let batches: string[] = [];
  try {
    batches = readdirSync(out, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch {
    return 0;
  }
  for (const b of batches) {
    try {
      n += readdirSync(join(out, b, 'certificates')).filter((f) => /^[A-Z0-9]{22}\.pdf$/.test(f)).length;
    } catch {
      // no certificates folder yet
    }
  }
  return n;
}

/** What changes while a run works: names, sizes and times of the files under the output root and the watched paths. */
function fingerprint(paths: readonly string[]): string {
  let count = 0;
  let bytes = 0;
  let latest = 0;
  const visit = (p: string, depth: number) => {
    let s;
    try {
      s = statSync(p);
    } catch {
      return;
    }
    count++;
    bytes += s.size;
    latest = Math.max(latest, s.mtimeMs);
    if (s.isDirectory() && depth < 4) {
      let names: string[] = [];
      try {
        names = readdirSync(p);
      } catch {
        return;
      }
      for (const n of names) visit(join(p, n), depth + 1);
    }
  };
  for (const p of paths) visit(p, 0);
  return `${count}:${bytes}:${latest}`;
}

/** Process groups of runs still alive: killed by scripts/chaos.ts if the harness itself is interrupted. */
export const liveGroups = new Set<number>();

/** Starts `bin/skillcert` with the spec's arguments in a process group of its own and resolves when it has ended. */
export function startRun(spec: RunSpec): { readonly pid: number; readonly done: Promise<RunRecord>; kill(): void } {
  const t0 = Date.now();
  const child = spawn(SKILLCERT, [...spec.args], {
    cwd: ROOT,
    env: spec.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pid = child.pid!;
  liveGroups.add(pid);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const seen = new Map<string, Proc>();
  let killedAt: number | undefined;
  let certificatesAtKill: number | undefined;
  let descendantsAtKill: number | undefined;
  let hung = false;
  let exited = false;
  let killAtTime: number | undefined;

  const killGroup = () => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  };
  const chaosKill = (certificates: number) => {
    if (killedAt !== undefined || exited) return;
    // the descendants as they are at this moment, then the kill at once
    const below = descendants(pid);
    for (const p of below) seen.set(`${p.pid}:${p.start}`, p);
    descendantsAtKill = below.length;
    killedAt = Date.now();
    certificatesAtKill = certificates;
    killGroup();
  };

  const watchPaths = [spec.out, ...(spec.watch ?? [])];
  let lastPrint = fingerprint(watchPaths);
  let lastOutput = 0;
  let lastChange = Date.now();
  let ticks = 0;
  let children = 0;
  const poll = setInterval(() => {
    if (exited) return;
    const certificates = countCertificates(spec.out);
    spec.onTick?.(certificates);
    const plan = spec.kill;
    if (ticks % 3 === 0) {
      const below = descendants(pid);
      children = below.length;
      for (const p of below) seen.set(`${p.pid}:${p.start}`, p);
    }
    if (plan && killAtTime === undefined && plan.when({ elapsedMs: Date.now() - t0, certificates, startedAt: t0, children })) killAtTime = Date.now() + (plan.thenMs ?? 0);
    if (killAtTime !== undefined && Date.now() >= killAtTime) chaosKill(certificates);
    ticks++;
    if (ticks % 10 === 0) {
      const print = fingerprint(watchPaths);
      const output = stdout.length + stderr.length;
      if (print !== lastPrint || output !== lastOutput) {
        lastPrint = print;
        lastOutput = output;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > (spec.hangMs ?? DEFAULT_HANG_MS) && killedAt === undefined) {
        hung = true;
        for (const p of descendants(pid)) seen.set(`${p.pid}:${p.start}`, p);
        killGroup();
      }
    }
  }, 100);

  const done = new Promise<RunRecord>((resolve, reject) => {
    child.on('error', (err) => {
      clearInterval(poll);
      reject(err);
    });
    child.on('exit', () => {
      exited = true;
      liveGroups.delete(pid);
    });
    // 'close' waits for the pipes: a grandchild holding them would keep it open, so 'exit' plus a bound is used too.
    let closed = false;
    const finish = async (code: number | null, signal: NodeJS.Signals | null) => {
      if (closed) return;
      closed = true;
      clearInterval(poll);
      const ms = Date.now() - t0;
      // A run that ended without being killed may still leave processes; a killed run's Chromium gets a grace
      // period to notice its pipe closed.
      let survivors = stillAlive(seen.values());
      for (const until = Date.now() + SURVIVOR_GRACE_MS; survivors.length && Date.now() < until; survivors = stillAlive(survivors)) await sleep(200);
      // The run's own temporary folder for Chromium (render/browser.ts: <tmp>/skillcert-chromium-*/profile).
      const dirs = new Set([...seen.values()].map((p) => /--user-data-dir=(\S+)/.exec(p.cmd)?.[1]).filter((d): d is string => d !== undefined).map((d) => dirname(d)));
      const browserDirsLeft = [...dirs].filter((d) => /skillcert-chromium-/.test(d) && existsSync(d));
      resolve({ label: spec.label, args: spec.args, pid, code, signal, stdout, stderr, ms, hung, survivors, browserDirsLeft, ...(killedAt !== undefined && { killedAt, certificatesAtKill, descendantsAtKill }) });
    };
    child.on('close', (code, signal) => void finish(code, signal));
    child.on('exit', (code, signal) => {
      setTimeout(() => void finish(code, signal), 10_000).unref();
    });
  });
  return { pid, done, kill: killGroup };
}

/** Runs to the end (or to its kill plan, or its hang bound). */
export function run(spec: RunSpec): Promise<RunRecord> {
  return startRun(spec).done;
}

/** SIGKILLs processes a run left behind, by pid (only those the harness saw below one of its own runs). */
export function killSurvivors(procs: readonly Proc[]): void {
  for (const p of stillAlive(procs)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** A Node stack trace in a run's output: a frame line ("    at f (file:1:2)"), or a logged error with its stack. */
export function stackTraceIn(text: string): string | undefined {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => /^\s+at\s+\S/.test(l) || /"stack":"[^"]*\\n\s+at /.test(l) || /^FATAL ERROR:/.test(l));
  if (i < 0) return undefined;
  return lines.slice(Math.max(0, i - 2), i + 3).join('\n').slice(0, 600);
}

/** The one-line failure the CLI promises (`skillcert: E_CODE: message`, or `--json`'s `{ ok: false, code, message }`). */
export function failureMessage(r: Pick<RunRecord, 'stdout' | 'stderr'>): { code: string; message: string } | undefined {
  const line = /^skillcert: (E_[A-Z_]+): (.+)$/m.exec(r.stderr);
  if (line) return { code: line[1]!, message: line[2]! };
  try {
    const j = JSON.parse(r.stdout) as { ok?: boolean; code?: string; message?: string };
    if (j.ok === false && j.code && j.message) return { code: j.code, message: j.message };
  } catch {
    // not JSON
  }
  return undefined;
}

/**
 * What went wrong with a run that was not killed by the harness: a stack trace in its output, an exit by a signal
 * it was not sent, or a non-zero exit without the one-line message (or a message that is not a sentence).
 */
export function crashOf(r: RunRecord): string | undefined {
  const trace = stackTraceIn(r.stderr) ?? stackTraceIn(r.stdout);
  if (trace) return `${r.label}: stack trace in its output:\n${trace}`;
  if (r.killedAt !== undefined || r.hung) return undefined;
  if (r.signal) return `${r.label}: ended by ${r.signal}, which the harness did not send`;
  if (r.code !== 0) {
    const m = failureMessage(r);
    if (!m) return `${r.label}: exit ${r.code} without the "skillcert: E_CODE: message" line (stderr ends: ${JSON.stringify(r.stderr.slice(-300))})`;
    if (m.message.trim().split(/\s+/).length < 4) return `${r.label}: exit ${r.code} with a message that says nothing: ${m.code}: ${m.message}`;
  }
  return undefined;
}
