/**
 * What must hold after every chaos scenario, read from the outputs themselves and never from the code that wrote
 * them: the registry opened read-only (better-sqlite3) or queried directly (pg), the batch folders, the bundle, and
 * independent tools (pdfsig with an NSS database trusting the TEST ONLY root, qpdf --check); the audit chain and the
 * bundle through the built command, as an operator checks them.
 *
 * The schema records no voided or skipped serials (pipeline/registry/schema.ts: a serial is taken and its
 * certificate recorded in one transaction), so any serial missing below a prefix's highest one, or any blank-stock
 * sheet missing below the last one used, is an unrecorded gap.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { mapLimit, tool } from '../../test/helpers/cli.js';
import { testNssDb } from '../../test/sign/_tools.js';
import { ROOT } from '../../pipeline/core/paths.js';
import { run, type RunRecord } from './proc.js';
import { qualificationKey, type Roster } from './workload.js';

export type RegistryTarget =
  | { readonly kind: 'sqlite'; readonly file: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly password: string };

/** The --registry argument of a target. */
export const registryArg = (r: RegistryTarget): string => (r.kind === 'sqlite' ? r.file : r.url);

export interface CertRow {
  readonly number: string;
  readonly prefix: string;
  readonly serial: number;
  readonly stock_serial: string;
  readonly status: string;
  readonly profile_id: string;
  readonly batch_id: string;
  readonly id_no: string;
  readonly occupation: string;
  readonly job: string;
  readonly level: number;
}

export interface RegistrySnapshot {
  readonly certificates: readonly CertRow[];
  /** The current PDF of each certificate: number → digest and path (relative to the output root). */
  readonly digests: ReadonlyMap<string, { readonly sha256: string; readonly file: string }>;
  readonly serialCounters: ReadonlyMap<string, number>;
  readonly stockCounters: ReadonlyMap<string, number>;
}

const CERTS_SQL = 'SELECT number, prefix, serial, stock_serial, status, profile_id, batch_id, id_no, occupation, job, level FROM certificates ORDER BY number';
const DIGESTS_SQL = "SELECT number, sha256, file FROM certificate_digests WHERE state = 'current'";
const SERIALS_SQL = 'SELECT prefix, last_serial FROM serial_counters';
const STOCK_SQL = 'SELECT profile_id, last_stock FROM stock_counters';

/** The registry as it is on disk or in the database (read-only). */
export async function readRegistry(target: RegistryTarget): Promise<RegistrySnapshot> {
  type D = { number: string; sha256: string; file: string };
  type S = { prefix: string; last_serial: number | string };
  type K = { profile_id: string; last_stock: number | string };
  let certs: CertRow[];
  let digests: D[];
  let serials: S[];
  let stock: K[];
  if (target.kind === 'sqlite') {
    const db = new Database(target.file, { readonly: true, fileMustExist: true });
    try {
      certs = db.prepare(CERTS_SQL).all() as CertRow[];
      digests = db.prepare(DIGESTS_SQL).all() as D[];
      serials = db.prepare(SERIALS_SQL).all() as S[];
      stock = db.prepare(STOCK_SQL).all() as K[];
    } finally {
      db.close();
    }
  } else {
    const c = new pg.Client({ connectionString: target.url, password: target.password });
    c.on('error', () => undefined);
    await c.connect();
    try {
      await c.query('BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
      certs = (await c.query<CertRow>(CERTS_SQL)).rows.map((r) => ({ ...r, serial: Number(r.serial), level: Number(r.level) }));
      digests = (await c.query<D>(DIGESTS_SQL)).rows;
      serials = (await c.query<S>(SERIALS_SQL)).rows;
      stock = (await c.query<K>(STOCK_SQL)).rows;
      await c.query('COMMIT');
    } finally {
      await c.end();
    }
  }
  return {
    certificates: certs,
    digests: new Map(digests.map((d) => [d.number, { sha256: d.sha256, file: d.file }])),
    serialCounters: new Map(serials.map((s) => [s.prefix, Number(s.last_serial)])),
    stockCounters: new Map(stock.map((s) => [s.profile_id, Number(s.last_stock)])),
  };
}

/** What one scenario's checks found; every count is 0 when all holds. */
export interface Findings {
  duplicates: number;
  unrecordedGaps: number;
  brokenPdfs: number;
  orphans: number;
  /** PDFs checked with pdfsig and qpdf. */
  checkedPdfs: number;
  /** One line per failed check, with what to look at. */
  readonly details: string[];
}

export const noFindings = (): Findings => ({ duplicates: 0, unrecordedGaps: 0, brokenPdfs: 0, orphans: 0, checkedPdfs: 0, details: [] });

export function addFindings(into: Findings, more: Findings): Findings {
  into.duplicates += more.duplicates;
  into.unrecordedGaps += more.unrecordedGaps;
  into.brokenPdfs += more.brokenPdfs;
  into.orphans += more.orphans;
  into.checkedPdfs += more.checkedPdfs;
  into.details.push(...more.details);
  return into;
}

/** The level code (1–5) of a roster label such as 三级/高级工. */
export function levelCode(label: string): number {
  const i = '一二三四五'.indexOf(label[0] ?? '');
  if (i < 0) throw new Error(`Expected a level label starting with 一…五 but received ${label}`);
  return i + 1;
}

const sha256File = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

const PDF_NAME = /^[A-Z0-9]{22}\.pdf$/;

/** Every path under `dir` (relative, forward slashes), files and folders. */
function walk(dir: string, sub = ''): string[] {
  let entries;
  try {
    entries = readdirSync(join(dir, sub), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const rel = sub ? `${sub}/${e.name}` : e.name;
    return e.isDirectory() ? [rel, ...walk(dir, rel)] : [rel];
  });
}


export interface PdfCheck { readonly file: string; readonly ok: boolean; readonly why?: string }

/**
 * pdfsig (the signature valid, its certificate trusted through the TEST ONLY root, the whole document signed) and
 * qpdf --check on each file, two at a time.
 */
export async function checkPdfs(files: readonly string[]): Promise<PdfCheck[]> {
  const nss = testNssDb();
  return mapLimit(files, 2, async (file) => {
    if (!existsSync(file)) return { file, ok: false, why: 'missing' };
    const q = await tool('qpdf', ['--check', file]);
    if (q.code !== 0) return { file, ok: false, why: `qpdf --check exit ${q.code}: ${q.output.split('\n').slice(0, 2).join(' ')}` };
    if (!nss) return { file, ok: false, why: 'certutil (libnss3-tools) is missing: pdfsig cannot trust the test root' };
    const s = await tool('pdfsig', ['-nssdir', `sql:${nss}`, file]);
    const wanted = [/Signature is Valid/, /Certificate is Trusted/, /Total document signed/];
    const missing = wanted.filter((w) => !w.test(s.output));
    if (missing.length || (s.output.match(/Signature #/g) ?? []).length !== 1) return { file, ok: false, why: `pdfsig: ${s.output.replace(/\s+/g, ' ').slice(-200)}` };
    return { file, ok: true };
  });
}

/** Certificate files of the output root written within `windowMs` before `at` (those a kill may have caught). */
export function writtenBefore(out: string, at: number, windowMs: number): string[] {
  const files: string[] = [];
  for (const b of existsSync(out) ? readdirSync(out, { withFileTypes: true }) : []) {
    if (!b.isDirectory() || b.name.startsWith('.')) continue;
    const certDir = join(out, b.name, 'certificates');
    for (const f of existsSync(certDir) ? readdirSync(certDir) : []) {
      if (!PDF_NAME.test(f)) continue;
      try {
        const m = statSync(join(certDir, f)).mtimeMs;
        if (m >= at - windowMs && m <= at + 50) files.push(join(certDir, f));
      } catch {
        // replaced or gone meanwhile
      }
    }
  }
  return files;
}

export interface CheckInput {
  /** The output root the batches were written into. */
  readonly out: string;
  readonly registry: RegistryTarget;
  /** Every roster run into this output root; each must be issued completely, exactly once. */
  readonly rosters: readonly Roster[];
  /** The first sheet of the profile's blank-stock range. */
  readonly stockFrom: number;
  /** Certificate numbers whose files must be checked with pdfsig and qpdf besides the sample (written around a kill). */
  readonly aroundKill?: ReadonlySet<string>;
  /** How many other certificates to check with pdfsig and qpdf, picked with `random`. */
  readonly sample: number;
  readonly random: () => number;
  /** The environment for the built command (PGPASSWORD for a PostgreSQL registry). */
  readonly env?: NodeJS.ProcessEnv;
  /** Where the audit and verify-bundle runs are recorded (their stack traces count as crashes). */
  readonly runs?: RunRecord[];
}

/**
 * The invariants of a finished scenario: every accepted row issued exactly once, no number twice, no unrecorded gap
 * in serials or blank stock, every PDF recorded with its digest and verifying, no orphan or temporary file, the
 * audit chain intact, every bundle matching its folder and verifying.
 */
export async function checkInvariants(input: CheckInput): Promise<Findings> {
  const f = noFindings();
  const reg = await readRegistry(input.registry);
  // The audit chain, as an operator checks it: started now, read at the end (it only reads the registry).
  const auditRun = run({
    label: 'audit --verify', args: ['audit', '--out', input.out, '--registry', registryArg(input.registry), '--verify', '--json'], out: input.out,
    ...(input.env && { env: input.env }),
  });
  const fail = (what: 'duplicates' | 'unrecordedGaps' | 'brokenPdfs' | 'orphans', n: number, detail: string) => {
    if (n <= 0) return;
    f[what] += n;
    f.details.push(detail);
  };

  // 1. Every accepted row exactly once: one live certificate per person and qualification, issued.
  const byKey = new Map<string, CertRow[]>();
  for (const c of reg.certificates) {
    if (c.status === 'revoked') continue;
    const k = qualificationKey({ idNo: c.id_no, occupation: c.occupation, job: c.job, level: String(c.level) });
    byKey.set(k, [...(byKey.get(k) ?? []), c]);
  }
  const expected = new Set<string>();
  const batchOfRoster = new Map<Roster, Set<string>>();
  for (const r of input.rosters) {
    const batches = new Set<string>();
    for (const p of r.people) {
      const k = qualificationKey({ ...p, level: String(levelCode(p.level)) });
      expected.add(k);
      const held = byKey.get(k) ?? [];
      for (const c of held) batches.add(c.batch_id);
    }
    batchOfRoster.set(r, batches);
    const missing = r.people.filter((p) => (byKey.get(qualificationKey({ ...p, level: String(levelCode(p.level)) })) ?? []).filter((c) => c.status === 'issued').length === 0);
    if (missing.length) f.details.push(`${r.file}: ${missing.length} of ${r.people.length} accepted rows hold no issued certificate (first: row ${r.people.indexOf(missing[0]!) + 1})`);
    if (batches.size !== 1) f.details.push(`${r.file}: its certificates are in ${batches.size} batches (${[...batches].join(', ')}), expected one`);
  }
  const twice = [...byKey].filter(([, cs]) => cs.length > 1);
  fail('duplicates', twice.reduce((n, [, cs]) => n + cs.length - 1, 0), `${twice.length} person+qualification hold more than one live certificate: ${twice.slice(0, 3).map(([, cs]) => cs.map((c) => c.number).join(' & ')).join('; ')}`);
  const foreign = reg.certificates.filter((c) => !expected.has(qualificationKey({ idNo: c.id_no, occupation: c.occupation, job: c.job, level: String(c.level) })));
  fail('duplicates', foreign.length, `${foreign.length} certificates for people in none of the rosters: ${foreign.slice(0, 3).map((c) => c.number).join(', ')}`);
  const numbers = reg.certificates.map((c) => c.number);
  fail('duplicates', numbers.length - new Set(numbers).size, 'a certificate number is recorded twice');
  const stockKeys = reg.certificates.map((c) => `${c.profile_id}|${c.stock_serial}`);
  fail('duplicates', stockKeys.length - new Set(stockKeys).size, 'a blank-stock sheet is used twice');
  const unfinished = reg.certificates.filter((c) => c.status === 'numbered');
  if (unfinished.length) f.details.push(`${unfinished.length} certificates are still only numbered (never signed and recorded): ${unfinished.slice(0, 3).map((c) => c.number).join(', ')}`);

  // 2. No unrecorded gap: serials 1..n per prefix (organisation, year, level), the counter at n; blank stock
  // contiguous from the range's start, the counter at the last sheet.
  const byPrefix = new Map<string, number[]>();
  for (const c of reg.certificates) byPrefix.set(c.prefix, [...(byPrefix.get(c.prefix) ?? []), c.serial]);
  for (const [prefix, serials] of byPrefix) {
    const max = Math.max(...serials);
    const have = new Set(serials);
    const gaps = Array.from({ length: max }, (_, i) => i + 1).filter((s) => !have.has(s));
    fail('unrecordedGaps', gaps.length, `prefix ${prefix}: serials ${gaps.slice(0, 5).join(', ')}${gaps.length > 5 ? ' …' : ''} missing below ${max}, and the schema records no voided serial`);
    const counter = reg.serialCounters.get(prefix);
    fail('unrecordedGaps', counter !== max ? 1 : 0, `prefix ${prefix}: serial counter at ${counter}, highest recorded serial ${max}`);
  }
  const byProfile = new Map<string, number[]>();
  for (const c of reg.certificates) byProfile.set(c.profile_id, [...(byProfile.get(c.profile_id) ?? []), Number(c.stock_serial)]);
  for (const [profileId, sheets] of byProfile) {
    const last = Math.max(...sheets);
    const have = new Set(sheets);
    const gaps = Array.from({ length: last - input.stockFrom + 1 }, (_, i) => input.stockFrom + i).filter((s) => !have.has(s));
    fail('unrecordedGaps', gaps.length, `profile ${profileId}: blank-stock sheets ${gaps.slice(0, 5).join(', ')}${gaps.length > 5 ? ' …' : ''} skipped below ${last}`);
    const counter = reg.stockCounters.get(profileId);
    fail('unrecordedGaps', counter !== last ? 1 : 0, `profile ${profileId}: stock counter at ${counter}, last sheet used ${last}`);
  }

  // 3. The files of each batch: every issued certificate's PDF present with the recorded digest, nothing else.
  const toVerify = new Set<string>();
  const allPdfs: string[] = [];
  const batchIds = new Set(reg.certificates.map((c) => c.batch_id));
  const bundleChecks: Promise<void>[] = [];
  for (const batchId of batchIds) {
    const dir = join(input.out, batchId);
    const certDir = join(dir, 'certificates');
    const ofBatch = reg.certificates.filter((c) => c.batch_id === batchId);
    const issued = new Map(ofBatch.filter((c) => c.status === 'issued').map((c) => [c.number, c]));
    const names = existsSync(certDir) ? readdirSync(certDir) : [];
    const others = names.filter((n) => !PDF_NAME.test(n));
    fail('orphans', others.length, `${batchId}/certificates holds files that are not certificates: ${others.slice(0, 3).join(', ')}`);
    const orphans: string[] = [];
    const mismatched: string[] = [];
    for (const n of names.filter((x) => PDF_NAME.test(x))) {
      const number = n.slice(0, -4);
      const d = reg.digests.get(number);
      const file = join(certDir, n);
      if (!issued.has(number) || !d) {
        orphans.push(n);
        continue;
      }
      allPdfs.push(file);
      if (d.file !== `${batchId}/certificates/${n}` || d.sha256 !== sha256File(file)) mismatched.push(n);
    }
    fail('orphans', orphans.length, `${batchId}: ${orphans.length} PDFs on disk that the registry does not hold as issued with a current digest: ${orphans.slice(0, 3).join(', ')}`);
    fail('brokenPdfs', mismatched.length, `${batchId}: ${mismatched.length} PDFs whose SHA-256 or path differs from the registry's: ${mismatched.slice(0, 3).join(', ')}`);
    const absent = [...issued.keys()].filter((n) => !names.includes(`${n}.pdf`));
    fail('brokenPdfs', absent.length, `${batchId}: ${absent.length} issued certificates have no PDF in the folder: ${absent.slice(0, 3).join(', ')}`);
    const temporaries = walk(dir).filter((p) => p.split('/').some((s) => s.startsWith('.tmp-')));
    fail('orphans', temporaries.length, `${batchId}: temporary files left: ${temporaries.slice(0, 3).join(', ')}`);
    for (const number of input.aroundKill ?? []) if (issued.has(number)) toVerify.add(join(certDir, `${number}.pdf`));

    // The bundle: the manifest lists exactly the folder's files with their digests, and verify-bundle accepts it.
    const manifestFile = join(dir, 'manifest.json');
    const zip = join(dir, `filing-bundle-${batchId}.zip`);
    if (!existsSync(manifestFile) || !existsSync(zip)) {
      f.details.push(`${batchId}: no manifest.json or filing bundle (the batch never finished)`);
    } else {
      const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { files: { path: string; sha256: string; size: number }[] };
      const listed = new Map(manifest.files.map((m) => [m.path, m]));
      const onDisk = walk(dir).filter((p) => !existsSync(join(dir, p)) || !statSync(join(dir, p)).isDirectory())
        .filter((p) => !['manifest.json', 'manifest.json.jws', `filing-bundle-${batchId}.zip`].includes(p));
      const unlisted = onDisk.filter((p) => !listed.has(p));
      const gone = [...listed.keys()].filter((p) => !onDisk.includes(p));
      const changed = onDisk.filter((p) => listed.has(p) && listed.get(p)!.sha256 !== sha256File(join(dir, p)));
      if (unlisted.length + gone.length + changed.length) {
        f.details.push(`${batchId}: manifest.json does not match the folder: ${unlisted.length} unlisted (${unlisted.slice(0, 2).join(', ')}), ${gone.length} listed but absent (${gone.slice(0, 2).join(', ')}), ${changed.length} changed (${changed.slice(0, 2).join(', ')})`);
      }
      // (started now, read after the PDF checks: it only reads the archive)
      bundleChecks.push(run({ label: `verify-bundle ${batchId}`, args: ['verify-bundle', zip, '--anchor', join(ROOT, 'fixtures', 'signer', 'generated', 'root-ca.pem'), '--json'], out: dir, ...(input.env && { env: input.env }) }).then((vb) => {
        input.runs?.push(vb);
        let ok = false;
        try {
          ok = vb.code === 0 && (JSON.parse(vb.stdout) as { ok: boolean }).ok === true;
        } catch {
          ok = false;
        }
        if (!ok) f.details.push(`${batchId}: verify-bundle refused the bundle: ${vb.stdout.slice(0, 400)}${vb.stderr.slice(0, 200)}`);
      }));
    }
    const report = join(dir, 'report.json');
    if (existsSync(report)) {
      const counts = (JSON.parse(readFileSync(report, 'utf8')) as { counts: { issued: number; rowsRead: number; accounted: number } }).counts;
      if (counts.issued !== issued.size || counts.accounted !== counts.rowsRead) f.details.push(`${batchId}: report.json counts ${JSON.stringify(counts)} but the registry holds ${issued.size} issued`);
    }
  }
  for (const [r, batches] of batchOfRoster) if (batches.size === 1 && !existsSync(join(input.out, [...batches][0]!))) f.details.push(`${r.file}: no batch folder`);
  // The spools of accepted rows (ID numbers) beside the batches are removed once read, and a killed run's by the next.
  const spools = existsSync(input.out) ? readdirSync(input.out).filter((n) => n.startsWith('.tmp-')) : [];
  fail('orphans', spools.length, `temporary files left in the output root: ${spools.slice(0, 3).join(', ')}`);

  // 4. pdfsig and qpdf: the files written around a kill and a sample of the rest.
  const rest = allPdfs.filter((p) => !toVerify.has(p));
  for (let i = 0; i < input.sample && rest.length; i++) toVerify.add(rest.splice(Math.floor(input.random() * rest.length), 1)[0]!);
  const checked = await checkPdfs([...toVerify]);
  const bad = checked.filter((c) => !c.ok);
  fail('brokenPdfs', bad.length, `${bad.length} of ${checked.length} PDFs checked fail pdfsig or qpdf: ${bad.slice(0, 3).map((b) => `${b.file.split('/').pop()} (${b.why})`).join('; ')}`);
  f.checkedPdfs += checked.length;

  await Promise.all(bundleChecks);
  // 5. The audit chain.
  const audit = await auditRun;
  input.runs?.push(audit);
  let chainOk = false;
  try {
    chainOk = audit.code === 0 && (JSON.parse(audit.stdout) as { ok: boolean }).ok === true;
  } catch {
    chainOk = false;
  }
  if (!chainOk) f.details.push(`audit --verify: the chain is not intact (exit ${audit.code}): ${audit.stdout.slice(-300)}${audit.stderr.slice(0, 200)}`);
  return f;
}
