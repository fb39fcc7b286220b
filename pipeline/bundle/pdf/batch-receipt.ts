/**
 * The batch receipt (SPEC §7): what was issued, rejected and skipped, with totals, for the office's file.
 * ID numbers are masked (第十九条): the receipt circulates more widely than the filings.
 */
import { basename } from 'node:path';
import type { BatchSummary } from '../../core/summary.js';
import type { FontSet } from '../../fonts/index.js';
import type { Profile } from '../../core/profile.js';
import { batchTotals } from '../counts.js';
import { chinaDate, dateSpan, issueDates, issuedInOrder, levelText, occupationWithJob, rejectedRows, zhDate } from '../model.js';
import { PdfKit } from './kit.js';
import { BOTTOM, CONTENT_W, continuation, MARGIN, section, signatureLines, title } from './forms.js';
import { drawTable, type TableRow } from './table.js';
import { maskId, maskedProblem } from '../../core/privacy.js';

export const BATCH_RECEIPT_TITLE = '职业技能等级证书发证批次回执';

const SKIP_LABEL: Record<string, string> = { 'duplicate-in-roster': '名册内重复', 'already-certified': '已持证' };

export async function batchReceiptPdf(summary: BatchSummary, profile: Profile, fonts: FontSet, now: Date): Promise<Uint8Array> {
  const T = BATCH_RECEIPT_TITLE;
  const kit = await PdfKit.create(fonts, { title: T, subject: `批次 ${summary.batchId}`, now, seed: `batch-receipt/${summary.batchId}` });
  kit.addPage();
  await title(kit, T);
  const t = batchTotals(summary);
  const info: [string, string][] = [
    [profile.kind === 'competition' ? '竞赛组委会：' : '评价机构：', profile.name.zh],
    ['批次号：', summary.batchId],
    ['名册：', basename(summary.roster)],
    ['处理时间：', `${summary.startedAt} 至 ${summary.finishedAt}`],
    ['发证日期：', dateSpan(issueDates(summary)) || '—'],
    ['制表日期：', zhDate(chinaDate(now))],
  ];
  let y = 36;
  for (const [label, value] of info) {
    await kit.field(label, value, MARGIN, y, CONTENT_W, 10.5);
    y += 7;
  }
  const newPage = continuation(kit, T);
  y = await section(kit, '汇总', y, T);
  y = await drawTable(kit, y, [{ cells: [t.rowsRead, `${t.issued}（新发 ${t.created}，已有 ${t.existing}）`, t.rejectedRows, t.notPassed.不合格, t.notPassed.缺考, t.notPassed.舞弊, t.alreadyCertified, t.duplicateInRoster, t.accounted].map(String) }], {
    x: MARGIN, bottom: BOTTOM, newPage, size: 9.5,
    columns: [
      { header: '名册行数', width: 16, align: 'right' }, { header: '发证', width: 36, align: 'right' }, { header: '退回（行）', width: 18, align: 'right' },
      { header: '不合格', width: 16, align: 'right' }, { header: '缺考', width: 16, align: 'right' }, { header: '舞弊', width: 16, align: 'right' },
      { header: '已持证', width: 18, align: 'right' }, { header: '名册内重复', width: 22, align: 'right' }, { header: '合计', width: 22, align: 'right' },
    ],
  });
  if (t.accounted !== t.rowsRead) {
    y = await kit.paragraph(`注：名册读入 ${t.rowsRead} 行，已计 ${t.accounted} 行；差额请核对名册（空行与表头不计）。`, MARGIN, y + 6, CONTENT_W, 9);
  }

  y = await section(kit, `一、已发证书（${t.issued} 本）`, y + 4, T);
  // Rows made as the table draws them: a provincial batch's 100,000 lines are not held twice.
  const issued = function* (): Generator<TableRow> {
    let i = 0;
    for (const c of issuedInOrder(summary)) yield { cells: [String(++i), c.name, maskId(c.idNo), occupationWithJob(c.occupation, c.job), levelText(c.level), c.number] };
    yield { cells: ['合计', `${t.issued} 本`, '', '', '', ''], emphasis: true };
  };
  y = await drawTable(kit, y, issued(), {
    x: MARGIN, bottom: BOTTOM, newPage, size: 9.5,
    columns: [
      { header: '序号', width: 11, align: 'right' }, { header: '姓名', width: 25 }, { header: '证件号码', width: 34 },
      { header: '职业（工种）', width: 42 }, { header: '等级', width: 24 }, { header: '证书编号', width: 44 },
    ],
  });

  const rows = rejectedRows(summary);
  y = await section(kit, `二、退回（${rows.length} 行，${summary.rejected.length} 项）`, y + 4, T);
  const rejected: TableRow[] = [...summary.rejected]
    .sort((a, b) => a.rowNo - b.rowNo)
    .map((p) => maskedProblem(p))
    .map((p) => ({ cells: [String(p.rowNo), p.field, p.value ?? '', p.message] }));
  rejected.push({ cells: ['合计', `${rows.length} 行`, `${summary.rejected.length} 项`, ''], emphasis: true });
  y = await drawTable(kit, y, rejected, {
    x: MARGIN, bottom: BOTTOM, newPage, size: 9,
    columns: [{ header: '行号', width: 13, align: 'right' }, { header: '列', width: 25 }, { header: '值', width: 32 }, { header: '原因', width: 110 }],
  });

  y = await section(kit, `三、未发证（${summary.skipped.length} 行）`, y + 4, T);
  const skipped: TableRow[] = [...summary.skipped]
    .sort((a, b) => a.rowNo - b.rowNo)
    .map((k) => ({
      cells: [String(k.rowNo), k.reason === 'result' ? (k.result ?? '不合格') : SKIP_LABEL[k.reason]!, k.occupation ?? '', k.level ? levelText(k.level) : '', k.number ?? '', maskedProblem({ rowNo: k.rowNo, field: '', rule: '', message: k.message }).message],
    }));
  skipped.push({ cells: ['合计', `${summary.skipped.length} 行`, '', '', '', ''], emphasis: true });
  y = await drawTable(kit, y, skipped, {
    x: MARGIN, bottom: BOTTOM, newPage, size: 9,
    columns: [
      { header: '行号', width: 13, align: 'right' }, { header: '类别', width: 20 }, { header: '职业', width: 28 },
      { header: '等级', width: 24 }, { header: '已有证书编号', width: 43 }, { header: '说明', width: 52 },
    ],
  });

  await signatureLines(kit, ['经办人：', '复核人：', '日期：'], y + 6, T);
  await kit.pageNumbers();
  return kit.save();
}
