/**
 * 证件类型 (seed 002, 职业技能等级数据修改信息表 说明 3): the code (201 …) or the name (居民身份证 …),
 * or both as a drop-down list writes them ("201-居民身份证"). 身份证 is taken for 201.
 * An empty type is taken as 201 only when the number has the shape of a mainland 居民身份证
 * (18 characters, first digit 1-6); anything else would be a guess.
 */
import { ID_TYPES, type IdTypeCode } from '../core/record.js';
import type { RawCell } from '../ingest/types.js';
import type { RowIssues } from './issues.js';
import { compareKey, halfWidthAlnum, trimAll } from './text.js';

function nameKey(s: string): string {
  return compareKey(s)
    .replace(/[《》<>]/g, '')
    .replace(/^中华人民共和国/, '');
}

const BY_NAME = new Map<string, IdTypeCode>();
for (const t of ID_TYPES) BY_NAME.set(nameKey(t.name), t.code);
// Tolerated short forms.
BY_NAME.set(nameKey('身份证'), '201');
BY_NAME.set(nameKey('居民身份证号码'), '201');
const CODES = new Set<string>(ID_TYPES.map((t) => t.code));

/** Code for a type text, 'mismatch' when a code and a name disagree, undefined when unknown. */
export function parseIdType(text: string): IdTypeCode | 'mismatch' | undefined {
  const k = nameKey(text);
  if (!k) return undefined;
  const m = /^(\d{3})(?:[-=:：.、_]?(.*))?$/.exec(k);
  if (m) {
    const code = m[1]!;
    if (!CODES.has(code)) return undefined;
    const rest = m[2] ?? '';
    if (rest === '') return code as IdTypeCode;
    const named = BY_NAME.get(rest);
    if (named === undefined) return undefined;
    return named === code ? (code as IdTypeCode) : 'mismatch';
  }
  return BY_NAME.get(k);
}

/** Shape of a mainland 居民身份证 number, for inferring an empty type. */
const LOOKS_RESIDENT = /^[1-6]\d{16}[\dXx]$/;

export interface IdTypeContext {
  readonly issues: RowIssues;
  readonly field: string;
  /** The ID column itself says 身份证 (Sichuan 申报汇总表) and there is no type column. */
  readonly columnSaysResident: boolean;
}

export function validateIdType(cell: RawCell | undefined, idText: string | undefined, ctx: IdTypeContext): IdTypeCode | undefined {
  const { issues, field } = ctx;
  const text = cell ? trimAll(cell.text) : '';
  if (text === '') {
    if (ctx.columnSaysResident) return '201';
    const id = idText === undefined ? '' : halfWidthAlnum(trimAll(idText));
    if (LOOKS_RESIDENT.test(id)) {
      issues.note(field, '', '201', '证件类型 was empty; set to 201 居民身份证 because the ID number has the 18-character 居民身份证 form');
      return '201';
    }
    issues.problem(field, 'idType.empty', `${field} is empty in row ${issues.rowNo}; fill in the code or name of the ID type, e.g. 201 or 居民身份证, 227 中国护照, 208 外国护照`);
    return undefined;
  }
  const code = parseIdType(text);
  if (code === 'mismatch') {
    issues.problem(field, 'idType.mismatch', `${field} "${text}" has a code and a name that disagree; keep one of them (e.g. 201 or 居民身份证) in row ${issues.rowNo}`, text);
    return undefined;
  }
  if (code === undefined) {
    issues.problem(
      field,
      'idType.unknown',
      `${field} "${text}" is not an ID type of seed 002; use one of ${ID_TYPES.map((t) => `${t.code} ${t.name}`).join(', ')} (code or name) in row ${issues.rowNo}`,
      text,
    );
    return undefined;
  }
  return code;
}
