/**
 * The batch's workbooks (SPEC §7): the certificate data for upload (第十二条), the counts by occupation ×
 * level × result, the roster of issued certificates (花名册, kept forever: seed 004 第二十九条; 取证名册 for
 * competitions: seed 000), and the competition forms: the Beijing 职业技能竞赛取证汇总表 (seed 000) and the
 * Sichuan 申报汇总表 in its fixed column order with its header block (seed 001 附件).
 * Full ID numbers appear in these files only, because they are the filings themselves; never in logs.
 */
import { join } from 'node:path';
import type { BatchSummary } from '../core/summary.js';
import type { Profile } from '../core/profile.js';
import { COUNT_COLUMNS, countTable } from './counts.js';
import {
  chinaDate, FILES, groupIssued, idTypeName, issuedInOrder, issuerName, isCompetition, jobPrinted, jurisdiction,
  levelText, occupationWithJob, zhDate,
} from './model.js';
import { writeWorkbook } from './xlsx.js';

export interface TableInput {
  readonly summary: BatchSummary;
  readonly profile: Profile;
  /** The batch folder. */
  readonly dir: string;
  readonly now: Date;
}

/** 第十二条, in this order; 证件类型 and 职业技能等级 as codes (数据修改信息表 说明 3、4), 发证日期 YYYY-MM-DD (说明 5). */
export const UPLOAD_HEADER = ['持证人姓名', '证件类型', '证件号码', '职业名称', '工种/职业方向', '职业技能等级', '证书编号', '发证日期', '发证机构名称'] as const;

export async function writeCertificateData(t: TableInput): Promise<string> {
  const issuer = issuerName(t.profile);
  return writeWorkbook({ file: join(t.dir, FILES.certificateData), now: t.now }, (add) => {
    const ws = add('证书数据', { widths: [14, 8, 22, 18, 18, 10, 26, 12, 30], frozenRows: 1 });
    ws.row([...UPLOAD_HEADER], 'header');
    for (const c of issuedInOrder(t.summary)) {
      // Codes and dates are text cells: a code is not a quantity, and an ID number must never become a float.
      ws.row([c.name, c.idType, c.idNo, c.occupation, c.job, String(c.level), c.number, c.issueDate, issuer]);
    }
  });
}

export const COUNTS_HEADER = ['职业名称', '职业技能等级', ...COUNT_COLUMNS, '合计'] as const;

export async function writeCountsTable(t: TableInput): Promise<string> {
  const table = countTable(t.summary);
  return writeWorkbook({ file: join(t.dir, FILES.counts), now: t.now }, (add) => {
    const ws = add('统计', { widths: [26, 16, 12, 8, 8, 8, 16, 8, 10, 8], frozenRows: 3 });
    const n = COUNTS_HEADER.length;
    ws.row([`职业技能等级认定结果统计表`], 'title', [[1, n]]);
    ws.row([`${t.profile.name.zh}　批次：${t.summary.batchId}　制表日期：${zhDate(chinaDate(t.now))}`], 'note', [[1, n]]);
    ws.row([...COUNTS_HEADER], 'header');
    for (const r of table.rows) ws.row([r.occupation, r.level === null ? '—' : levelText(r.level), ...r.counts, r.total]);
    ws.row(['合计', '', ...table.totals, table.grand], 'total');
  });
}

export const ROSTER_HEADER = ['序号', '姓名', '性别', '证件类型', '证件号码', '工作单位', '职业名称', '工种', '等级', '证书编号', '发证日期'] as const;
export const AWARD_HEADER = '奖牌类别/名次';

/** Title of the roster: 取证名册 for competitions (seed 000), 花名册 otherwise (seed 004 第二十九条). */
export function rosterTitle(p: Profile): string {
  if (!isCompetition(p)) return '职业技能等级认定花名册';
  return jurisdiction(p) === 'beijing' ? '北京市职业技能竞赛取证名册' : '职业技能竞赛取证名册';
}

export async function writeRoster(t: TableInput): Promise<string> {
  const comp = isCompetition(t.profile);
  const header = comp ? [...ROSTER_HEADER, AWARD_HEADER] : [...ROSTER_HEADER];
  return writeWorkbook({ file: join(t.dir, FILES.roster), now: t.now }, (add) => {
    const ws = add(comp ? '取证名册' : '花名册', { widths: [6, 12, 6, 14, 22, 28, 18, 16, 14, 26, 12, 16].slice(0, header.length), frozenRows: 3 });
    ws.row([rosterTitle(t.profile)], 'title', [[1, header.length]]);
    const who = comp ? `竞赛名称：${t.profile.competition?.name ?? ''}　竞赛组委会：${t.profile.name.zh}` : `评价机构：${t.profile.name.zh}`;
    ws.row([`${who}　批次：${t.summary.batchId}　制表日期：${zhDate(chinaDate(t.now))}`], 'note', [[1, header.length]]);
    ws.row(header, 'header');
    let i = 0;
    for (const c of issuedInOrder(t.summary)) {
      const row = [++i, c.name, c.gender ?? '', idTypeName(c.idType), c.idNo, c.employer ?? '', c.occupation, jobPrinted(c.job), levelText(c.level), c.number, c.issueDate];
      ws.row(comp ? [...row, c.award ?? ''] : row);
    }
    ws.row(['合计', `${i} 人`], 'total');
  });
}

export const COMPETITION_SUMMARY_HEADER = ['序号', '职业名称', '工种/职业方向', '职业技能等级', '取证人数', '备注'] as const;

/** seed 000 四（一）: 《职业技能竞赛取证汇总表》, by occupation, job and level, with the committee. */
export async function writeCompetitionSummary(t: TableInput): Promise<string> {
  const groups = groupIssued(t.summary.issued);
  const comp = t.profile.competition;
  const blank = '________________';
  return writeWorkbook({ file: join(t.dir, FILES.competitionSummary), now: t.now }, (add) => {
    const ws = add('取证汇总表', { widths: [6, 22, 22, 16, 10, 24], frozenRows: 6 });
    const n = COMPETITION_SUMMARY_HEADER.length;
    ws.row(['职业技能竞赛取证汇总表'], 'title', [[1, n]]);
    ws.row([`竞赛名称：${comp?.name ?? blank}`], 'note', [[1, n]]);
    ws.row([`竞赛组委会（盖章）：${t.profile.name.zh}`], 'note', [[1, n]]);
    ws.row([`竞赛主办单位：${comp?.sponsor ?? blank}　竞赛级别：${comp?.category ?? blank}`], 'note', [[1, n]]);
    ws.row([`批次：${t.summary.batchId}　制表日期：${zhDate(chinaDate(t.now))}`], 'note', [[1, n]]);
    ws.row([...COMPETITION_SUMMARY_HEADER], 'header');
    let total = 0;
    groups.forEach((g, i) => {
      total += g.count;
      ws.row([i + 1, g.occupation, jobPrinted(g.job), levelText(g.level), g.count, '']);
    });
    ws.row(['合计', '', '', '', total, ''], 'total');
    ws.row([], 'note');
    ws.row([`竞赛组委会办公室（盖章）：${blank}　经办人：${blank}　日期：${blank}`], 'note', [[1, n]]);
    ws.row([`北京市职业技能鉴定管理中心（竞赛专用章）：${blank}　日期：${blank}`], 'note', [[1, n]]);
  });
}

/** seed 001 附件: the fixed column order of the Sichuan 申报汇总表. */
export const SICHUAN_HEADER = ['序号', '姓名', '性别', '身份证', '工作单位', '申报职业（工种）', '申报等级', '竞赛类别', '奖牌类别/名次'] as const;
export const SICHUAN_TITLE = '四川省省级职业技能竞赛获奖选手获取职业证书申报汇总表';
/** seed 001 附件 备注, word for word. */
export const SICHUAN_NOTES = [
  '备注：1.申报等级是指参赛人员申请的职业证书等级。',
  '      2.竞赛类别是指省级一类、省级二类。',
  '      3.奖牌类别/名次，如：金奖/第一名或一等奖/第一名',
] as const;

/** A header-block value from the roster's own header block (ingest keeps it as rosterMeta), by any of its spellings. */
function meta(s: BatchSummary, ...keys: string[]): string | undefined {
  const m = s.rosterMeta;
  if (!m) return undefined;
  for (const [k, v] of Object.entries(m)) {
    const bare = k.replace(/[（(]盖章[)）]|[：:\s]/g, '');
    if (keys.includes(bare) && v.trim()) return v.trim();
  }
  return undefined;
}

export async function writeSichuanDeclaration(t: TableInput): Promise<string> {
  const comp = t.profile.competition;
  const s = t.summary;
  // Blank lines where the form is to be filled in and signed by hand (签字盖章, seed 001 五（一）).
  const blank = '____________';
  const sponsor = meta(s, '大赛牵头主办单位名称', '主办单位') ?? comp?.sponsor ?? blank;
  return writeWorkbook({ file: join(t.dir, FILES.sichuanDeclaration), now: t.now }, (add) => {
    const ws = add('申报汇总表', { widths: [6, 12, 6, 22, 28, 24, 14, 12, 18], frozenRows: 5 });
    ws.row([SICHUAN_TITLE], 'title', [[1, 9]]);
    ws.row([`大赛名称：${comp?.name ?? meta(s, '大赛名称') ?? blank}`], 'note', [[1, 9]]);
    const spans = [[1, 4], [5, 6], [7, 9]] as const;
    ws.row([`大赛牵头主办单位名称（盖章）：${sponsor}`, null, null, null, `单位地址：${meta(s, '单位地址') ?? blank}`, null, `联系电话：${meta(s, '联系电话') ?? blank}`], 'note', spans);
    ws.row([`大赛牵头主办单位负责人：${meta(s, '大赛牵头主办单位负责人', '负责人') ?? blank}`, null, null, null, `经办人：${meta(s, '经办人') ?? blank}`, null, `制表日期：${zhDate(chinaDate(t.now))}`], 'note', spans);
    ws.row([...SICHUAN_HEADER], 'header');
    let i = 0;
    for (const c of issuedInOrder(s)) {
      ws.row([++i, c.name, c.gender ?? '', c.idNo, c.employer ?? '', occupationWithJob(c.occupation, c.job), levelText(c.level), c.competitionCategory ?? comp?.category ?? '', c.award ?? '']);
    }
    ws.row([], 'note');
    for (const note of SICHUAN_NOTES) ws.row([note], 'note', [[1, 9]]);
  });
}
