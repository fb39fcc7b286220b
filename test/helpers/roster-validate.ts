/** Small builders for validation tests: a header, raw rows, a fake font-coverage check, a scope. */
import { FIELD_LABELS, type Field, type HeaderInfo, type RawCell, type RawRow } from '../../pipeline/ingest/types.js';
import type { FontRole, Uncovered } from '../../pipeline/validate/fonts.js';
import type { LevelCode } from '../../pipeline/core/record.js';

export function text(s: string): RawCell {
  return { kind: 'text', text: s };
}
export function num(n: number): RawCell {
  return { kind: 'number', text: String(n), value: n };
}

/** A header with the given fields in column order, headers by their official names unless overridden. */
export function header(fields: readonly Field[], over: Partial<Record<Field, string>> = {}, extra: Partial<HeaderInfo> = {}): HeaderInfo {
  const columns: HeaderInfo['columns'] = {};
  fields.forEach((f, i) => {
    columns[f] = { col: i + 1, header: over[f] ?? FIELD_LABELS[f] };
  });
  return { file: 'roster.xlsx', format: 'xlsx', sheet: '名单', headerRow: 1, columns, occupationCarriesJob: false, otherColumns: [], meta: {}, preamble: [], date1904: false, ...extra };
}

export const ALL_FIELDS: readonly Field[] = ['seq', 'name', 'gender', 'idType', 'idNo', 'employer', 'occupation', 'job', 'level', 'result', 'photo', 'issueDate'];

export function raw(rowNo: number, cells: Partial<Record<Field, RawCell | string>>): RawRow {
  const out: Partial<Record<Field, RawCell>> = {};
  for (const [f, c] of Object.entries(cells) as [Field, RawCell | string][]) out[f] = typeof c === 'string' ? text(c) : c;
  return { rowNo, cells: out };
}

/** A fake font chain that covers everything except the characters in `missing`. */
export function fakeUncovered(missing = '', calls?: { text: string; role: FontRole }[]): Uncovered {
  const gone = new Set([...missing]);
  return (t, role) => {
    calls?.push({ text: t, role });
    return [...new Set([...t].filter((c) => gone.has(c)))];
  };
}

export const TEST_SCOPE: { occupation: string; jobs: string[]; levels: LevelCode[] }[] = [
  { occupation: '电工', jobs: ['维修电工', '安装电工'], levels: [3, 4, 5] },
  { occupation: '车工', jobs: [], levels: [2, 3, 4] },
  { occupation: '中式烹调师', jobs: [], levels: [3, 4, 5] },
  { occupation: '电子产品维修工（家电维修）', jobs: [], levels: [4, 5] },
];

export const TODAY = '2026-11-20';
