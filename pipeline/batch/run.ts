/**
 * `skillcert run`: the nightly batch. The only module that knows the order of the stages:
 *
 *   ingest + validate → (photo) → number → render + stamp + sign (worker threads) → bundle
 *
 * Exactly once: numbers come from the registry in one transaction per certificate, in roster order. A batch is
 * named by its roster's and profile's content, so running the same roster again resumes the same batch folder:
 * certificates already issued are kept, numbered-but-unsigned ones are rendered again, nothing is numbered twice.
 * Files are written under a temporary name and renamed, so a killed run never leaves a half-written file.
 *
 * With a PostgreSQL registry the batch may be shared by several machines: each works through chunks of the accepted
 * rows claimed from the batch's job queue (queue.ts), and one of them writes the bundle from everyone's records.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BatchSummary, IssuedCertificate, SkippedRow } from '../core/summary.js';
import { writeBatchOutputs, type BatchOutputs } from '../bundle/index.js';
import type { Context } from '../core/context.js';
import { type Problem, SkillcertError } from '../core/errors.js';
import { FontSet } from '../fonts/index.js';
import { Pool } from './pool.js';
import type { JobResult } from './worker.js';
import { loadProfile, type Profile } from '../core/profile.js';
import type { Numbered, Row } from '../core/record.js';
import { isRunning, removeStaleTemporaries } from '../core/files.js';
import { lockBatch } from './lock.js';
import type { BatchQueue, BundleClaim, Chunk } from './queue.js';
import { type CertificateRecord, isRegistryUrl, type IssueResult, openRegistry, type PdfDigest, registryLocation, type Registry } from '../registry/index.js';
import { buildTemplate, cachedPrinter } from '../render/index.js';
import { loadIdentity } from '../certificate/identity.js';
import { publishStatusLists } from '../status/index.js';
import { preparePhoto, type PhotoResult, type PreparedPhoto } from '../stamp/index.js';
import { type RosterValidation, validateRoster, writeRejectsWorkbook, type RosterSummary } from '../validate/index.js';
import { maskId } from '../core/privacy.js';

export interface Progress {
  start(total: number): void;
  tick(done: number, note?: string): void;
  stop(): void;
}

export const noProgress: Progress = { start() {}, tick() {}, stop() {} };

export interface RunOptions {
  readonly roster: string;
  readonly profile: string;
  /** Output root; the batch folder is <out>/<batch id>. */
  readonly out: string;
  /** The registry: a SQLite file (default <out>/registry.sqlite) or a postgres:// URL without its password. */
  readonly registry?: string;
  /** Folder of the roster's photos; default <roster folder>/photos. */
  readonly photos?: string;
  /** 发证日期 for rosters without that column (the Sichuan 申报汇总表). */
  readonly issueDate?: string;
  /** The worksheet that holds the roster, by name: needed when several visible sheets have a header, or a hidden one. */
  readonly sheet?: string;
  /** Worker threads; default one per core but one (Pool.defaultSize), 0 = in this thread. */
  readonly workers?: number;
  readonly progress?: Progress;
  /** Also write the certificate-style filing material of 附件3 (with this batch's first certificate as the sample). */
  readonly filingMaterial?: boolean;
  /**
   * With a PostgreSQL registry: accepted rows per chunk of the batch's job queue (default CHUNK_ROWS). The first
   * machine to open a batch's queue lays it out; the others follow that layout.
   */
  readonly chunkRows?: number;
}

export interface RunResult {
  readonly batchId: string;
  readonly dir: string;
  readonly registry: string;
  /** The batch's records: with a queued batch, gathered from every machine's work. */
  readonly summary: BatchSummary;
  /** The tables, receipts and bundle; undefined when another machine of a queued batch wrote them (`bundledBy`). */
  readonly outputs?: BatchOutputs;
  readonly roster: RosterSummary;
  /** Queued batches: the chunks this machine worked through (its share of `summary`, which is the whole batch's). */
  readonly chunks?: number;
  /** Queued batches: who wrote the bundle, when it was not this machine. */
  readonly bundledBy?: string;
}

export function batchIdFor(profile: Profile, rosterSha256: string, issueDate?: string, sheet?: string): string {
  // another sheet of the same workbook is another batch; without --sheet the id is what it always was
  const h = createHash('sha256').update(`${profile.id}\n${rosterSha256}\n${issueDate ?? ''}${sheet !== undefined ? `\n${sheet}` : ''}`).digest('hex');
  return `${profile.id}-${h.slice(0, 12)}`;
}

/**
 * The spool of a run's accepted rows in the output folder: `.tmp-accepted-<host>-<pid>.jsonl` (the host: machines of
 * a queued batch share the output folder, and a pid says nothing about another machine's processes).
 */
const spoolPrefix = () => `.tmp-accepted-${hostname()}-`;

/** Removes the spools of this machine's runs that are no longer running (killed): they hold ID numbers. */
function removeStaleSpools(out: string): void {
  const prefix = spoolPrefix();
  for (const f of readdirSync(out)) {
    const pid = f.startsWith(prefix) && f.endsWith('.jsonl') ? Number(f.slice(prefix.length, -'.jsonl'.length)) : NaN;
    if (Number.isInteger(pid) && pid !== process.pid && !isRunning(pid)) rmSync(join(out, f), { force: true });
  }
}

/** Pages Chromium printed, by content (render/browser.ts cachedPrinter), beside the batches. */
const PRINT_CACHE = join('.cache', 'print');

function sha256File(file: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}

/** What the registry keeps as printed and filed (第十二条) besides the person key. */
function printedOf(row: Row): Record<string, unknown> {
  return {
    name: row.name, gender: row.gender ?? '', employer: row.employer ?? '', occupation: row.occupation, job: row.job,
    level: row.level, issueDate: row.issueDate, photo: row.photo ?? '', award: row.award ?? '',
    competitionCategory: row.competitionCategory ?? '', rowNo: row.rowNo,
  };
}

export async function runBatch(ctx: Context, opts: RunOptions): Promise<RunResult> {
  const t0 = performance.now();
  const startedAt = ctx.now.toISOString();
  const progress = opts.progress ?? noProgress;
  const { profile, fonts, signer, p12, password } = loadIdentity(ctx, opts.profile);
  const workers = opts.workers ?? Pool.defaultSize();
  // A registry URL with a password in it is refused before anything starts.
  const registryPath = registryLocation(opts.registry, opts.out);

  // Chromium prints the template and the workers start (modules, fonts, P12) while the roster is validated:
  // none of the three writes anything, and each used to wait for the one before.
  const templateP = printTemplate(profile, fonts, resolve(opts.out));
  const poolP = Pool.start({ profilePath: profile.path, p12, password, fontFiles: fonts.files() }, workers);
  // A failure of one of them surfaces where it is awaited; the others must not become unhandled rejections.
  templateP.catch(() => undefined);
  poolP.catch(() => undefined);
  let pool: Pool | undefined;
  let registry: Registry | undefined;
  let photos: PhotoQueue | undefined;
  let validation: RosterValidation | undefined;
  let unlock: (() => void) | undefined;
  let queue: BatchQueue | undefined;
  /** Queued batches: the rows of the chunks in progress. */
  const chunkQueues = new Set<PhotoQueue>();
  try {
    // 1. ingest + validate: an unreadable roster fails here, before anything but the spool of accepted rows (in the
    // output folder, with the batch's other personal data; removed once read) is written.
    mkdirSync(resolve(opts.out), { recursive: true });
    removeStaleSpools(resolve(opts.out));
    validation = await validateRoster(opts.roster, profile, {
      uncovered: (text, role) => fonts.uncovered(text, role),
      now: ctx.now,
      spool: join(resolve(opts.out), `${spoolPrefix()}${process.pid}.jsonl`),
      ...(opts.issueDate ? { issueDate: opts.issueDate } : {}),
      ...(opts.sheet !== undefined ? { sheet: opts.sheet } : {}),
    });
    const rs = validation.summary;
    const tValidated = performance.now();
    const batchId = batchIdFor(profile, rs.sha256, opts.issueDate, opts.sheet);
    const dir = resolve(opts.out, batchId);
    const certDir = join(dir, 'certificates');
    const photoDir = resolve(opts.photos ?? join(dirname(resolve(opts.roster)), 'photos'));
    const queued = isRegistryUrl(registryPath);
    if (queued) {
      // A batch shared by the machines of one PostgreSQL registry: its chunks are claimed one by one (queue.ts),
      // so that several runs of the same roster share the work instead of being refused.
      const { BatchQueue } = await import('./queue.js');
      queue = await BatchQueue.open(registryPath, batchId, { accepted: rs.accepted, chunkRows: opts.chunkRows ?? CHUNK_ROWS, onLost: () => chunkQueues.forEach((q) => q.stop()) });
    } else {
      // One run per batch: a second run of the same roster stops here, before it touches the batch.
      unlock = lockBatch(resolve(opts.out), batchId, ctx.now);
      // The first photos are prepared while Chromium finishes: like it, they write nothing.
      photos = new PhotoQueue(validation.accepted(), photoDir, PHOTO_WINDOW);
    }
    // 2. the template and the workers: a broken profile or identity stops the run before the registry is touched.
    const templateBytes = await templateP;
    pool = await poolP;
    pool.useTemplate(templateBytes);
    const tTemplate = performance.now();
    mkdirSync(certDir, { recursive: true });
    // What a killed run left half-written anywhere in the batch folder goes (certificates, tables, receipts). (A queued
    // batch's other machines may be writing theirs: the bundle's writer removes them, once all are done.)
    if (!queued) removeStaleTemporaries(dir);
    ctx.log.info('batch', { batchId, rows: rs.rowsRead, accepted: rs.accepted, rejectedRows: rs.rejectedRows });

    if (!queued) mkdirSync(dirname(registryPath), { recursive: true });
    registry = await openRegistry(registryPath, { operator: ctx.operator, now: ctx.now });

    let problems: Problem[] = [...rs.problems];
    const notPassed: SkippedRow[] = rs.skippedRows.map((s) => ({
      rowNo: s.rowNo, reason: 'result', result: s.result, occupation: s.occupation, ...(s.level ? { level: s.level } : {}),
      message: `认定结果 ${s.result}: counted, no certificate (seed 004)`,
    }));
    let skipped: SkippedRow[] = [...notPassed];
    let issued: IssuedCertificate[] = [];
    /** Digests of the certificates this run signed, from the workers, by path in the batch folder. */
    const produced = new Map<string, string>();

    // 3. number in roster order, render + sign in parallel, record each signed file.
    progress.start(rs.accepted);
    const work = { registry, pool, profile, batchId, certDir, produced };
    let chunks = 0;
    let bundleClaim: BundleClaim | undefined;
    if (!queue) {
      await issueCertificates(ctx, { ...work, photos: photos!, issued, skipped, problems, finished: (done) => progress.tick(done) });
    } else {
      // The next chunk is claimed as soon as the current one's rows are all numbered and handed to the pool, so
      // that the workers never wait at a chunk's end; at most two chunks are in progress.
      let done = 0;
      let failure: { error: unknown } | undefined;
      const inProgress = new Set<Promise<void>>();
      // Until every chunk is done and this machine holds the bundle's lock: chunks may go back to the queue while it
      // waits for that lock (a machine started since retries the rows an earlier run could not issue).
      while (!bundleClaim) {
        for (let chunk = await queue.claim(); chunk && !failure; chunk = await queue.claim()) {
          const rows = new PhotoQueue(validation.accepted({ from: chunk.first, count: chunk.rows }), photoDir, PHOTO_WINDOW);
          chunkQueues.add(rows);
          let dispatched!: () => void;
          const allDispatched = new Promise<void>((resolve) => (dispatched = resolve));
          const b: IssueContext = { ...work, photos: rows, issued: [], skipped: [], problems: [], finished: () => progress.tick(++done), dispatched };
          const p = issueChunk(ctx, queue, chunk, b).then(
            () => {
              chunks++;
              // (concat, not push(...): a chunk may hold more rows than a call takes arguments)
              issued = issued.concat(b.issued);
              problems = problems.concat(b.problems);
              skipped = skipped.concat(b.skipped);
            },
            (error: unknown) => void (failure ??= { error }),
          );
          inProgress.add(p);
          void p.finally(() => {
            inProgress.delete(p);
            chunkQueues.delete(rows);
          });
          await allDispatched;
        }
        await Promise.all(inProgress);
        if (failure) throw failure.error;
        bundleClaim = await queue.claimBundle();
      }
    }
    progress.stop();
    await pool.close();
    pool = undefined;
    const tCertificates = performance.now();

    const timings = { validateMs: Math.round(tValidated - t0), templateMs: Math.round(tTemplate - tValidated), certificatesMs: Math.round(tCertificates - tTemplate) };
    const summaryOf = (): BatchSummary => ({
      batchId, profileId: profile.id, roster: resolve(opts.roster), startedAt, finishedAt: new Date(ctx.now.getTime() + (performance.now() - t0)).toISOString(),
      rowsRead: rs.rowsRead, issued: issued.sort((a, b) => a.rowNo - b.rowNo), rejected: problems.sort((a, b) => a.rowNo - b.rowNo),
      skipped: skipped.sort((a, b) => a.rowNo - b.rowNo), fonts: fonts.report(), warnings: [], timings,
      ...(Object.keys(rs.header.meta ?? {}).length ? { rosterMeta: rs.header.meta } : {}),
    });
    if (queue) {
      // Every chunk is done: the batch's records are gathered from every machine's work. One machine writes the
      // bundle from them (whoever takes its lock first); the others, and any later rerun, leave it as written.
      const claim = bundleClaim!;
      const batch = await gatherQueuedBatch(registry, queue, validation, { certDir, rowsAccepted: rs.accepted });
      issued = batch.issued;
      problems = [...rs.problems, ...batch.problems];
      skipped = [...notPassed, ...batch.skipped];
      if (claim.done) {
        ctx.log.info('batch done', { batchId, chunks, bundledBy: claim.by ?? '', ms: Math.round(performance.now() - t0) });
        return { batchId, dir, registry: registryPath, summary: summaryOf(), roster: rs, chunks, bundledBy: claim.by ?? 'another machine' };
      }
      for (const [file, sha256] of batch.digests) produced.set(file, sha256);
      // No machine writes certificates of this batch any more: what killed ones left half-written goes.
      removeStaleTemporaries(dir);
    }

    // 4. the rejects workbook and the bundle, from the batch's records.
    const summary = summaryOf();
    await writeRejectsWorkbook(join(dir, 'rejects.xlsx'), summary.rejected, { notes: rs.notes });
    const sample = opts.filingMaterial && summary.issued[0] ? [{ bytes: readFileSync(summary.issued[0].file) }] : undefined;
    const outputs = await writeBatchOutputs(summary, profile, {
      dir, fonts, now: ctx.now, knownDigests: produced,
      signer: { privateKey: signer.key, certificatePem: signer.certificate.toString(), chainPem: signer.chain.slice(1).map((der) => new X509Certificate(der).toString()) },
      ...(sample ? { sampleCertificates: sample } : {}),
    });
    if (outputs.archive && outputs.archiveSha256) {
      await registry.recordExport({ file: outputs.archive, sha256: outputs.archiveSha256, what: 'filing bundle', numbers: summary.issued.map((c) => c.number) }, ctx.now, ctx.operator);
    }
    await publishStatusLists(registry, { orgCode: profile.orgCode, signer, now: ctx.now, out: resolve(opts.out) });
    await queue?.bundled();
    ctx.log.info('batch done', { batchId, issued: summary.issued.length, rejected: summary.rejected.length, skipped: summary.skipped.length, ms: Math.round(performance.now() - t0) });
    return { batchId, dir, registry: registryPath, summary, outputs, roster: rs, ...(queue ? { chunks } : {}) };
  } finally {
    photos?.stop();
    chunkQueues.forEach((q) => q.stop());
    validation?.discard();
    await templateP.catch(() => undefined);
    await (pool ?? (await poolP.catch(() => undefined)))?.close();
    await registry?.close();
    await queue?.close();
    unlock?.();
  }
}

/** Accepted rows per chunk of a queued batch: a few seconds of one machine's work, so a dead machine's chunk is small. */
const CHUNK_ROWS = 500;

/**
 * One claimed chunk of a queued batch: its certificates issued as in a batch of its own, then the chunk marked done
 * with its outcome — or, when that fails, released for another machine.
 */
async function issueChunk(ctx: Context, queue: BatchQueue, chunk: Chunk, b: IssueContext): Promise<IssueContext> {
  try {
    await issueCertificates(ctx, b);
    await queue.complete(chunk, { problems: b.problems, skipped: b.skipped, existing: b.issued.filter((c) => c.origin === 'existing').map((c) => c.rowNo) });
  } catch (err) {
    await queue.release(chunk);
    throw err;
  }
  return b;
}

/**
 * A queued batch's records from every machine: the accepted rows (the spool, in roster order) with their
 * certificates of this batch from the registry, and the rows each chunk could not issue.
 */
async function gatherQueuedBatch(
  registry: Registry,
  queue: BatchQueue,
  validation: RosterValidation,
  at: { certDir: string; rowsAccepted: number },
): Promise<{ issued: IssuedCertificate[]; problems: Problem[]; skipped: SkippedRow[]; digests: Map<string, string> }> {
  const outcomes = await queue.outcomes();
  const existing = new Set(outcomes.flatMap((o) => o.existing));
  const byRow = new Map<number, CertificateRecord>();
  for (const c of await registry.listBatch(queue.batchId)) if (c.status === 'issued') byRow.set(Number(c.printed.rowNo), c);
  const issued: IssuedCertificate[] = [];
  const digests = new Map<string, string>();
  for await (const row of validation.accepted({ from: 0, count: at.rowsAccepted })) {
    const c = byRow.get(row.rowNo);
    if (!c?.sha256) continue;
    issued.push({ ...row, number: c.number, stockSerial: c.stockSerial, file: join(at.certDir, `${c.number}.pdf`), sha256: c.sha256, origin: existing.has(row.rowNo) ? 'existing' : 'created' });
    digests.set(`certificates/${c.number}.pdf`, c.sha256);
  }
  return { issued, problems: outcomes.flatMap((o) => o.problems), skipped: outcomes.flatMap((o) => o.skipped), digests };
}

/**
 * The template layer, once per run: from the print cache in the output folder when this profile's page was printed
 * before with the same fonts and Chromium, else by one Chromium, closed as soon as it has printed.
 */
async function printTemplate(profile: Profile, fonts: FontSet, out: string): Promise<Uint8Array> {
  const printer = cachedPrinter(join(out, PRINT_CACHE), fonts.faces().map((f) => f.file));
  try {
    return (await buildTemplate(profile, fonts, printer)).bytes;
  } finally {
    await printer.close();
  }
}

interface IssueContext {
  readonly photos: PhotoQueue;
  readonly registry: Registry;
  readonly pool: Pool;
  readonly profile: Profile;
  readonly batchId: string;
  readonly certDir: string;
  readonly issued: IssuedCertificate[];
  readonly produced: Map<string, string>;
  readonly skipped: SkippedRow[];
  readonly problems: Problem[];
  /** Called with the number of rows finished so far, each time one finishes. */
  readonly finished: (done: number) => void;
  /** Called once every row has been numbered and handed to the pool (or the issuing failed). */
  readonly dispatched?: () => void;
}

/**
 * Rows numbered in one transaction: a commit (fsync) per group instead of one per certificate. A commit costs
 * milliseconds while the workers write certificates (the file system's journal flushes their data with it), so
 * groups are whole: with groups of whatever was queued, 1,000 rows took 374 transactions and 1.5 s.
 */
const NUMBER_GROUP = 32;
/** Rows between "photo being prepared" and "file written", at most: the group in the pool and the next one. */
const PHOTO_WINDOW = 2 * NUMBER_GROUP;
/** Signed files recorded in one transaction, at most, and how long one waits for the next to join it. */
const RECORD_GROUP = 128;
const RECORD_AFTER_MS = 500;

/**
 * Numbers the accepted rows in roster order and has the pool render and sign them:
 *
 *   photo (PhotoQueue, several at once) → number (registry, in roster order, NUMBER_GROUP rows per transaction)
 *     → render + sign (pool) → record the signed files (registry, grouped per RECORD_GROUP or RECORD_AFTER_MS)
 *
 * The photo queue's window bounds the rows between "photo being prepared" and "file written": memory stays
 * bounded, and a run killed half-way has numbered only that many certificates more than it wrote (the rerun
 * renders those again).
 */
async function issueCertificates(ctx: Context, b: IssueContext): Promise<void> {
  const { registry, pool, profile, batchId, certDir, photos } = b;
  let done = 0;
  const finish = () => b.finished(++done);
  const reject = (row: Row, field: string, rule: string, message: string, value?: string) =>
    b.problems.push({ rowNo: row.rowNo, field, rule, message, ...(value !== undefined ? { value } : {}) });

  const tasks = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    tasks.add(p);
    void p.finally(() => tasks.delete(p));
  };
  const recorder = new IssueRecorder(registry, ctx, (item, err) =>
    reject(item.row, 'certificate', err instanceof SkillcertError ? err.code : 'E_REGISTRY', `certificate ${item.rec.number} could not be recorded: ${(err as Error).message}`),
  );

  /** Renders and signs one numbered row, then hands it to the recorder. */
  const produce = async (row: Row, rec: Numbered, photoJpeg: Uint8Array, created: boolean) => {
    let result: JobResult;
    try {
      result = await pool.run({ rec, photoJpeg, file: join(certDir, `${rec.number}.pdf`), now: ctx.now.getTime() });
    } catch (err) {
      result = { id: 0, ok: false, code: err instanceof SkillcertError ? err.code : 'E_RENDER', message: (err as Error).message };
    } finally {
      photos.release();
    }
    if (!result.ok) {
      // The number stays recorded (status numbered); the next run renders it again once the cause is fixed.
      reject(row, 'certificate', result.code, `certificate ${rec.number} could not be produced: ${result.message}`);
    } else if (await recorder.add({ row, rec, pdf: { file: `${batchId}/certificates/${rec.number}.pdf`, sha256: result.sha256 } })) {
      b.produced.set(`certificates/${rec.number}.pdf`, result.sha256);
      b.issued.push({ ...rec, file: result.file, sha256: result.sha256, origin: created ? 'created' : 'existing' });
    }
    finish();
  };

  /** Numbers a group of rows (photos prepared) in one transaction, and dispatches them to the pool. */
  const numberGroup = async (group: Pending[]) => {
    const toIssue: { row: Row; photo: PreparedPhoto }[] = [];
    for (const { row, photo } of group) {
      const held = await registry.findByPerson({ idType: row.idType, idNo: row.idNo }, { occupation: row.occupation, job: row.job, level: row.level }).catch((err: unknown) => err as Error);
      const p = photo.value;
      if (held instanceof Error || !p) {
        const err = held instanceof Error ? held : photo.error;
        reject(row, 'certificate', err instanceof SkillcertError ? err.code : 'E_IO', err?.message ?? 'the row could not be numbered');
      } else if (held && held.batchId !== batchId) {
        b.skipped.push({
          rowNo: row.rowNo, reason: 'already-certified', occupation: row.occupation, level: row.level, number: held.number,
          message: `already holds certificate ${held.number} for ${row.occupation} ${row.job || ''} level ${row.level} (batch ${held.batchId}); not issued twice`,
        });
      } else if (!p.ok) {
        reject(row, p.problem.field, p.problem.rule, p.problem.message, p.problem.value);
      } else {
        toIssue.push({ row, photo: p.photo });
        continue;
      }
      photos.release();
      finish();
    }
    const request = (row: Row) => ({
      issuer: profile, person: { idType: row.idType, idNo: row.idNo }, qualification: { occupation: row.occupation, job: row.job, level: row.level },
      year: Number(row.issueDate.slice(0, 4)), batchId, printed: printedOf(row), at: ctx.now, operator: ctx.operator,
    });
    let results: (IssueResult | Error)[];
    try {
      results = await registry.issueMany(toIssue.map((t) => request(t.row)));
    } catch {
      // One row's failure rolled the whole group back: number them one by one, so that each row gets its own outcome.
      results = [];
      for (const t of toIssue) results.push(await registry.issue(request(t.row)).catch((err: unknown) => err as Error));
    }
    toIssue.forEach(({ row, photo }, i) => {
      const r = results[i]!;
      if (r instanceof Error) {
        reject(row, 'certificate', r instanceof SkillcertError ? r.code : 'E_IO', r.message);
      } else {
        const cert = r.certificate;
        if (cert.status === 'numbered') {
          track(produce(row, { ...row, number: cert.number, stockSerial: cert.stockSerial, ...(cert.statusIndex !== undefined && { statusIndex: cert.statusIndex }) }, photo.jpeg, r.created));
          return;
        }
        // A rerun: this batch issued it before the run was stopped. Keep it as it is. (Its file is where this run
        // would have written it; the registry's path is relative to the output root, not to the working directory.)
        const file = join(certDir, `${cert.number}.pdf`);
        if (cert.status === 'issued') b.issued.push({ ...row, number: cert.number, stockSerial: cert.stockSerial, file, sha256: cert.sha256 ?? sha256File(file) ?? '', origin: 'existing' });
      }
      photos.release();
      finish();
    });
  };

  try {
    for (let group = await photos.next(NUMBER_GROUP); group.length > 0; group = await photos.next(NUMBER_GROUP)) await numberGroup(group);
    await photos.done;
  } finally {
    b.dispatched?.();
    while (tasks.size) await Promise.all(tasks);
    await recorder.flush();
  }
}

/** A promise and, once it has settled, its value or error; waiting on `promise` never throws. */
interface Settling<T> { readonly promise: Promise<unknown>; value?: T; error?: Error }

function settling<T>(p: Promise<T>): Settling<T> {
  const state: Omit<Settling<T>, 'promise'> = {};
  const promise = p.then(
    (value) => Object.assign(state, { value }),
    (error: unknown) => Object.assign(state, { error: error as Error }),
  );
  return Object.assign(state, { promise });
}

interface Pending { readonly row: Row; readonly photo: Settling<PhotoResult> }

/**
 * The accepted rows in roster order, each with its photo being prepared (sharp works on libuv's threads, several
 * at once), at most `window` rows ahead of the rows released as finished.
 */
class PhotoQueue {
  /** Rejects when reading the rows fails (e.g. the spool of accepted rows cannot be read). */
  readonly done: Promise<void>;
  private readonly items: Pending[] = [];
  private free: number;
  private reading = true;
  private stopped = false;
  private wakeReader?: () => void;
  private wakeConsumer?: () => void;

  constructor(rows: AsyncIterable<Row>, photoDir: string, window: number) {
    this.free = window;
    this.done = this.fill(rows, photoDir);
    this.done.catch(() => undefined);
  }

  private async fill(rows: AsyncIterable<Row>, photoDir: string): Promise<void> {
    try {
      for await (const row of rows) {
        while (this.free === 0 && !this.stopped) await new Promise<void>((r) => (this.wakeReader = r));
        if (this.stopped) return;
        this.free--;
        this.items.push({ row, photo: settling(preparePhoto(photoDir, row.photo)) });
        this.wakeConsumer?.();
      }
    } finally {
      this.reading = false;
      this.wakeConsumer?.();
    }
  }

  /**
   * The next `max` rows (fewer at the end of the roster) once all their photos are prepared; none when every row
   * has been taken. `max` must not exceed the window, or the queue would wait for rows it may not read.
   */
  async next(max: number): Promise<Pending[]> {
    while (this.items.length < max && this.reading) await new Promise<void>((r) => (this.wakeConsumer = r));
    const group = this.items.splice(0, max);
    await Promise.all(group.map((p) => p.photo.promise));
    return group;
  }

  /** A row is finished (its file written, or it was refused): one more may be read. */
  release(): void {
    this.free++;
    this.wakeReader?.();
  }

  /** Stops reading rows (the run failed). */
  stop(): void {
    this.stopped = true;
    this.wakeReader?.();
  }
}

interface ToRecord { readonly row: Row; readonly rec: Numbered; readonly pdf: PdfDigest }

/**
 * Records signed files in groups (markIssuedMany: one transaction, one fsync, per RECORD_GROUP files or per
 * RECORD_AFTER_MS). A crash before a group commits leaves its certificates `numbered` with their files on disk:
 * the rerun renders them again and records those files instead — never a number twice.
 */
class IssueRecorder {
  private pending: { item: ToRecord; done: (recorded: boolean) => void }[] = [];
  private timer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly registry: Registry,
    private readonly ctx: Context,
    private readonly failed: (item: ToRecord, err: unknown) => void,
  ) {}

  /** Resolves true once the file is recorded, false when recording it failed (reported through `failed`). */
  add(item: ToRecord): Promise<boolean> {
    return new Promise((done) => {
      this.pending.push({ item, done });
      if (this.pending.length >= RECORD_GROUP) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), RECORD_AFTER_MS);
    });
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const group = this.pending;
    this.pending = [];
    if (group.length === 0) return this.chain;
    this.chain = this.chain.then(() => this.record(group));
    return this.chain;
  }

  private async record(group: { item: ToRecord; done: (recorded: boolean) => void }[]): Promise<void> {
    const { ctx } = this;
    try {
      await this.registry.markIssuedMany(group.map((g) => ({ number: g.item.rec.number, pdf: g.item.pdf })), ctx.now, { operator: ctx.operator });
      for (const g of group) g.done(true);
      return;
    } catch {
      // One failure rolled the group back: record them one by one, so that only the failing ones are reported.
    }
    for (const g of group) {
      try {
        await this.registry.markIssued(g.item.rec.number, g.item.pdf, ctx.now, { operator: ctx.operator });
        g.done(true);
      } catch (err) {
        this.failed(g.item, err);
        g.done(false);
      }
    }
  }
}

/** For logs: a row's person, never the whole ID number. */
export function who(row: Pick<Row, 'rowNo' | 'idNo'>): string {
  return `row ${row.rowNo} (${maskId(row.idNo)})`;
}

export type { Registry };

export interface ValidateOnlyResult { readonly summary: RosterSummary; readonly rejects: string }

/** `skillcert validate`: ingest + validate only; writes the rejects workbook, numbers and renders nothing. */
export async function validateOnly(ctx: Context, opts: { roster: string; profile: string; rejects?: string; issueDate?: string; sheet?: string }): Promise<ValidateOnlyResult> {
  const profile = loadProfile(opts.profile);
  const fonts = FontSet.load();
  const v = await validateRoster(opts.roster, profile, { uncovered: (t, r) => fonts.uncovered(t, r), now: ctx.now, ...(opts.issueDate ? { issueDate: opts.issueDate } : {}), ...(opts.sheet !== undefined ? { sheet: opts.sheet } : {}) });
  const rejects = resolve(opts.rejects ?? join('output', `${basename(opts.roster).replace(/\.[^.]+$/, '')}-rejects.xlsx`));
  mkdirSync(dirname(rejects), { recursive: true });
  await writeRejectsWorkbook(rejects, v.summary.problems, { notes: v.summary.notes });
  return { summary: v.summary, rejects };
}
