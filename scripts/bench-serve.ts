/**
 * `node dist/scripts/bench-serve.js [--mutants 500] [--duration 10] [--connections 50] [--rate 40] [--pdf F --registry R] [--keep]`
 * (issue 14 part 6):
 * robustness and load of `skillcert serve`, measured here and not in timed tests.
 *
 *   1. a real batch (the demo's haidian-qihang roster) into a temporary folder, one certificate revoked;
 *   2. the built `skillcert serve` started as a child process on that registry, or on --registry R (the one that
 *      issued the --pdf certificate, e.g. output/demo/registry.sqlite), so its RSS is its own;
 *   3. fuzz: N mutated PDFs uploaded — flipped bytes, truncations, appended updates, random files — 4 at a time:
 *      every answer must be a 2xx verdict or a 4xx with a reason, no 5xx, no dropped connection; the service is
 *      still up after, and its RSS is sampled every 50 uploads (memory flat);
 *   4. autocannon on PDF verification of a genuine certificate (the batch's first, or --pdf F: e.g. a B-LTA demo
 *      certificate), its verdict checked first: C connections for D seconds as fast as the service answers (its
 *      capacity; latency there is queueing, C ÷ rate by Little's law), then R requests a second evenly spaced over
 *      up to C connections (an open loop, as wrk2 offers: each latency counted from when its request was due, so a
 *      stalled service cannot hide its backlog; not autocannon's overallRate, which fires every connection's request
 *      at the same instant of each second, a burst of R); and on a status list. Requests/s,
 *      p50 / p99 latency, non-2xx, the service's CPU per verification (all its threads); its peak RSS (VmHWM).
 * Prints one line per figure; the last line is `verify/s=<n> status/s=<n> 5xx=<n>`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { runBatch } from '../pipeline/batch/run.js';
import { makeContext } from '../pipeline/core/context.js';
import { makeLogger } from '../pipeline/core/log.js';
import { ROOT } from '../pipeline/core/paths.js';
import { prng } from '../test/helpers/ingest-zip.js';
import { revoke } from '../pipeline/after/commands.js';

const { values } = parseArgs({
  options: {
    mutants: { type: 'string', default: '500' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    rate: { type: 'string', default: '40' },
    pdf: { type: 'string' },
    registry: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const MUTANTS = Number(values.mutants);
const DURATION = Number(values.duration);
const CONNECTIONS = Number(values.connections);
const RATE = Number(values.rate);
const CLI = join(ROOT, 'dist', 'pipeline', 'cli', 'cli.js');
const PROFILE = join(ROOT, 'fixtures', 'profiles', 'haidian-qihang.json');

function mutants(samples: readonly Buffer[], n: number): { kind: string; body: Buffer }[] {
  const rnd = prng(14);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const bytes = (len: number) => Buffer.from(Array.from({ length: len }, () => Math.floor(rnd() * 256)));
  const kinds: [string, () => Buffer][] = [
    ['flipped bytes', () => {
      const b = Buffer.from(pick(samples));
      for (let k = 1 + Math.floor(rnd() * 8); k > 0; k--) b[Math.floor(rnd() * b.length)] ^= 1 << Math.floor(rnd() * 8);
      return b;
    }],
    ['truncated', () => {
      const b = pick(samples);
      return b.subarray(0, Math.floor(rnd() * b.length));
    }],
    ['appended update', () => {
      const b = pick(samples);
      const extra = rnd() < 0.5 ? bytes(Math.floor(rnd() * 4000)) : Buffer.from(`\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R /Extra (${'x'.repeat(Math.floor(rnd() * 500))}) >>\nendobj\nxref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 2 /Root 1 0 R /Prev 0 >>\nstartxref\n${b.length}\n%%EOF\n`);
      return Buffer.concat([b, extra]);
    }],
    ['random file', () => (rnd() < 0.5 ? bytes(Math.floor(rnd() * 200_000)) : Buffer.concat([Buffer.from('%PDF-1.7\n'), bytes(Math.floor(rnd() * 100_000))]))],
  ];
  return Array.from({ length: n }, (_, i) => {
    const [kind, make] = kinds[i % kinds.length]!;
    return { kind, body: make() };
  });
}

/** CPU the service used so far, all its threads (user + system, /proc/<pid>/stat, 100 ticks a second), in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

function rssMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

async function startService(registry: string): Promise<{ child: ChildProcess; url: string }> {
  // Limits high enough that the bench measures the service, not its rate limiter (one client here).
  const child = spawn(process.execPath, [CLI, 'serve', '--registry', registry, '--port', '0', '--verify-rate', '1000000', '--query-rate', '1000000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /skillcert serve: (http:\/\/[\d.]+:\d+\/)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
  });
  child.stdout!.resume();
  return { child, url };
}

interface OpenLoop {
  readonly sent: number;
  readonly ok: number;
  readonly other: number;
  readonly errors: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** `rate` POSTs a second of `body` for `seconds`, evenly spaced, over at most `connections` kept-alive sockets. */
async function openLoop(url: string, body: Buffer, rate: number, seconds: number, connections: number): Promise<OpenLoop> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const target = new URL(url);
  const latencies: number[] = [];
  let ok = 0, other = 0, errors = 0;
  const one = (due: number) =>
    new Promise<void>((resolve) => {
      const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { 'content-type': 'application/pdf', 'content-length': body.length } }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - due);
          if (res.statusCode! < 300) ok++;
          else other++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  const n = Math.round(rate * seconds);
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(one(due));
  }
  await Promise.all(pending);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN);
  return { sent: n, ok, other, errors, p50: at(0.5), p99: at(0.99), max: Math.round(latencies[latencies.length - 1] ?? NaN) };
}

function cannon(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

const work = mkdtempSync(join(tmpdir(), 'skillcert-bench-serve-'));
let service: ChildProcess | undefined;
try {
  const ctx = makeContext({ now: new Date('2026-11-20T10:00:00+08:00'), log: makeLogger('warn'), operator: 'bench' });
  const out = join(work, 'out');
  const registry = join(work, 'registry.sqlite');
  const r = await runBatch(ctx, { roster: join(ROOT, 'fixtures/rosters/haidian-qihang-2026-11.xlsx'), profile: PROFILE, out, registry, workers: 0 });
  const pdfs = readdirSync(join(r.dir, 'certificates')).filter((f) => f.endsWith('.pdf')).map((f) => join(r.dir, 'certificates', f));
  await revoke(ctx, { number: pdfs[pdfs.length - 1]!.slice(-26, -4), reason: 'bench', out, registry, profile: PROFILE });
  const samples = pdfs.map((f) => readFileSync(f));
  process.stdout.write(`batch: ${pdfs.length} certificates, ${Math.round(samples.reduce((a, b) => a + b.length, 0) / samples.length / 1024)} KB each\n`);

  const s = await startService(values.registry ?? registry);
  service = s.child;
  const pid = s.child.pid!;
  process.stdout.write(`service: ${s.url} (pid ${pid}), RSS ${rssMb(pid, 'VmRSS')} MB at start\n`);

  // ---- fuzz ----
  const cases = mutants(samples, MUTANTS);
  const tally = new Map<string, number>();
  const count = (k: string) => tally.set(k, (tally.get(k) ?? 0) + 1);
  const rss: number[] = [];
  let next = 0;
  let done = 0;
  let fiveXX = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let i = next++; i < cases.length; i = next++) {
        const c = cases[i]!;
        try {
          const res = await fetch(`${s.url}api/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: c.body });
          const body = (await res.json()) as { verdict?: string; reason?: string };
          if (res.status >= 500) fiveXX++;
          count(res.status < 300 ? `2xx ${body.verdict}` : res.status < 500 ? `${res.status} ${body.reason ? 'with reason' : 'WITHOUT reason'}` : `${res.status}`);
        } catch (err) {
          count(`connection error: ${(err as Error).message}`);
        }
        if (++done % 50 === 0) rss.push(rssMb(pid, 'VmRSS'));
      }
    }),
  );
  const fuzzS = (performance.now() - t0) / 1000;
  process.stdout.write(`fuzz: ${cases.length} mutated uploads in ${fuzzS.toFixed(1)} s: ${[...tally].sort().map(([k, v]) => `${v} ${k}`).join(', ')}\n`);
  process.stdout.write(`fuzz: RSS every 50 uploads (MB): ${rss.join(' ')}\n`);
  const up = await fetch(`${s.url}site.json`).then((x) => x.ok).catch(() => false);
  process.stdout.write(`fuzz: service ${up ? 'still up' : 'DOWN'} after the fuzz\n`);

  // ---- load ----
  const genuine = values.pdf ? readFileSync(values.pdf) : samples[0]!;
  const first = (await fetch(`${s.url}api/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: genuine }).then((x) => x.json())) as { verdict?: string };
  process.stdout.write(`load: the certificate verified (${values.pdf ?? 'the batch\'s first'}, ${Math.round(genuine.length / 1024)} KB): ${first.verdict}\n`);
  const line = (what: string, x: autocannon.Result) =>
    `${what}: ${x.requests.average.toFixed(1)} req/s, p50 ${x.latency.p50} ms, p99 ${x.latency.p99} ms, ${x['2xx']} 2xx, ${x.non2xx} non-2xx, ${x.errors} errors, ${x.timeouts} timeouts (${CONNECTIONS} connections, ${DURATION} s)\n`;
  // The service's CPU per verification: on a shared machine the rates vary with the neighbours, this much less.
  const serviceCpu = (cpu0: number, answered: number) => `load: service CPU ${((cpuMs(pid) - cpu0) / Math.max(1, answered)).toFixed(1)} ms a verification (all threads, HTTP included)\n`;
  let cpu0 = cpuMs(pid);
  const verify = await cannon({ url: `${s.url}api/verify`, method: 'POST', headers: { 'content-type': 'application/pdf' }, body: genuine, connections: CONNECTIONS, duration: DURATION, timeout: 60 });
  process.stdout.write(line('load: PDF verification, as fast as answered', verify) + serviceCpu(cpu0, verify['2xx']));
  // autocannon leaves its last requests in the service's queue: one more verification waits them out, so the next
  // run starts on an idle service.
  await fetch(`${s.url}api/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: genuine });
  cpu0 = cpuMs(pid);
  const offered = await openLoop(`${s.url}api/verify`, genuine, RATE, DURATION, CONNECTIONS);
  process.stdout.write(
    `load: PDF verification, ${RATE} a second offered (evenly spaced, up to ${CONNECTIONS} connections, ${DURATION} s): ${offered.sent} sent, p50 ${offered.p50} ms, p99 ${offered.p99} ms, max ${offered.max} ms, ${offered.ok} 2xx, ${offered.other} non-2xx, ${offered.errors} errors\n` +
      serviceCpu(cpu0, offered.ok),
  );
  const status = await cannon({ url: `${s.url}status/0000-revocation.jwt`, connections: CONNECTIONS, duration: DURATION });
  process.stdout.write(line('load: status list', status));
  process.stdout.write(`service: peak RSS ${rssMb(pid, 'VmHWM')} MB, RSS now ${rssMb(pid, 'VmRSS')} MB\n`);
  process.stdout.write(`verify/s=${verify.requests.average.toFixed(1)} p99@${RATE}/s=${offered.p99}ms status/s=${status.requests.average.toFixed(0)} 5xx=${fiveXX}\n`);
  process.exitCode = fiveXX === 0 && up ? 0 : 1;
} finally {
  service?.kill('SIGTERM');
  if (!values.keep) rmSync(work, { recursive: true, force: true });
  else process.stdout.write(`kept ${work}\n`);
}
