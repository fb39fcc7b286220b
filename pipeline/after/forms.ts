/**
 * The office forms for corrections (SPEC §8; seed 002, 附件4), made from the corrections the registry recorded
 * in a period (第十七条):
 *
 * - 职业技能等级数据修改信息表: one row per name or ID-number correction, in the 14 columns of the sample, codes and
 *   dates as its 说明 3-5 require; full values, because 说明 2 requires 原证书编号/原证件号码/原姓名 to match the
 *   national query system exactly. Photo-only corrections change no data column and are left out of it.
 * - 北京市职业技能等级证书信息更正申请表: the header block, one row per correction (photo included), the reasons,
 *   and the 备注 — names and ID numbers masked as in the sample.
 *
 * Every cell goes through safeCell; each workbook is written under a temporary name and renamed, and each handed-out
 * file is recorded as an export in the audit trail (第二十条); a file that cannot be recorded is removed again.
 */
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import ExcelJS from 'exceljs';
import { withTempFile } from '../core/files.js';
import { SkillcertError } from '../core/errors.js';
import { districtName } from '../number/index.js';
import type { Profile } from '../core/profile.js';
import type { AuditEntry, CorrectedField, CorrectionWithCertificate, Registry } from '../registry/index.js';
import { beijingDate } from '../registry/index.js';
import { safeCell } from '../core/cells.js';
import FORMS from './data/forms.json' with { type: 'json' };
import { maskIdOnForm, maskName } from '../core/privacy.js';

/** What the forms need of a profile: the organisation names (评价机构, and for style two the 发证机构) and its district. */
export type FormsProfile = Pick<Profile, 'id' | 'name' | 'styleId' | 'branch' | 'numbering'>;

/** The office details the forms ask for and a profile does not hold. */
export interface OfficeDetails {
  /** 机构备案号. */
  readonly filingNo: string;
  /** 办公地址. */
  readonly address: string;
  /** 注册地辖区; defaults to the district of the profile's Beijing numbering (表 4), e.g. 海淀区. */
  readonly district?: string;
  /** 经办人. */
  readonly handler: string;
  /** 联系电话. */
  readonly phone: string;
  /** 填表人 of the 数据修改信息表; defaults to the handler. */
  readonly filledBy?: string;
}

/** 评价机构 and 发证机构 (第十条): for style two the branch issues, otherwise the evaluation organisation is both. */
export function organisations(p: FormsProfile): { evaluation: string; issuing: string } {
  const evaluation = p.name.zh;
  if (p.styleId === 'style-two') {
    if (!p.branch) {
      throw new SkillcertError('E_PROFILE', `profile ${p.id}: style two needs "branch" (the issuing organisation, 第十条) to fill in 发证机构`, { field: 'branch' });
    }
    return { evaluation, issuing: p.branch.name.zh };
  }
  return { evaluation, issuing: evaluation };
}

/** 发证日期 as YYYY-MM-DD (说明 5): the printed issue date, else the numbering date (第十三条: 发证日期即证书编号生成日期). */
export function issueDateOf(c: CorrectionWithCertificate['certificate']): string {
  const v = c.printed.issueDate;
  if (typeof v === 'string') {
    const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v.trim());
    if (iso) return v.trim();
    const zh = /^(\d{4})年(\d{1,2})月(\d{1,2})日$/.exec(v.trim());
    if (zh) return `${zh[1]}-${zh[2]!.padStart(2, '0')}-${zh[3]!.padStart(2, '0')}`;
  }
  return beijingDate(new Date(c.numberedAt));
}

type Row = readonly (string | number | null)[];

/** The rows of the 数据修改信息表 in the column order of 附件4; photo-only corrections have none. */
export function dataModificationRows(corrections: readonly CorrectionWithCertificate[], profile: FormsProfile): Row[] {
  const { evaluation, issuing } = organisations(profile);
  return corrections
    .filter((c) => c.fields.includes('name') || c.fields.includes('idNo'))
    .map((c) => {
      const cert = c.certificate;
      const employer = typeof cert.printed.employer === 'string' ? cert.printed.employer : '';
      return [
        c.number, // 原证书编号: a correction keeps the number (第十七条)
        c.idNoBefore, // 原证件号码
        c.nameBefore ?? '', // 原姓名
        c.nameAfter ?? '', // 姓名
        c.idType, // 证件类型, as its code (说明 3)
        c.idNoAfter, // 证件号码
        employer, // 所在单位
        cert.occupation, // 职业名称
        cert.job, // 工种名称: empty when the occupation has none, as in the sample
        String(cert.level), // 职业技能等级, as its code 1-5 (说明 4)
        c.number, // 证书编号
        issueDateOf(cert), // 发证日期, YYYY-MM-DD (说明 5)
        evaluation, // 评价机构
        issuing, // 发证机构
      ];
    });
}

const ITEMS = FORMS.application.items as Record<CorrectedField, string>;

/** The table rows of the 信息更正申请表: 序号 | 认定批次 | 证书编号 | 姓名 | 身份证号 | 更正项 | 更正后信息 | 附件, masked. */
export function applicationRows(corrections: readonly CorrectionWithCertificate[]): Row[] {
  return corrections.map((c, k) => {
    const after = c.fields.includes('name') ? maskName(c.nameAfter ?? '') : c.fields.includes('idNo') ? maskIdOnForm(c.idNoAfter) : '';
    const attachments = [
      ...(c.fields.includes('name') || c.fields.includes('idNo') ? [FORMS.application.attachments.identity] : []),
      ...(c.fields.includes('photo') ? [FORMS.application.attachments.photo] : []),
    ];
    return [
      k + 1,
      c.certificate.batchId, // 认定批次: the batch that numbered it
      c.number,
      maskName(c.nameBefore ?? ''),
      maskIdOnForm(c.idNoBefore),
      c.fields.map((f) => ITEMS[f]).join('、'),
      after,
      attachments.join(''),
    ];
  });
}

const THIN = { style: 'thin' as const };
const BOX = { top: THIN, left: THIN, bottom: THIN, right: THIN };

/** The only way this module writes a cell: through safeCell. */
function put(ws: ExcelJS.Worksheet, row: number, col: number, value: unknown, style: { bold?: boolean; box?: boolean; wrap?: boolean; align?: 'left' | 'center' | 'right' } = {}): void {
  const cell = ws.getCell(row, col);
  cell.value = safeCell(value);
  if (style.bold) cell.font = { bold: true };
  if (style.box) cell.border = BOX;
  cell.alignment = { vertical: 'middle', wrapText: style.wrap ?? true, ...(style.align && { horizontal: style.align }) };
}

function boxRange(ws: ExcelJS.Worksheet, row: number, from: number, to: number): void {
  for (let c = from; c <= to; c++) ws.getCell(row, c).border = BOX;
}

/** Writes a workbook under a temporary name in the target folder and renames it: a reader never sees half a file. */
async function writeAtomically(file: string, at: Date, fill: (wb: ExcelJS.Workbook) => void): Promise<void> {
  await withTempFile(file, async (tmp) => {
    const wb = new ExcelJS.Workbook();
    wb.creator = 'skillcert';
    wb.created = at;
    wb.modified = at;
    fill(wb);
    await wb.xlsx.writeFile(tmp);
  });
}

/** Writes the 职业技能等级数据修改信息表 to `file`. */
export async function writeDataModificationTable(
  file: string,
  corrections: readonly CorrectionWithCertificate[],
  profile: FormsProfile,
  office: Pick<OfficeDetails, 'handler' | 'phone' | 'filledBy'>,
  at: Date,
): Promise<number> {
  const f = FORMS.dataModification;
  const rows = dataModificationRows(corrections, profile);
  const n = f.columns.length;
  await writeAtomically(file, at, (wb) => {
    const ws = wb.addWorksheet(f.title, { pageSetup: { orientation: 'landscape', paperSize: 9, fitToPage: true, fitToWidth: 1, fitToHeight: 0 } });
    ws.columns = f.widths.map((width) => ({ width }));
    put(ws, 1, 1, f.title, { bold: true, align: 'center' });
    ws.getCell(1, 1).font = { bold: true, size: 16 };
    ws.mergeCells(1, 1, 1, n);
    ws.getRow(1).height = 30;
    put(ws, 2, 1, f.unitLine, { wrap: false });
    ws.mergeCells(2, 1, 2, n);
    f.columns.forEach((h, k) => put(ws, 3, k + 1, h, { bold: true, box: true, align: 'center' }));
    rows.forEach((r, i) => r.forEach((v, k) => put(ws, 4 + i, k + 1, v, { box: true })));
    let r = 4 + rows.length + 1;
    for (const [label, value] of [
      [f.filledBy, office.filledBy ?? office.handler],
      [f.phone, office.phone],
      [f.filledOn, beijingDate(at)],
    ] as const) {
      put(ws, r, 1, `${label}${value}`, { wrap: false });
      ws.mergeCells(r, 1, r, 4);
      r += 1;
    }
    r += 1;
    put(ws, r++, 1, f.notesTitle, { wrap: false });
    for (const note of f.notes) {
      put(ws, r, 1, note);
      ws.mergeCells(r, 1, r, n);
      ws.getRow(r).height = 32;
      r += 1;
    }
  });
  return rows.length;
}

/** Writes the 北京市职业技能等级证书信息更正申请表 to `file`. */
export async function writeCorrectionApplication(
  file: string,
  corrections: readonly CorrectionWithCertificate[],
  profile: FormsProfile,
  office: OfficeDetails,
  at: Date,
): Promise<number> {
  const f = FORMS.application;
  const rows = applicationRows(corrections);
  const n = f.columns.length; // 8
  const district = office.district ?? (profile.numbering.rule === 'beijing' ? districtName(profile.numbering.district) : undefined) ?? '';
  const header: readonly (readonly [string, string, string, string])[] = [
    [f.headerRows[0]![0]!, profile.name.zh, f.headerRows[0]![1]!, office.filingNo],
    [f.headerRows[1]![0]!, office.address, f.headerRows[1]![1]!, district],
    [f.headerRows[2]![0]!, office.handler, f.headerRows[2]![1]!, office.phone],
  ];
  await writeAtomically(file, at, (wb) => {
    const ws = wb.addWorksheet('信息更正申请表', { pageSetup: { orientation: 'landscape', paperSize: 9, fitToPage: true, fitToWidth: 1, fitToHeight: 0 } });
    ws.columns = f.widths.map((width) => ({ width }));
    put(ws, 1, 1, f.title, { bold: true, align: 'center' });
    ws.getCell(1, 1).font = { bold: true, size: 16 };
    ws.mergeCells(1, 1, 1, n);
    ws.getRow(1).height = 30;

    // Header block: label | value (B-D) | label | value (F-H), as in the sample.
    header.forEach(([l1, v1, l2, v2], k) => {
      const r = 2 + k;
      put(ws, r, 1, l1, { bold: true, box: true });
      put(ws, r, 2, v1, { box: true });
      ws.mergeCells(r, 2, r, 4);
      put(ws, r, 5, l2, { bold: true, box: true });
      put(ws, r, 6, v2, { box: true });
      ws.mergeCells(r, 6, r, 8);
      boxRange(ws, r, 1, n);
    });

    // Two header rows: 序号, 更正项, 更正后信息, 附件 span both; 认定系统显示内容 groups the four columns it shows.
    const [seqH, batchH, numberH, nameH, idH, itemH, afterH, attachH] = f.columns;
    put(ws, 5, 1, seqH, { bold: true, box: true, align: 'center' });
    put(ws, 5, 2, f.group, { bold: true, box: true, align: 'center' });
    put(ws, 5, 6, itemH, { bold: true, box: true, align: 'center' });
    put(ws, 5, 7, afterH, { bold: true, box: true, align: 'center' });
    put(ws, 5, 8, attachH, { bold: true, box: true, align: 'center' });
    [batchH, numberH, nameH, idH].forEach((h, k) => put(ws, 6, 2 + k, h, { bold: true, box: true, align: 'center' }));
    ws.mergeCells(5, 1, 6, 1);
    ws.mergeCells(5, 2, 5, 5);
    for (const c of [6, 7, 8]) ws.mergeCells(5, c, 6, c);
    boxRange(ws, 5, 1, n);
    boxRange(ws, 6, 1, n);

    const bodyRows = Math.max(rows.length, f.minRows);
    for (let i = 0; i < bodyRows; i++) {
      const r = 7 + i;
      const values = rows[i] ?? [i + 1, '', '', '', '', '', '', ''];
      values.forEach((v, k) => put(ws, r, k + 1, v, { box: true, align: k === 0 ? 'center' : 'left' }));
    }

    let r = 7 + bodyRows;
    const reasons = corrections.map((c, k) => `${k + 1}. ${c.number}（${c.fields.map((x) => ITEMS[x]).join('、')}）：${c.reason}`).join('\n');
    put(ws, r, 1, f.reasonLabel, { bold: true, box: true, align: 'center' });
    ws.mergeCells(r, 1, r + 1, 1);
    put(ws, r, 2, reasons, { box: true });
    ws.mergeCells(r, 2, r, n);
    ws.getRow(r).height = Math.max(30, 16 * corrections.length);
    put(ws, r + 1, 2, f.sealLines, { box: true, align: 'right' });
    ws.mergeCells(r + 1, 2, r + 1, n);
    ws.getRow(r + 1).height = 36;
    boxRange(ws, r, 1, n);
    boxRange(ws, r + 1, 1, n);
    r += 2;
    put(ws, r, 1, f.remarksLabel, { bold: true, box: true, align: 'center' });
    put(ws, r, 2, f.remarks.join('\n'), { box: true });
    ws.mergeCells(r, 2, r, n);
    ws.getRow(r).height = 36;
    boxRange(ws, r, 1, n);
  });
  return rows.length;
}

export interface CorrectionFormsOptions {
  readonly profile: FormsProfile;
  readonly office: OfficeDetails;
  /** The period the corrections were recorded in: `from` inclusive, `to` exclusive. */
  readonly from: Date;
  readonly to: Date;
  /** The folder to write to. */
  readonly dir: string;
  /** The run's clock (填表日期, workbook dates, the export entries). */
  readonly at: Date;
  readonly operator: string;
}

export interface CorrectionFormsResult {
  /** Corrections of the profile recorded in the period. */
  readonly corrections: number;
  /** The 数据修改信息表; absent when the period holds only photo corrections (or none). */
  readonly dataModification?: { readonly file: string; readonly rows: number };
  /** The 信息更正申请表; absent when the period holds no correction. */
  readonly application?: { readonly file: string; readonly rows: number };
  /** The audit entries recording the two files as exports (第二十条). */
  readonly exports: readonly AuditEntry[];
}

/**
 * Produces both forms from the corrections of `profile` recorded in [from, to), and records each file as an export.
 * A period with no correction writes nothing.
 */
export async function writeCorrectionForms(registry: Registry, o: CorrectionFormsOptions): Promise<CorrectionFormsResult> {
  if (!(o.from.getTime() < o.to.getTime())) {
    throw new SkillcertError('E_USAGE', `the period ${o.from.toISOString()} – ${o.to.toISOString()} is empty; give "from" before "to"`, { field: 'from' });
  }
  const corrections = await registry.corrections({ profileId: o.profile.id, from: o.from, to: o.to });
  if (!corrections.length) return { corrections: 0, exports: [] };

  const period = `${beijingDate(o.from)}..${beijingDate(new Date(o.to.getTime() - 1))}`;
  const tag = `${o.profile.id}-${period.replace('..', '_')}`;
  const exports: AuditEntry[] = [];
  let dataModification: CorrectionFormsResult['dataModification'];
  let application: CorrectionFormsResult['application'];

  const dataRows = corrections.filter((c) => c.fields.includes('name') || c.fields.includes('idNo'));
  if (dataRows.length) {
    const title = FORMS.dataModification.title;
    const file = join(o.dir, `${title}-${tag}.xlsx`);
    const rows = await writeDataModificationTable(file, dataRows, o.profile, o.office, o.at);
    exports.push(await recordOrRemove(registry, file, `${title} ${o.profile.id} ${period}, ${rows} rows`, dataRows, o));
    dataModification = { file, rows };
  }
  const title = FORMS.application.title;
  const file = join(o.dir, `${title}-${tag}.xlsx`);
  const rows = await writeCorrectionApplication(file, corrections, o.profile, o.office, o.at);
  exports.push(await recordOrRemove(registry, file, `${title} ${o.profile.id} ${period}, ${rows} rows`, corrections, o));
  application = { file, rows };

  return { corrections: corrections.length, ...(dataModification && { dataModification }), application, exports };
}

/** 第二十条: a file that left without its audit entry would be untraceable, so it does not stay. */
async function recordOrRemove(registry: Registry, file: string, what: string, rows: readonly CorrectionWithCertificate[], o: CorrectionFormsOptions): Promise<AuditEntry> {
  const sha256 = createHash('sha256').update(await readFile(file)).digest('hex');
  try {
    return await registry.recordExport({ file: basename(file), sha256, what, numbers: [...new Set(rows.map((c) => c.number))] }, o.at, o.operator);
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }
}
