/**
 * `skillcert run`: the nightly batch. The only module that knows the order of the stages:
 *
 *   ingest + validate → (photo) → number → render + stamp + sign (worker threads) → bundle
 *
 * Exactly once: numbers come from the registry in one transaction per certificate, in roster order. A batch is
 * named by its roster's and profile's content, so running the same roster again resumes the same batch folder:
 * certificates already issued are kept, numbered-but-unsigned ones are rendered again, nothing is numbered twice.
 * Files are written under a temporary name and renamed, so a killed run never leaves a half-written file.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BatchSummary, IssuedCertificate, SkippedRow } from './batch.js';
import { writeBatchOutputs, type BatchOutputs } from './bundle/index.js';
import type { Context } from './context.js';
import { maskId, type Problem, SkillcertError } from './errors.js';
import { FontSet } from './fonts/index.js';
import { Pool } from './pool.js';
import { loadProfile, type Profile } from './profile.js';
import type { Numbered, Row } from './record.js';
import { openRegistry, type Registry } from './registry/index.js';
import { buildTemplate, launchBrowser } from './render/index.js';
import { loadSigner, type LoadedSigner, readPassword } from './sign/index.js';
import { preparePhoto } from './stamp/index.js';
import { validateRoster, writeRejectsWorkbook, type RosterSummary } from './validate/index.js';

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
  /** SQLite file of the registry; default <out>/registry.sqlite. */
  readonly registry?: string;
  /** Folder of the roster's photos; default <roster folder>/photos. */
  readonly photos?: string;
  /** 发证日期 for rosters without that column (the Sichuan 申报汇总表). */
  readonly issueDate?: string;
  /** Worker threads; default one per core, 0 = in this thread. */
  readonly workers?: number;
  readonly progress?: Progress;
  /** Also write the certificate-style filing material of 附件3 (with this batch's first certificate as the sample). */
  readonly filingMaterial?: boolean;
}

export interface RunResult {
  readonly batchId: string;
  readonly dir: string;
  readonly registry: string;
  readonly summary: BatchSummary;
  readonly outputs: BatchOutputs;
  readonly roster: RosterSummary;
}

/** Loads the profile, the fonts and the signing identity: every broken input stops the run before anything is written. */
export function loadIdentity(ctx: Context, profilePath: string): { profile: Profile; fonts: FontSet; signer: LoadedSigner; p12: Uint8Array; password: string } {
  const profile = loadProfile(profilePath);
  const fonts = FontSet.load();
  const password = readPassword(profile.signer, ctx.env, profile.dir);
  const p12File = resolve(profile.dir, profile.signer.p12);
  let p12: Uint8Array;
  try {
    p12 = readFileSync(p12File);
  } catch (err) {
    throw new SkillcertError('E_SIGN', `cannot read the signing identity ${profile.signer.p12} of profile ${profile.id}: ${(err as Error).message}`, {}, { cause: err });
  }
  const signer = loadSigner({ p12, password, source: profile.signer.p12 });
  return { profile, fonts, signer, p12, password };
}

export function batchIdFor(profile: Profile, rosterSha256: string, issueDate?: string): string {
  const h = createHash('sha256').update(`${profile.id}\n${rosterSha256}\n${issueDate ?? ''}`).digest('hex');
  return `${profile.id}-${h.slice(0, 12)}`;
}

/** Removes temporary files a killed run left behind (never a finished certificate). */
function removeStaleTemporaries(dir: string): void {
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) if (/\.tmp-\d+-\d+$/.test(f)) rmSync(join(dir, f), { force: true });
}

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

  // 1. ingest + validate: an unreadable roster fails here, before anything is written.
  const validation = await validateRoster(opts.roster, profile, {
    uncovered: (text, role) => fonts.uncovered(text, role),
    now: ctx.now,
    ...(opts.issueDate ? { issueDate: opts.issueDate } : {}),
  });
  const rs = validation.summary;
  const tValidated = performance.now();
  const batchId = batchIdFor(profile, rs.sha256, opts.issueDate);
  const dir = resolve(opts.out, batchId);
  const certDir = join(dir, 'certificates');
  mkdirSync(certDir, { recursive: true });
  removeStaleTemporaries(certDir);
  ctx.log.info('batch', { batchId, rows: rs.rowsRead, accepted: rs.accepted, rejectedRows: rs.rejectedRows });

  const registryPath = resolve(opts.registry ?? join(opts.out, 'registry.sqlite'));
  mkdirSync(dirname(registryPath), { recursive: true });
  const registry = await openRegistry(registryPath, { operator: ctx.operator, now: ctx.now });
  const photoDir = resolve(opts.photos ?? join(dirname(resolve(opts.roster)), 'photos'));

  const problems: Problem[] = [...rs.problems];
  const skipped: SkippedRow[] = rs.skippedRows.map((s) => ({
    rowNo: s.rowNo, reason: 'result', result: s.result, occupation: s.occupation, ...(s.level ? { level: s.level } : {}),
    message: `认定结果 ${s.result}: counted, no certificate (seed 004)`,
  }));
  const issued: IssuedCertificate[] = [];
  let pool: Pool | undefined;
  let tTemplate = tValidated;
  try {
    // 2. the template layer, once per run: one Chromium, closed before the workers start.
    const browser = await launchBrowser();
    let templateBytes: Uint8Array;
    try {
      templateBytes = (await buildTemplate(profile, fonts, browser)).bytes;
    } finally {
      await browser.close();
    }
    tTemplate = performance.now();
    pool = await Pool.start({ profilePath: profile.path, templateBytes, p12, password }, opts.workers ?? Pool.defaultSize());

    // 3. number in roster order, render + sign in parallel, record each signed file.
    progress.start(rs.accepted);
    let done = 0;
    let jobId = 0;
    let numbering: Promise<unknown> = Promise.resolve();
    const inflight = new Set<Promise<void>>();
    const limit = Math.max(4, (opts.workers ?? Pool.defaultSize()) * 4);
    const finish = (note?: string) => progress.tick(++done, note);
    const reject = (row: Row, field: string, rule: string, message: string, value?: string) =>
      problems.push({ rowNo: row.rowNo, field, rule, message, ...(value !== undefined ? { value } : {}) });

    const handle = async (row: Row): Promise<void> => {
      const person = { idType: row.idType, idNo: row.idNo };
      const qualification = { occupation: row.occupation, job: row.job, level: row.level };
      const photoP = preparePhoto(photoDir, row.photo);
      // The registry is asked in roster order, so serials follow the roster.
      const step = numbering.then(async () => {
        const held = await registry.findByPerson(person, qualification);
        if (held && held.batchId !== batchId) return { held };
        const photo = await photoP;
        if (!photo.ok) return { photoProblem: photo.problem };
        const r = await registry.issue({ issuer: profile, person, qualification, year: Number(row.issueDate.slice(0, 4)), batchId, printed: printedOf(row), at: ctx.now, operator: ctx.operator });
        return { issue: r, photo: photo.photo };
      });
      numbering = step.catch(() => undefined);
      const s = await step;
      if ('held' in s && s.held) {
        skipped.push({
          rowNo: row.rowNo, reason: 'already-certified', occupation: row.occupation, level: row.level, number: s.held.number,
          message: `already holds certificate ${s.held.number} for ${row.occupation} ${row.job || ''} level ${row.level} (batch ${s.held.batchId}); not issued twice`,
        });
        return finish();
      }
      if ('photoProblem' in s && s.photoProblem) {
        reject(row, s.photoProblem.field, s.photoProblem.rule, s.photoProblem.message, s.photoProblem.value);
        return finish();
      }
      if (!('issue' in s) || !s.issue) return finish();
      const cert = s.issue.certificate;
      const file = join(certDir, `${cert.number}.pdf`);
      if (cert.status === 'issued' || cert.status === 'revoked') {
        // A rerun: this batch issued it before the run was stopped. Keep it as it is.
        if (cert.status === 'issued') issued.push({ ...row, number: cert.number, stockSerial: cert.stockSerial, file: cert.file ?? file, sha256: cert.sha256 ?? sha256File(file) ?? '', origin: 'existing' });
        return finish();
      }
      const rec: Numbered = { ...row, number: cert.number, stockSerial: cert.stockSerial };
      const result = await pool!.run({ id: ++jobId, rec, photoJpeg: s.photo!.jpeg, file, now: ctx.now.getTime() });
      if (!result.ok) {
        // The number stays recorded (status numbered); the next run renders it again once the cause is fixed.
        reject(row, 'certificate', result.code, `certificate ${cert.number} could not be produced: ${result.message}`);
        return finish();
      }
      await registry.markIssued(cert.number, { file: `${batchId}/certificates/${cert.number}.pdf`, sha256: result.sha256 }, ctx.now, { operator: ctx.operator });
      issued.push({ ...rec, file: result.file, sha256: result.sha256, origin: s.issue.created ? 'created' : 'existing' });
      finish();
    };

    for await (const row of validation.accepted()) {
      const task = handle(row).catch((err: unknown) => {
        const e = err as Error;
        reject(row, 'certificate', err instanceof SkillcertError ? err.code : 'E_IO', e.message);
      });
      inflight.add(task);
      void task.finally(() => inflight.delete(task));
      if (inflight.size >= limit) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    progress.stop();
  } finally {
    await pool?.close();
  }
  const tCertificates = performance.now();

  // 4. the rejects workbook and the bundle, from the batch's records.
  problems.sort((a, b) => a.rowNo - b.rowNo);
  issued.sort((a, b) => a.rowNo - b.rowNo);
  skipped.sort((a, b) => a.rowNo - b.rowNo);
  await writeRejectsWorkbook(join(dir, 'rejects.xlsx'), problems, { notes: rs.notes });
  const summary: BatchSummary = {
    batchId, profileId: profile.id, roster: resolve(opts.roster), startedAt, finishedAt: new Date(ctx.now.getTime() + (performance.now() - t0)).toISOString(),
    rowsRead: rs.rowsRead, issued, rejected: problems, skipped, fonts: fonts.report(), warnings: [],
    timings: { validateMs: Math.round(tValidated - t0), templateMs: Math.round(tTemplate - tValidated), certificatesMs: Math.round(tCertificates - tTemplate) },
    ...(Object.keys(rs.header.meta ?? {}).length ? { rosterMeta: rs.header.meta } : {}),
  };
  const sample = opts.filingMaterial && issued[0] ? [{ bytes: readFileSync(issued[0].file) }] : undefined;
  const outputs = await writeBatchOutputs(summary, profile, {
    dir, fonts, now: ctx.now,
    signer: { privateKey: signer.key, certificatePem: signer.certificate.toString(), chainPem: signer.chain.slice(1).map((der) => new X509Certificate(der).toString()) },
    ...(sample ? { sampleCertificates: sample } : {}),
  });
  if (outputs.archive) {
    await registry.recordExport({ file: outputs.archive, sha256: sha256File(outputs.archive) ?? '', what: 'filing bundle', numbers: issued.map((c) => c.number) }, ctx.now, ctx.operator);
  }
  await registry.close();
  ctx.log.info('batch done', { batchId, issued: issued.length, rejected: problems.length, skipped: skipped.length, ms: Math.round(performance.now() - t0) });
  return { batchId, dir, registry: registryPath, summary, outputs, roster: rs };
}

/** For logs: a row's person, never the whole ID number. */
export function who(row: Pick<Row, 'rowNo' | 'idNo'>): string {
  return `row ${row.rowNo} (${maskId(row.idNo)})`;
}

export type { Registry };

export interface ValidateOnlyResult { readonly summary: RosterSummary; readonly rejects: string }

/** `skillcert validate`: ingest + validate only; writes the rejects workbook, numbers and renders nothing. */
export async function validateOnly(ctx: Context, opts: { roster: string; profile: string; rejects?: string; issueDate?: string }): Promise<ValidateOnlyResult> {
  const profile = loadProfile(opts.profile);
  const fonts = FontSet.load();
  const v = await validateRoster(opts.roster, profile, { uncovered: (t, r) => fonts.uncovered(t, r), now: ctx.now, ...(opts.issueDate ? { issueDate: opts.issueDate } : {}) });
  const rejects = resolve(opts.rejects ?? join('output', `${basename(opts.roster).replace(/\.[^.]+$/, '')}-rejects.xlsx`));
  mkdirSync(dirname(rejects), { recursive: true });
  await writeRejectsWorkbook(rejects, v.summary.problems, { notes: v.summary.notes });
  return { summary: v.summary, rejects };
}
