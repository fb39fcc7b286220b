/**
 * Issuing a batch's accepted rows (or one chunk of them):
 *
 *   photo (photos.ts, several at once) → number (registry, in roster order, NUMBER_GROUP rows per transaction)
 *     → render + sign (the worker pool) → record the signed files (recorder.ts, grouped)
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../core/context.js';
import { type Problem, SkillcertError } from '../core/errors.js';
import type { Profile } from '../core/profile.js';
import type { Numbered, Row } from '../core/record.js';
import type { IssuedCertificate, SkippedRow } from '../core/summary.js';
import type { IssueResult, Registry } from '../registry/index.js';
import type { PreparedPhoto } from '../stamp/index.js';
import type { PhotoQueue, Pending } from './photos.js';
import type { Pool } from './pool.js';
import { IssueRecorder } from './recorder.js';
import type { JobResult } from './worker.js';

/** What issuing works with: the same for every chunk of a batch. */
export interface IssueWork {
  readonly registry: Registry;
  readonly pool: Pool;
  readonly profile: Profile;
  readonly batchId: string;
  readonly certDir: string;
}

export interface IssueHooks {
  /** Called with the number of rows finished so far, each time one finishes. */
  readonly finished?: (done: number) => void;
  /** Called once every row has been numbered and handed to the pool (or the issuing failed). */
  readonly dispatched?: () => void;
}

/** What issuing the rows gave: their certificates, the rows not issued and why, and the files this run signed. */
export interface IssueOutcome {
  readonly issued: IssuedCertificate[];
  readonly skipped: SkippedRow[];
  readonly problems: Problem[];
  /** Digests of the certificates this run signed, by path in the batch folder. */
  readonly signed: Map<string, string>;
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

/**
 * Rows numbered in one transaction: a commit (fsync) per group instead of one per certificate. A commit costs
 * milliseconds while the workers write certificates (the file system's journal flushes their data with it), so
 * groups are whole: with groups of whatever was queued, 1,000 rows took 374 transactions and 1.5 s.
 */
const NUMBER_GROUP = 32;
/** Rows between "photo being prepared" and "file written", at most: the group in the pool and the next one. */
export const PHOTO_WINDOW = 2 * NUMBER_GROUP;

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
export async function issueCertificates(ctx: Context, work: IssueWork, photos: PhotoQueue, hooks: IssueHooks = {}): Promise<IssueOutcome> {
  const { registry, pool, profile, batchId, certDir } = work;
  const b: IssueOutcome = { issued: [], skipped: [], problems: [], signed: new Map() };
  let done = 0;
  const finish = () => hooks.finished?.(++done);
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
      b.signed.set(`certificates/${rec.number}.pdf`, result.sha256);
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
    hooks.dispatched?.();
    while (tasks.size) await Promise.all(tasks);
    await recorder.flush();
  }
  return b;
}

