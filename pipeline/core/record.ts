/**
 * The one record that flows through the stages, growing stage by stage:
 * Row (ingest + validate) → Numbered (number) → Rendered (render + stamp) → Signed (sign).
 */
import levelsData from '../data/levels.json' with { type: 'json' };
import idTypesData from '../data/id-types.json' with { type: 'json' };

export type LevelCode = 1 | 2 | 3 | 4 | 5;
export type IdTypeCode = '201' | '227' | '210' | '237' | '213' | '238' | '208' | '233' | '239' | '240' | '241' | '299';
/** 认定结果 (seed 004): only 合格 rows get certificates. */
export type Result = '合格' | '不合格' | '缺考' | '舞弊';

export interface LevelInfo { readonly code: LevelCode; readonly grade: string; readonly title: string; readonly en: string }
export interface IdTypeInfo { readonly code: IdTypeCode; readonly name: string; readonly en: string }

export const LEVELS: readonly LevelInfo[] = levelsData.levels as LevelInfo[];
export const ID_TYPES: readonly IdTypeInfo[] = idTypesData.idTypes as IdTypeInfo[];

export function levelInfo(code: LevelCode): LevelInfo {
  const info = LEVELS.find((l) => l.code === code);
  if (!info) throw new RangeError(`Expected a level code 1-5 but received ${String(code)}`);
  return info;
}

/** 第九条: "中文数字+级/等级名称", e.g. 三级/高级工. */
export function levelLabel(code: LevelCode): string {
  const l = levelInfo(code);
  return `${l.grade}/${l.title}`;
}

export function idTypeInfo(code: IdTypeCode): IdTypeInfo {
  const info = ID_TYPES.find((t) => t.code === code);
  if (!info) throw new RangeError(`Expected an ID type code from seed 002 but received ${code}`);
  return info;
}

/** A validated roster row that is to get a certificate. */
export interface Row {
  readonly rowNo: number;
  readonly name: string;
  readonly gender?: string;
  readonly idType: IdTypeCode;
  readonly idNo: string;
  readonly employer?: string;
  readonly occupation: string;
  /** 工种/职业方向; empty when the occupation has none (printed as ——, 第九条). */
  readonly job: string;
  readonly level: LevelCode;
  readonly result: Result;
  /** Photo file name, relative to the roster's photo folder. */
  readonly photo?: string;
  /** 发证日期, YYYY-MM-DD. */
  readonly issueDate: string;
  /** Competitions: 奖牌类别/名次 and 竞赛类别. */
  readonly award?: string;
  readonly competitionCategory?: string;
}

export interface Numbered extends Row {
  /** 证书编号, 22 characters. */
  readonly number: string;
  /** The "No." blank-stock serial printed top right (流水号). */
  readonly stockSerial: string;
  /** The registry's status list index (QR claim 8); undefined for certificates numbered before status lists. */
  readonly statusIndex?: number;
}

export interface Signed extends Numbered {
  readonly file: string;
  readonly sha256: string;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; rowNo: number; problem: import('./errors.js').Problem };

/** Everything printed in the per-certificate fields of the page, already in printed form. */
export interface PrintedFields {
  readonly name: string;
  readonly idType: string;
  readonly idNo: string;
  readonly occupation: string;
  readonly job: string;
  readonly level: string;
  readonly number: string;
  readonly issueDate: string;
  readonly issueDateEn: string;
  readonly stockSerial: string;
  /** 第二十二条: 补发/换发 with its date, only on a reissued certificate. */
  readonly reissueNote?: string;
}

/** 第九条: an empty job is printed as ——. */
export const EMPTY_JOB = '——';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function ymd(iso: string): [number, number, number] {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) throw new RangeError(`Expected a date as YYYY-MM-DD but received ${iso}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** The printed issue date: 2026年11月20日. */
export function dateZh(iso: string): string {
  const [y, m, d] = ymd(iso);
  return `${y}年${m}月${d}日`;
}

/** The printed English issue date: November 20, 2026. */
export function dateEn(iso: string): string {
  const [y, m, d] = ymd(iso);
  return `${MONTHS[m - 1]} ${d}, ${y}`;
}
