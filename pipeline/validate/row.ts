/**
 * One raw row → an accepted Row, a rejected row with all its problems, or a skipped row (不合格, 缺考,
 * 舞弊: counted, not errors). Every rule runs, so the user sees every problem of a row at once.
 */
import { basename } from 'node:path';
import { SkillcertError, type Problem } from '../core/errors.js';
import { FIELD_LABELS, FORMULA_WITHOUT_RESULT, fieldLabel, type Field, type HeaderInfo, type RawCell, type RawRow } from '../ingest/types.js';
import type { LevelCode, Result, Row } from '../core/record.js';
import { validateDate } from './dates.js';
import { DuplicateTracker } from './duplicates.js';
import { checkCoverage, type Uncovered } from './fonts.js';
import { validateGender } from './gender.js';
import { validateIdNumber } from './id-number.js';
import { validateIdType } from './id-type.js';
import { RowIssues, type Note } from './issues.js';
import { parseLevel, validateLevel } from './level.js';
import { checkNameCharacters, normaliseName } from './names.js';
import { validateResult } from './result.js';
import { ScopeIndex, type Scope } from './scope.js';
import { cleanText, trimAll } from './text.js';
import { maskId } from '../core/privacy.js';

export type Skipped = Exclude<Result, '合格'>;

export type RowOutcome =
  | { readonly kind: 'accepted'; readonly rowNo: number; readonly row: Row; readonly notes: readonly Note[] }
  | { readonly kind: 'rejected'; readonly rowNo: number; readonly problems: readonly Problem[]; readonly notes: readonly Note[] }
  | {
      readonly kind: 'skipped';
      readonly rowNo: number;
      readonly result: Skipped;
      /** As written, for the counts by occupation × level × result (not validated: the row gets no certificate). */
      readonly occupation: string;
      readonly level?: LevelCode;
      readonly notes: readonly Note[];
    };

export interface ValidateOptions {
  /** The organisation's registered scope (profile.scope). */
  readonly scope: Scope;
  /** Font coverage, injected by the render stage (see fonts.ts). */
  readonly uncovered: Uncovered;
  /** Today in China, YYYY-MM-DD (from the run's clock): no birth date may be after it. */
  readonly today: string;
  /** 发证日期 for every row when the roster has no 发证日期 column (YYYY-MM-DD). */
  readonly issueDate?: string;
}

/** ID columns whose header itself says the document is a 居民身份证 (the Sichuan 申报汇总表 has 身份证). */
const RESIDENT_ID_HEADER = /^(身份证|身份证号|身份证号码)$/;

/** Messages that say what to do about an empty required cell. */
function emptyMessage(label: string, row: number, merged: boolean): string {
  const hint = merged ? ' (if the column uses merged cells, unmerge them and repeat the value in every row)' : '';
  return `${label} is empty in row ${row}; fill it in${hint} — 第九条: no fill-in field of a certificate may be empty`;
}

export class RowValidator {
  private readonly scope: ScopeIndex;
  private readonly dupes = new DuplicateTracker();
  private readonly label: (f: Field) => string;

  constructor(
    private readonly header: HeaderInfo,
    private readonly opts: ValidateOptions,
  ) {
    requireColumns(header, opts);
    this.scope = new ScopeIndex(opts.scope);
    this.label = (f) => fieldLabel(header, f);
  }

  validate(raw: RawRow): RowOutcome {
    const { rowNo } = raw;
    const issues = new RowIssues(rowNo);
    const L = this.label;
    const h = this.header;

    // Error cells and formulas without a saved result: report once, then treat as empty.
    const cells: Partial<Record<Field, RawCell>> = {};
    const broken = new Set<Field>();
    for (const [f, c] of Object.entries(raw.cells) as [Field, RawCell][]) {
      if (c.kind === 'error') {
        broken.add(f);
        const value = f === 'idNo' ? undefined : c.text;
        if (c.text === FORMULA_WITHOUT_RESULT) {
          issues.problem(L(f), 'cell.formulaNoResult', `${L(f)} in row ${rowNo} is a formula saved without its result (formulas are never evaluated here); open the roster in Excel or WPS, save it, or type the value instead`, value);
        } else {
          issues.problem(L(f), 'cell.error', `${L(f)} in row ${rowNo} shows the error ${c.text}; fix the formula or type the value`, value);
        }
        continue;
      }
      cells[f] = c;
    }

    /** A required value is missing (an error cell was reported already). */
    const empty = (f: Field, value: string, merged = false): boolean => {
      if (value !== '') return false;
      if (!broken.has(f)) issues.problem(L(f), 'field.empty', emptyMessage(L(f), rowNo, merged));
      return true;
    };

    // 认定结果 first: 不合格 / 缺考 / 舞弊 rows are counted, not validated further (seed 004).
    const result = broken.has('result')
      ? undefined
      : validateResult(cells.result, cells.award, {
          issues,
          resultField: L('result'),
          awardField: L('award'),
          hasResult: h.columns.result !== undefined,
          hasAward: h.columns.award !== undefined,
        });
    if (result !== undefined && result !== '合格') {
      const level = parseLevel(trimAll(cells.level?.text ?? ''));
      return {
        kind: 'skipped', rowNo, result, occupation: trimAll(cells.occupation?.text ?? '').replace(/[（(].*$/u, ''),
        ...(typeof level === 'number' ? { level } : {}), notes: issues.notes,
      };
    }

    // 姓名
    let name = cleanText(cells.name, L('name'), issues);
    if (!empty('name', name)) {
      name = normaliseName(name, L('name'), issues);
      if (checkNameCharacters(name, L('name'), issues)) checkCoverage(name, L('name'), this.opts.uncovered, issues);
    }

    // 证件类型 + 证件号码
    const idCell = cells.idNo;
    const idType = validateIdType(cells.idType, idCell?.text, {
      issues,
      field: L('idType'),
      columnSaysResident: h.columns.idType === undefined && RESIDENT_ID_HEADER.test((h.columns.idNo?.header ?? '').replace(/\s/g, '')),
    });
    let idNo: string | undefined;
    if (!empty('idNo', idCell && trimAll(idCell.text) !== '' ? idCell.text : '')) {
      idNo = validateIdNumber(idCell!, idType, { issues, field: L('idNo'), today: this.opts.today });
      if (idNo !== undefined) checkCoverage(idNo, L('idNo'), this.opts.uncovered, issues, maskId(idNo));
    }

    // 性别 (optional)
    const gender = validateGender(cleanText(cells.gender, L('gender'), issues), L('gender'), issues, idType === '201' ? idNo : undefined);

    // 职业名称 / 工种 / 等级
    const occField = L('occupation');
    const jobField = h.occupationCarriesJob ? occField : L('job');
    let occupation = cleanText(cells.occupation, occField, issues);
    let job = cleanText(cells.job, jobField, issues);
    if (h.occupationCarriesJob && occupation !== '') ({ occupation, job } = this.scope.split(occupation));
    empty('occupation', occupation, true);
    const levelText = cleanText(cells.level, L('level'), issues);
    const level = empty('level', levelText, true) ? undefined : validateLevel(levelText, L('level'), issues);
    if (occupation !== '' && level !== undefined) {
      const registered = this.scope.check(occupation, job, level, { occupation: occField, job: jobField, level: L('level') }, issues);
      if (registered) {
        if (registered.occupation !== occupation) issues.note(occField, occupation, registered.occupation, 'written as registered in the scope');
        if (registered.job !== job) issues.note(jobField, job, registered.job, 'written as registered in the scope');
        occupation = registered.occupation;
        job = registered.job;
        checkCoverage(occupation, occField, this.opts.uncovered, issues);
        checkCoverage(job, jobField, this.opts.uncovered, issues);
      }
    }

    // 发证日期
    let issueDate: string | undefined;
    if (h.columns.issueDate === undefined) {
      issueDate = this.opts.issueDate;
    } else if (!empty('issueDate', cells.issueDate && trimAll(cells.issueDate.text) !== '' ? cells.issueDate.text : '', true)) {
      issueDate = validateDate(cells.issueDate!, { issues, field: L('issueDate'), date1904: h.date1904 });
    }

    // 照片: a name inside the photo folder, never a path out of it.
    const photo = cleanText(cells.photo, L('photo'), issues);
    if (photo !== '' && (/^([a-zA-Z]:)?[\\/]/.test(photo) || /(^|[\\/])\.\.([\\/]|$)/.test(photo) || photo.includes('\0'))) {
      issues.problem(L('photo'), 'photo.path', `${L('photo')} "${photo}" in row ${rowNo} points outside the photo folder; give the file name only, e.g. 张三.jpg`, photo);
    }

    const employer = cleanText(cells.employer, L('employer'), issues);
    const award = cleanText(cells.award, L('award'), issues);
    const competitionCategory = cleanText(cells.competitionCategory, L('competitionCategory'), issues);

    if (!issues.ok || result === undefined || idType === undefined || idNo === undefined || level === undefined || issueDate === undefined) {
      return { kind: 'rejected', rowNo, problems: issues.problems, notes: issues.notes };
    }

    // 同一人同一资格: the second and later occurrences are not issued.
    const first = this.dupes.seen({ idType, idNo, occupation, job, level }, rowNo);
    if (first !== undefined) {
      issues.problem(
        L('idNo'),
        'duplicate.inRoster',
        `row ${rowNo} is the same person and qualification (ID type, ID number, occupation, job, level) as row ${first}; it is not issued twice — delete it or correct it`,
        maskId(idNo),
      );
      return { kind: 'rejected', rowNo, problems: issues.problems, notes: issues.notes };
    }

    const row: Row = {
      rowNo,
      name,
      idType,
      idNo,
      occupation,
      job,
      level,
      result: '合格',
      issueDate,
      ...(gender ? { gender } : {}),
      ...(employer ? { employer } : {}),
      ...(photo ? { photo } : {}),
      ...(award ? { award } : {}),
      ...(competitionCategory ? { competitionCategory } : {}),
    };
    return { kind: 'accepted', rowNo, row, notes: issues.notes };
  }
}

/**
 * Columns without which no row could be issued: one clear error for the roster instead of the same
 * problem on every row.
 */
export function requireColumns(header: HeaderInfo, opts: Pick<ValidateOptions, 'issueDate'>): void {
  const c = header.columns;
  const missing: string[] = [];
  if (!c.occupation) missing.push(`${FIELD_LABELS.occupation} (or 申报职业, 申报职业（工种）)`);
  if (!c.level) missing.push(`${FIELD_LABELS.level} (or 申报等级, 等级)`);
  if (!c.result && !c.award) missing.push(`${FIELD_LABELS.result} (or, for a competition, ${FIELD_LABELS.award})`);
  if (!c.issueDate && !opts.issueDate) missing.push(`${FIELD_LABELS.issueDate} (or give the batch's issue date)`);
  if (missing.length === 0) return;
  const where = `${basename(header.file)}${header.sheet !== undefined ? ` sheet "${header.sheet}"` : ''} header row ${header.headerRow}`;
  throw new SkillcertError('E_ROSTER', `roster ${where} has no column for ${missing.join('; ')}; add the column${missing.length > 1 ? 's' : ''} and run again`, { field: 'header' });
}
