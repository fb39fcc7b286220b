/**
 * Recognising the header row by its names (SPEC §3: not by a fixed row — official templates carry
 * title rows and a header block above it, see the Sichuan 申报汇总表 in seed 001) and reading that
 * header block as metadata.
 */
import { SkillcertError } from '../core/errors.js';
import type { ColumnInfo, Field } from './types.js';

/**
 * Accepted headers per field. Matching ignores case, spaces, full-width/half-width differences
 * (（）→()), a required-marker `*`, a trailing colon and notes such as (必填).
 */
const ALIASES: Readonly<Record<Field, readonly string[]>> = {
  seq: ['序号', 'seq', 'no', '#', 'serial'],
  name: ['姓名', '考生姓名', '持证人姓名', '选手姓名', 'name', 'fullname'],
  gender: ['性别', 'gender', 'sex'],
  idType: ['证件类型', 'idtype'],
  // A bare "ID" is left out on purpose: in English exports it is usually a record number.
  idNo: ['证件号码', '证件号', '身份证', '身份证号', '身份证号码', 'idno', 'idnumber', 'idcardno'],
  employer: ['工作单位', '所在单位', '单位名称', 'employer', 'workunit', 'organisation', 'organization', 'company'],
  occupation: ['职业名称', '申报职业', '职业', 'occupation'],
  job: ['工种/职业方向', '工种', '职业方向', '工种名称', 'job', 'jobdirection'],
  level: ['职业技能等级', '申报等级', '等级', '技能等级', 'level', 'skilllevel'],
  result: ['认定结果', '评价结果', 'result'],
  award: ['奖牌类别/名次', '奖牌类别', '名次', '获奖等次', 'award', 'award/rank'],
  photo: ['照片', '照片文件名', 'photo'],
  issueDate: ['发证日期', 'issuedate'],
  competitionCategory: ['竞赛类别', 'competitioncategory'],
};

/** Sichuan 申报职业（工种）: one column that may carry the job in brackets, 电工（维修电工）. */
const OCCUPATION_WITH_JOB = ['申报职业(工种)', '职业(工种)', '职业名称(工种)'];

/** Header text → comparison key. */
export function headerKey(text: string): string {
  let s = text.normalize('NFKC').toLowerCase();
  s = s.replace(/\s+/g, '');
  s = s.replace(/^\*+|\*+$/g, '');
  s = s.replace(/[:：]+$/, '');
  s = s.replace(/\((必填|选填|必填项|选填项|可选|optional|required)\)$/, '');
  // English aliases: "ID No.", "id_no", "Issue-Date" all compare equal
  if (/^[a-z0-9 ._\-/#]+$/.test(s)) s = s.replace(/[._\-]/g, '');
  return s;
}

const LOOKUP = new Map<string, { field: Field; carriesJob: boolean }>();
for (const [field, names] of Object.entries(ALIASES) as [Field, readonly string[]][]) {
  for (const n of names) LOOKUP.set(headerKey(n), { field, carriesJob: false });
}
for (const n of OCCUPATION_WITH_JOB) LOOKUP.set(headerKey(n), { field: 'occupation', carriesJob: true });

export function matchHeader(text: string): { field: Field; carriesJob: boolean } | undefined {
  return LOOKUP.get(headerKey(text));
}

export interface HeaderMatch {
  readonly columns: Partial<Record<Field, ColumnInfo>>;
  readonly occupationCarriesJob: boolean;
  readonly otherColumns: ColumnInfo[];
}

/** Fields a header row must name to be taken as the header (the rest is checked by validation). */
export const HEADER_ANCHORS: readonly Field[] = ['name', 'idNo'];
const MIN_FIELDS = 3;

/**
 * Whether a row of texts is the header row: it names 姓名 and 证件号码 (or 身份证) and at least three
 * known fields. Returns the column map, or the number of recognised names (to explain a miss).
 */
export function recogniseHeader(texts: readonly (string | undefined)[], where: string): HeaderMatch | number {
  const columns: Partial<Record<Field, ColumnInfo>> = {};
  const otherColumns: ColumnInfo[] = [];
  let carriesJob = false;
  let known = 0;
  const seen = new Map<Field, ColumnInfo>();
  const clashes: string[] = [];
  texts.forEach((raw, col) => {
    const header = raw?.trim();
    if (!header) return;
    const m = matchHeader(header);
    if (!m) {
      otherColumns.push({ col, header });
      return;
    }
    known++;
    const first = seen.get(m.field);
    if (first) {
      clashes.push(`"${first.header}" (column ${columnLetter(first.col)}) and "${header}" (column ${columnLetter(col)})`);
      return;
    }
    seen.set(m.field, { col, header });
    columns[m.field] = { col, header };
    if (m.field === 'occupation') carriesJob = m.carriesJob;
  });
  if (!HEADER_ANCHORS.every((f) => columns[f]) || known < MIN_FIELDS) return known;
  if (clashes.length > 0) {
    // Two columns for one field: taking either would be a guess.
    throw new SkillcertError('E_ROSTER', `${where}: the header row has two columns for the same field: ${clashes.join('; ')}; rename or delete one of them`, { field: 'header' });
  }
  return { columns, occupationCarriesJob: carriesJob && !columns.job, otherColumns };
}

/** Spreadsheet column letter for a 1-based column number (messages only). */
export function columnLetter(col: number): string {
  let s = '';
  for (let n = col; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s || '?';
}

/**
 * The header block above the header row, e.g. (seed 001)
 *   大赛名称：第三届四川技能大赛
 *   大赛牵头主办单位名称（盖章）：…   单位地址：…   联系电话：…
 * as label → value. Labels start with a letter and end with a colon; a bracketed instruction such as
 * （盖章） is dropped from the label. A label without a value maps to ''.
 */
export function parseHeaderBlock(lines: readonly string[]): { title?: string; meta: Record<string, string> } {
  const meta: Record<string, string> = {};
  let title: string | undefined;
  const label = /(?<=^|\s)(\p{L}[^\s:：]*?)\s*[:：]/gu;
  for (const line of lines) {
    const matches = [...line.matchAll(label)];
    if (matches.length === 0) {
      if (title === undefined && line.trim()) title = line.replace(/\s+/g, ' ').trim();
      continue;
    }
    matches.forEach((m, i) => {
      const start = (m.index ?? 0) + m[0].length;
      const end = i + 1 < matches.length ? (matches[i + 1]!.index ?? line.length) : line.length;
      const key = m[1]!.replace(/[（(][^）)]*[）)]/g, '').trim();
      if (!key) return;
      meta[key] = line.slice(start, end).replace(/\s+/g, ' ').trim();
    });
  }
  return title === undefined ? { meta } : { title, meta };
}
