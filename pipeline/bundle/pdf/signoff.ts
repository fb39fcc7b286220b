/**
 * The collection sign-off sheet (签收单, SPEC §7): one line per certificate with room for the holder's
 * (or the collecting unit's) signature and the date, paginated; the certificate number identifies the
 * line, so no ID number is needed on a sheet that passes from hand to hand (第十九条).
 */
import type { BatchSummary } from '../../core/summary.js';
import type { FontSet } from '../../fonts/index.js';
import type { Profile } from '../../core/profile.js';
import { chinaDate, dateSpan, issueDates, issuedInOrder, zhDate } from '../model.js';
import { BOTTOM, CONTENT_W, continuation, MARGIN, signatureLines, title } from './forms.js';
import { PdfKit } from './kit.js';
import { drawTable, type TableRow } from './table.js';

export const SIGNOFF_TITLE = '职业技能等级证书签收单';
export const SIGNOFF_HEADER = ['序号', '姓名', '证书编号', '签收人签字', '日期'] as const;

export async function signoffPdf(summary: BatchSummary, profile: Profile, fonts: FontSet, now: Date): Promise<Uint8Array> {
  const T = SIGNOFF_TITLE;
  const kit = await PdfKit.create(fonts, { title: T, subject: `批次 ${summary.batchId}`, now, seed: `signoff/${summary.batchId}` });
  kit.addPage();
  await title(kit, T);
  const items = issuedInOrder(summary);
  await kit.field(profile.kind === 'competition' ? '竞赛组委会：' : '评价机构：', profile.name.zh, MARGIN, 36, CONTENT_W, 10.5);
  await kit.field('批次号：', summary.batchId, MARGIN, 43, CONTENT_W / 2 - 4, 10.5);
  await kit.field('发证日期：', dateSpan(issueDates(summary)) || '—', MARGIN + CONTENT_W / 2, 43, CONTENT_W / 2, 10.5);
  await kit.field('证书数量：', `${items.length} 本`, MARGIN, 50, CONTENT_W / 2 - 4, 10.5);
  await kit.field('制表日期：', zhDate(chinaDate(now)), MARGIN + CONTENT_W / 2, 50, CONTENT_W / 2, 10.5);
  // Rows made as the table draws them: a provincial batch's 100,000 lines are not held twice.
  const rows = function* (): Generator<TableRow> {
    let i = 0;
    for (const c of items) yield { cells: [String(++i), c.name, c.number, '', ''] };
    yield { cells: ['合计', `${items.length} 本`, '', '', ''], emphasis: true };
  };
  const y = await drawTable(kit, 56, rows(), {
    x: MARGIN, bottom: BOTTOM, newPage: continuation(kit, T), size: 10.5, minRowHeight: 10,
    columns: [
      { header: SIGNOFF_HEADER[0], width: 14, align: 'right' }, { header: SIGNOFF_HEADER[1], width: 34 }, { header: SIGNOFF_HEADER[2], width: 56 },
      { header: SIGNOFF_HEADER[3], width: 46 }, { header: SIGNOFF_HEADER[4], width: 30 },
    ],
  });
  await signatureLines(kit, ['发放人：', '复核人：', '日期：'], y + 4, T);
  await kit.pageNumbers();
  return kit.save();
}
