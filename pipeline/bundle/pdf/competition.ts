/**
 * Beijing competition filings (seed 000 四（一）): the 职业技能竞赛备案回执 with its two counterfoils
 * (附件1: one kept by the 北京市职业技能鉴定管理中心, one by the filing unit) and the
 * 北京市职业技能竞赛取证申请表 in two copies (一式二份). Both come pre-filled from the batch; the
 * centre's seal, signatures and dates stay blank lines to be completed by hand.
 */
import type { BatchSummary } from '../../core/summary.js';
import type { FontSet } from '../../fonts/index.js';
import type { Profile } from '../../core/profile.js';
import { chinaDate, competitionYear, dateSpan, groupIssued, issueDates, jobPrinted, levelText, occupationWithJob, receiptNumber, zhDate } from '../model.js';
import { BOTTOM, CONTENT_W, continuation, MARGIN, title } from './forms.js';
import { A4, LABEL, PdfKit, VALUE } from './kit.js';
import { drawTable, type TableRow } from './table.js';

export const RECEIPT_TITLE = '职业技能竞赛备案回执';
export const CENTRE = '北京市职业技能鉴定管理中心';
/** 附件1: the two counterfoils, in the order they are printed. */
export const COUNTERFOILS = [`存根一：${CENTRE}留存`, '存根二：备案单位留存'] as const;
export const APPLICATION_TITLE = '北京市职业技能竞赛取证申请表';
export const COPIES = [`第一份（${CENTRE}留存）`, '第二份（竞赛组委会留存）'] as const;


/** 竞赛职业: occupation（job） of every group issued, in order, once each. */
function occupations(s: BatchSummary): string {
  return [...new Set(groupIssued(s.issued).map((g) => occupationWithJob(g.occupation, g.job)))].join('、');
}

function levelBreakdown(s: BatchSummary): string {
  const byLevel = new Map<number, number>();
  for (const c of s.issued) byLevel.set(c.level, (byLevel.get(c.level) ?? 0) + 1);
  return [...byLevel.entries()].sort((a, b) => a[0] - b[0]).map(([l, n]) => `${levelText(l)} ${n} 人`).join('，');
}

function contact(s: BatchSummary): string | undefined {
  const m = s.rosterMeta ?? {};
  for (const k of ['联系人', '经办人']) {
    const hit = Object.entries(m).find(([key]) => key.replace(/[：:\s]/g, '') === k);
    if (hit && hit[1].trim()) return hit[1].trim();
  }
  return undefined;
}

export async function filingReceiptPdf(summary: BatchSummary, profile: Profile, fonts: FontSet, now: Date): Promise<Uint8Array> {
  const year = competitionYear(profile, summary, now);
  const no = receiptNumber(summary.batchId, year);
  const kit = await PdfKit.create(fonts, { title: RECEIPT_TITLE, subject: `编号 ${no}`, now, seed: `filing-receipt/${summary.batchId}` });
  kit.addPage();
  const comp = profile.competition;
  const half = A4.height / 2;
  const fields: [string, string | undefined][] = [
    ['竞赛名称：', comp?.name],
    ['竞赛主办单位：', comp?.sponsor],
    ['竞赛级别：', comp?.category],
    ['联系人：', contact(summary)],
    ['竞赛职业：', occupations(summary)],
    ['取证人数：', `${summary.issued.length} 人${summary.issued.length ? `（${levelBreakdown(summary)}）` : ''}`],
    ['发证日期：', dateSpan(issueDates(summary)) || undefined],
    ['批次号：', summary.batchId],
  ];
  for (let copy = 0; copy < 2; copy++) {
    const y0 = copy * half;
    await kit.text(RECEIPT_TITLE, MARGIN, y0 + 16, { size: 16, script: LABEL, align: 'center', w: CONTENT_W });
    await kit.text(`编号：${no}`, MARGIN, y0 + 24, { size: 10.5, script: LABEL, align: 'right', w: CONTENT_W });
    await kit.text(`${profile.name.zh}：`, MARGIN, y0 + 31, { size: 11, script: VALUE, w: CONTENT_W, minSize: 8 });
    let y = await kit.paragraph(
      `${zhDate(chinaDate(now))}你单位提交的竞赛备案登记材料符合北京市举办职业技能竞赛的相关要求，予以备案。此回执用于今后试题领取、证书办理等工作，请妥善保管。`,
      MARGIN, y0 + 38, CONTENT_W, 10.5, { indent: 2, lineHeight: 5.6 },
    );
    await kit.text('备案主要项目如下：', MARGIN, y + 1, { size: 10.5, script: LABEL });
    y += 7.5;
    for (const [label, value] of fields) {
      await kit.field(label, value, MARGIN + 8, y, CONTENT_W - 8, 10.5);
      y += 6.6;
    }
    // The centre's seal and date, and who handled it; left blank for the centre.
    await kit.field('经办人签字：', undefined, MARGIN, y0 + 128, 70, 10.5);
    await kit.text(`${CENTRE}（盖章）`, MARGIN + 95, y0 + 124, { size: 10.5, script: LABEL, align: 'center', w: 85 });
    await kit.text('年　　月　　日', MARGIN + 95, y0 + 131, { size: 10.5, script: LABEL, align: 'center', w: 85 });
    await kit.text(COUNTERFOILS[copy]!, MARGIN, y0 + 140, { size: 10, script: LABEL, align: 'right', w: CONTENT_W });
  }
  kit.line(8, half, A4.width - 8, half, { dash: true, gray: 0.4, width: 0.6 });
  await kit.text('沿此线裁开', MARGIN, half - 1.2, { size: 7.5, script: LABEL, align: 'center', w: CONTENT_W });
  return kit.save();
}

export async function applicationFormPdf(summary: BatchSummary, profile: Profile, fonts: FontSet, now: Date): Promise<Uint8Array> {
  const year = competitionYear(profile, summary, now);
  const no = receiptNumber(summary.batchId, year);
  const T = APPLICATION_TITLE;
  const kit = await PdfKit.create(fonts, { title: T, subject: `批次 ${summary.batchId}`, now, seed: `application/${summary.batchId}` });
  const comp = profile.competition;
  const groups = groupIssued(summary.issued);
  const newPage = continuation(kit, T);
  for (const copy of COPIES) {
    kit.addPage();
    await kit.text(copy, MARGIN, 13, { size: 9.5, script: LABEL, align: 'right', w: CONTENT_W });
    await title(kit, T);
    await kit.text(`备案回执编号：${no}　　批次号：${summary.batchId}`, MARGIN, 33, { size: 10, script: LABEL, w: CONTENT_W, minSize: 7 });
    const info: TableRow[] = [
      ['竞赛名称', comp?.name ?? ''],
      ['竞赛组委会', profile.name.zh],
      ['竞赛主办单位', comp?.sponsor ?? ''],
      ['竞赛级别', comp?.category ?? ''],
      ['竞赛年度', `${year}年`],
      ['申请取证人数', `${summary.issued.length} 人`],
      ['发证日期', dateSpan(issueDates(summary))],
      ['联系人及电话', ''],
    ].map(([a, b]) => ({ cells: [a!, b!] }));
    let y = await drawTable(kit, 38, info, {
      x: MARGIN, bottom: BOTTOM, newPage, size: 10.5, minRowHeight: 8,
      columns: [{ header: '项目', width: 40 }, { header: '内容', width: CONTENT_W - 40 }],
    });
    const rows: TableRow[] = groups.map((g, i) => ({ cells: [String(i + 1), g.occupation, jobPrinted(g.job), levelText(g.level), String(g.count)] }));
    rows.push({ cells: ['合计', '', '', '', String(summary.issued.length)], emphasis: true });
    await kit.text('取证明细', MARGIN, y + 7, { size: 11, script: LABEL });
    y = await drawTable(kit, y + 10, rows, {
      x: MARGIN, bottom: BOTTOM, newPage, size: 10,
      columns: [
        { header: '序号', width: 14, align: 'right' }, { header: '职业名称', width: 46 }, { header: '工种/职业方向', width: 46 },
        { header: '职业技能等级', width: 44 }, { header: '人数', width: 30, align: 'right' },
      ],
    });
    // Opinion boxes: the committee applies, the centre stamps its 竞赛专用章 (seed 000 四（二）).
    if (y + 70 > BOTTOM) y = await newPage();
    for (const [head, seal] of [['竞赛组委会意见', '竞赛组委会办公室（盖章）'], [`${CENTRE}审核意见`, `${CENTRE}竞赛专用章`]] as const) {
      kit.rect(MARGIN, y + 4, CONTENT_W, 32, { width: 0.5 });
      await kit.text(head, MARGIN + 3, y + 11, { size: 11, script: LABEL });
      await kit.text(seal, MARGIN + 95, y + 24, { size: 10.5, script: LABEL, align: 'center', w: 80 });
      await kit.field('负责人签字：', undefined, MARGIN + 3, y + 31, 75, 10.5);
      await kit.text('年　　月　　日', MARGIN + 95, y + 31, { size: 10.5, script: LABEL, align: 'center', w: 80 });
      y += 34;
    }
  }
  await kit.pageNumbers();
  return kit.save();
}
