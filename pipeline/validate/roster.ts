/**
 * validateRoster: ingest + validation of a whole roster into a summary, with the accepted rows as a
 * stream. The roster is read to the end once before anything is handed out, so an unreadable or
 * truncated file fails with one E_ROSTER before the caller writes anything (SPEC §3). The accepted
 * rows are then streamed from a spool file written during that read (JSON lines), or without one by
 * reading the roster a second time (checked unchanged by its SHA-256); either way memory stays bounded
 * for hundreds of thousands of rows.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { hashFile } from '../core/digest.js';
import { SkillcertError, type Problem } from '../core/errors.js';
import { openRoster } from '../ingest/roster.js';
import type { HeaderInfo } from '../ingest/types.js';
import type { Profile } from '../core/profile.js';
import type { LevelCode, Row } from '../core/record.js';
import { chinaDate, isRealDate } from './dates.js';
import type { Uncovered } from './fonts.js';
import { RULES, type Note, type RuleId } from './issues.js';
import { RowValidator, type Skipped, type ValidateOptions } from './row.js';

export interface ValidateRosterOptions {
  /** Font coverage check, injected by the render stage. */
  readonly uncovered: Uncovered;
  /** The run's clock (Context.now); "today" for birth dates is its date in China. */
  readonly now: Date;
  /** 发证日期 (YYYY-MM-DD) for every row when the roster has no 发证日期 column. */
  readonly issueDate?: string;
  /** Rows of each sheet searched for the header (default 30). */
  readonly headerScanRows?: number;
  /** The worksheet that holds the roster, by name (`--sheet`); see OpenRosterOptions.sheet. */
  readonly sheet?: string;
  /** Notes kept in the summary (default 10 000); the rest are only counted. */
  readonly maxNotes?: number;
  /**
   * A file for the accepted rows (JSON lines, created 0600 — they hold ID numbers —, removed once read back):
   * accepted() then reads it instead of parsing the workbook a second time, which cost as much as the first.
   */
  readonly spool?: string;
}

export interface RosterSummary {
  readonly file: string;
  /** SHA-256 of the roster file as read (hex), for the batch report and the audit trail. */
  readonly sha256: string;
  readonly header: HeaderInfo;
  /** Data rows read (blank rows, repeated headers and the notes block not counted). */
  readonly rowsRead: number;
  readonly accepted: number;
  readonly rejectedRows: number;
  /** Every problem, in row order. */
  readonly problems: readonly Problem[];
  /** Problems counted by rule. */
  readonly rejectedByRule: Readonly<Partial<Record<RuleId, number>>>;
  /** 不合格 / 缺考 / 舞弊 rows: counted, not errors (seed 004). */
  readonly skipped: Readonly<Record<Skipped, number>>;
  /** Each skipped row with what it was for, for the batch receipt and the counts by occupation × level × result. */
  readonly skippedRows: readonly { readonly rowNo: number; readonly result: Skipped; readonly occupation: string; readonly level?: LevelCode }[];
  readonly notes: readonly Note[];
  readonly notesOmitted: number;
}

export interface RosterValidation {
  readonly summary: RosterSummary;
  /**
   * The accepted rows in roster order, streamed from the spool or from a second read of the file. Without a range,
   * call it once: the spool is removed once read. With one (`count` rows from the `from`-th, 0-based; a queued
   * batch reads its chunks so), call it as often as needed and discard() at the end.
   */
  accepted(range?: { readonly from: number; readonly count: number }): AsyncGenerator<Row, void, undefined>;
  /** Removes the spool when accepted() will not be read (the run stopped before). */
  discard(): void;
}


export async function validateRoster(file: string, profile: Pick<Profile, 'scope'>, opts: ValidateRosterOptions): Promise<RosterValidation> {
  if (opts.issueDate !== undefined) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(opts.issueDate);
    if (!m || !isRealDate(Number(m[1]), Number(m[2]), Number(m[3]))) {
      throw new SkillcertError('E_USAGE', `Expected the issue date as YYYY-MM-DD (e.g. 2026-11-20) but received "${opts.issueDate}"`);
    }
  }
  const vopts: ValidateOptions = {
    scope: profile.scope,
    uncovered: opts.uncovered,
    today: chinaDate(opts.now),
    ...(opts.issueDate !== undefined ? { issueDate: opts.issueDate } : {}),
  };
  const openOpts = {
    ...(opts.headerScanRows !== undefined ? { headerScanRows: opts.headerScanRows } : {}),
    ...(opts.sheet !== undefined ? { sheet: opts.sheet } : {}),
  };
  const maxNotes = opts.maxNotes ?? 10_000;

  const roster = await openRoster(file, openOpts);
  let validator: RowValidator;
  try {
    validator = new RowValidator(roster.header, vopts);
  } catch (err) {
    await roster.close();
    throw err;
  }
  const sha256 = await hashFile(file).then((f) => f.sha256, (err: unknown) => {
    throw new SkillcertError('E_ROSTER', `cannot read roster ${basename(file)}: ${(err as Error).message}`, {}, { cause: err });
  });

  let rowsRead = 0;
  let accepted = 0;
  let rejectedRows = 0;
  let notesOmitted = 0;
  const problems: Problem[] = [];
  const notes: Note[] = [];
  const rejectedByRule: Partial<Record<RuleId, number>> = {};
  const skipped: Record<Skipped, number> = { 不合格: 0, 缺考: 0, 舞弊: 0 };
  const skippedRows: RosterSummary['skippedRows'][number][] = [];

  const spool = opts.spool !== undefined ? createWriteStream(opts.spool, { mode: 0o600 }) : undefined;
  const discard = () => {
    if (!opts.spool) return;
    spool?.destroy();
    rmSync(opts.spool, { force: true });
  };
  const spoolError = (err: unknown) => new SkillcertError('E_IO', `cannot write the accepted rows to ${opts.spool}: ${(err as Error).message}`, {}, { cause: err });
  let spoolFailure: Error | undefined;
  spool?.on('error', (err) => (spoolFailure ??= err));
  try {
    for await (const raw of roster.rows) {
      rowsRead++;
      const out = validator.validate(raw);
      if (spool && out.kind === 'accepted' && !spool.write(`${JSON.stringify(out.row)}\n`)) {
        await once(spool, 'drain').catch((err: unknown) => { throw spoolError(err); });
      }
      for (const n of out.notes) {
        if (notes.length < maxNotes) notes.push(n);
        else notesOmitted++;
      }
      if (out.kind === 'accepted') accepted++;
      else if (out.kind === 'skipped') {
        skipped[out.result]++;
        skippedRows.push({ rowNo: out.rowNo, result: out.result, occupation: out.occupation, ...(out.level ? { level: out.level } : {}) });
      }
      else {
        rejectedRows++;
        for (const p of out.problems) {
          problems.push(p);
          const rule = p.rule as RuleId;
          rejectedByRule[rule] = (rejectedByRule[rule] ?? 0) + 1;
        }
      }
    }
    if (spool) {
      if (!spool.closed) await once(spool.end(), 'close').catch((err: unknown) => { throw spoolError(err); });
      if (spoolFailure) throw spoolError(spoolFailure);
    }
  } catch (err) {
    discard();
    throw err;
  }

  const summary: RosterSummary = { file, sha256, header: roster.header, rowsRead, accepted, rejectedRows, problems, rejectedByRule, skipped, skippedRows, notes, notesOmitted };

  return {
    summary,
    discard,
    async *accepted(range) {
      const from = range?.from ?? 0;
      const end = range ? Math.min(accepted, from + range.count) : accepted;
      let n = 0;
      if (opts.spool !== undefined) {
        try {
          for await (const line of createInterface({ input: createReadStream(opts.spool), crlfDelay: Infinity })) {
            if (n >= end) break;
            if (n++ >= from) yield JSON.parse(line) as Row;
          }
        } finally {
          if (!range) discard();
        }
        if (n !== end) throw new SkillcertError('E_IO', `the spool of accepted rows ${opts.spool} held ${n} rows, ${accepted} were accepted; run the batch again`);
        return;
      }
      if ((await hashFile(file)).sha256 !== sha256) {
        throw new SkillcertError('E_ROSTER', `roster ${basename(file)} changed since it was validated; run the batch again`);
      }
      const again = await openRoster(file, openOpts);
      const v = new RowValidator(again.header, vopts);
      try {
        for await (const raw of again.rows) {
          if (n >= end) break;
          const out = v.validate(raw);
          if (out.kind === 'accepted' && n++ >= from) yield out.row;
        }
      } finally {
        await again.close();
      }
      if (n !== end) throw new SkillcertError('E_ROSTER', `roster ${basename(file)} read differently the second time (${n} accepted rows, ${accepted} before); run the batch again`);
    },
  };
}

/** A short human summary: rows read, accepted, rejected by reason, skipped by result. */
export function summarise(s: RosterSummary): string {
  const h = s.header;
  const where = `${basename(s.file)}${h.sheet !== undefined ? `, sheet "${h.sheet}"` : ''}${h.encoding ? ` (${h.encoding === 'gb18030' ? 'GBK/GB18030' : h.encoding.toUpperCase()} text)` : ''}, header row ${h.headerRow}`;
  const lines = [`roster ${where}: ${s.rowsRead} rows read`, `  accepted: ${s.accepted}`];
  lines.push(`  rejected: ${s.rejectedRows} row${s.rejectedRows === 1 ? '' : 's'}${s.problems.length > 0 ? ` (${s.problems.length} problem${s.problems.length === 1 ? '' : 's'})` : ''}`);
  const byRule = (Object.entries(s.rejectedByRule) as [RuleId, number][]).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  for (const [rule, n] of byRule) lines.push(`    ${String(n).padStart(5)}  ${RULES[rule] ?? rule} [${rule}]`);
  const sk = s.skipped;
  const skippedTotal = sk.不合格 + sk.缺考 + sk.舞弊;
  lines.push(`  skipped: ${skippedTotal} (不合格 ${sk.不合格}, 缺考 ${sk.缺考}, 舞弊 ${sk.舞弊})`);
  const nNotes = s.notes.length + s.notesOmitted;
  if (nNotes > 0) lines.push(`  safe corrections applied: ${nNotes} (listed in the rejects workbook)`);
  return lines.join('\n');
}
