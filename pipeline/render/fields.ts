/** The printed form of a record's fill-in fields (第八条, 第九条). */
import { dateEn, dateZh, EMPTY_JOB, idTypeInfo, levelLabel, type Numbered, type PrintedFields } from '../core/record.js';

export { dateEn, dateZh } from '../core/record.js';

export interface Reissue { readonly kind: 'lost' | 'damaged'; readonly date: string }

/** 第二十二条: a reissued certificate keeps its number and states 补发 (lost) or 换发 (damaged) with the date. */
export function reissueNote(r: Reissue): string {
  return `${r.kind === 'lost' ? '补发' : '换发'}日期：${dateZh(r.date)}`;
}

export function printedFields(rec: Numbered, reissue?: Reissue): PrintedFields {
  return {
    name: rec.name,
    idType: idTypeInfo(rec.idType).name,
    idNo: rec.idNo,
    occupation: rec.occupation,
    // 第九条: an occupation without 工种/职业方向 is filled in with ——
    job: rec.job.trim() === '' ? EMPTY_JOB : rec.job,
    level: levelLabel(rec.level),
    number: rec.number,
    issueDate: dateZh(rec.issueDate),
    issueDateEn: dateEn(rec.issueDate),
    stockSerial: rec.stockSerial,
    ...(reissue ? { reissueNote: reissueNote(reissue) } : {}),
  };
}
