import test from 'ava';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { BatchSummary, IssuedCertificate } from '../../pipeline/core/summary.js';
import { receiptNumber } from '../../pipeline/bundle/model.js';
import { COUNTERFOILS, COPIES } from '../../pipeline/bundle/pdf/competition.js';
import { writeApplicationForm, writeBatchReceipt, writeFilingMaterial, writeFilingReceipt, writeSignoffSheet } from '../../pipeline/bundle/receipts.js';
import { stext } from '../helpers/pdf.js';
import { asCompetition, beijingCompetition, cleanup, fonts, idWithCheck, NOW, organisation, pdfPages, pdfText, sampleCertificate, syntheticSummary, tmp } from './helpers.js';

test.after.always(cleanup);

const MM = 25.4 / 72;
const org = organisation();
const { summary } = syntheticSummary();
const dir = tmp();
const comp = { dir: tmp(), summary: asCompetition(syntheticSummary({ award: true })) };

/** The same batch with `n` certificates (new names and numbers), for pagination. */
function scaled(n: number): BatchSummary {
  const base = summary.issued;
  const issued: IssuedCertificate[] = Array.from({ length: n }, (_, i) => {
    const c = base[i % base.length]!;
    return { ...c, name: `${c.name.slice(0, 1)}${'一二三四五六七八九十'[i % 10]}${'甲乙丙丁戊己庚辛壬癸'[Math.floor(i / 10) % 10]}`, number: `S00001108401226${c.level}${String(i + 1).padStart(6, '0')}` };
  });
  return { ...summary, issued };
}

const leaked = idWithCheck('11010519800101123');

test.before(async () => {
  const r = { summary, profile: org, fonts, dir, now: NOW };
  await writeBatchReceipt(r);
  await writeSignoffSheet(r);
  const c = { summary: comp.summary, profile: beijingCompetition(), fonts, dir: comp.dir, now: NOW };
  await writeFilingReceipt(c);
  await writeApplicationForm(c);
});

test('the batch receipt lists what was issued, rejected and skipped, with totals', (t) => {
  const text = pdfText(join(dir, 'receipts/batch-receipt.pdf'));
  t.true(text.includes('职业技能等级证书发证批次回执'));
  t.true(text.includes('20260310-haidian-qihang-01'));
  for (const c of summary.issued) {
    t.true(text.includes(c.number), `number ${c.number}`);
    t.true(text.includes(c.name), `name ${c.name}`);
  }
  t.regex(text, /一、已发证书（20 本）/);
  t.regex(text, /二、退回（2 行，3 项）/);
  t.regex(text, /三、未发证（6 行）/);
  t.regex(text, /合计\s+20 本/);
  t.regex(text, /合计\s+2 行\s+3\s*项/); // pdftotext may drop the space between a digit and a hanzi
  t.regex(text, /合计\s+6 行/);
  // the totals row: rows read, issued (new, existing), rejected, 不合格, 缺考, 舞弊, already certified, duplicates, all
  t.regex(text, /28\s+20（新发 19，已有 1）\s+2\s+2\s+1\s+1\s+1\s+1\s+28/);
  for (const word of ['不合格', '缺考', '舞弊', '已持证', '名册内重复', 'S000011084012254000007']) t.true(text.includes(word), word);
  t.regex(text, /经办人：/);
});

test('the batch receipt never shows an ID number in full (第十九条)', (t) => {
  const raw = pdfText(join(dir, 'receipts/batch-receipt.pdf'), false).replace(/\s+/g, '');
  for (const c of summary.issued) {
    t.false(raw.includes(c.idNo), `ID of ${c.name} in full`);
    t.true(raw.includes(`${c.idNo.slice(0, 4)}**********${c.idNo.slice(-4)}`));
  }
  t.false(raw.includes(leaked), 'the ID number quoted in a reject message is masked too');
});

test('the sign-off sheet has one line per certificate with room to sign', (t) => {
  const file = join(dir, 'receipts/signoff-sheet.pdf');
  const text = pdfText(file);
  t.true(text.includes('职业技能等级证书签收单'));
  t.regex(text, /序号\s+姓名\s+证书编号\s+签收人签字\s+日期/);
  summary.issued.forEach((c) => t.regex(text, new RegExp(`\\d+\\s+${c.name.replace(/[·]/g, '.')}\\s+${c.number}`)));
  t.regex(text, /合计\s+20 本/);
  t.regex(text, /发放人：/);
});

test('a large sign-off sheet runs over pages, header repeated, every certificate once', async (t) => {
  const big = scaled(230);
  const d = tmp();
  await writeSignoffSheet({ summary: big, profile: org, fonts, dir: d, now: NOW });
  const file = join(d, 'receipts/signoff-sheet.pdf');
  const pages = pdfPages(file);
  t.true(pages >= 9, `230 lines of 10 mm need several pages (got ${pages})`);
  const text = pdfText(file);
  for (const c of big.issued) t.is(text.split(c.number).length - 1, 1, c.number);
  t.is(text.match(/签收人签字/g)!.length, pages, 'the header on every page');
  t.regex(text, new RegExp(`第 ${pages}\\s*页 共 ${pages}\\s*页`));
  t.true(text.includes('职业技能等级证书签收单（续）'));
  // Rows stop 16 mm above the page's edge; only the page number (baseline 289 mm) is lower.
  for (const p of stext(file)) {
    for (const ch of p.chars) if (ch.y < 285) t.true(ch.bottom <= 281 + 0.3, `${ch.c} runs below the table's foot: ${ch.bottom.toFixed(1)} mm`);
  }
});

test('a long value wraps inside its column instead of running past it', async (t) => {
  const LONG = '超长职业名称甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥';
  const s: BatchSummary = { ...summary, issued: summary.issued.map((c, i) => (i === 0 ? { ...c, occupation: LONG, job: '' } : c)) };
  const d = tmp();
  await writeBatchReceipt({ summary: s, profile: org, fonts, dir: d, now: NOW });
  const pages = stext(join(d, 'receipts/batch-receipt.pdf'));
  const marks = new Set([...'甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥']);
  const hits = pages[0]!.chars.filter((c) => marks.has(c.c));
  t.is(hits.length, marks.size, 'every character of the long value is printed');
  // 职业（工种） is the fourth column: 15 + 11 + 25 + 34 = 85 mm to 85 + 42 = 127 mm.
  for (const c of hits) {
    t.true(c.x >= 85 - 0.3 && c.right <= 127 + 0.3, `${c.c} at ${c.x.toFixed(1)}–${c.right.toFixed(1)} mm is outside its cell`);
  }
  t.true(new Set(hits.map((c) => c.y.toFixed(1))).size >= 2, 'the value wrapped onto more than one line');
  for (const p of pages) for (const c of p.chars) t.true(c.x >= 15 - 0.3 && c.right <= 195 + 0.3, `${c.c} outside the margins`);
});

test('the filing receipt carries two counterfoils with the same number, the competition and its counts', (t) => {
  const file = join(comp.dir, 'receipts/filing-receipt.pdf');
  t.is(pdfPages(file), 1);
  const text = pdfText(file);
  const no = receiptNumber(comp.summary.batchId, 2026);
  t.is(text.match(/职业技能竞赛备案回执/g)!.length, 2);
  t.is(text.split(`编号：${no}`).length - 1, 2, 'the number on both counterfoils');
  for (const c of COUNTERFOILS) t.true(text.includes(c), c);
  t.is(text.split('2026年北京市数控技能大赛组委会：').length - 1, 2, 'addressed to the committee on both');
  t.is(text.split('竞赛名称： 2026年北京市数控技能大赛').length - 1 + text.split('竞赛名称：2026年北京市数控技能大赛').length - 1, 2);
  t.is(text.match(/20 人（三级\/高级工 7 人，四级\/中级工 10 人，五级\/初级工 3 人）/g)!.length, 2);
  t.is(text.match(/车工（数控车工）、铣工（数控铣工）/g)!.length, 2);
  t.is(text.match(/北京市职业技能鉴定管理中心（盖章）/g)!.length, 2);
  t.true(text.includes('沿此线裁开'));
  // The upper counterfoil is the centre's: it comes first on the page.
  t.true(text.indexOf(COUNTERFOILS[0]) < text.indexOf(COUNTERFOILS[1]));
});

test('the receipt number is derived from the batch id alone', (t) => {
  const a = receiptNumber('20260310-haidian-qihang-01', 2026);
  t.regex(a, /^JSBA-2026-[0-9A-HJKMNP-TV-Z]{10}$/);
  t.is(receiptNumber('20260310-haidian-qihang-01', 2026), a);
  t.not(receiptNumber('20260310-haidian-qihang-02', 2026), a);
});

test('the 取证申请表 comes in two copies, each with the breakdown and total', (t) => {
  const file = join(comp.dir, 'receipts/application-form.pdf');
  const text = pdfText(file);
  t.is(pdfPages(file), 2);
  for (const c of COPIES) t.is(text.split(c).length - 1, 1, c);
  t.is(text.match(/北京市职业技能竞赛取证申请表/g)!.length, 2);
  t.is(text.match(/合计\s+20/g)!.length, 2);
  t.is(text.match(/车工\s+数控车工\s+四级\/中级工\s+5/g)!.length, 2);
  t.is(text.match(/北京市职业技能鉴定管理中心竞赛专用章/g)!.length, 2);
  t.is(text.split(receiptNumber(comp.summary.batchId, 2026)).length - 1, 2);
});

test('the filing material has the 附件3 cover, contents, seals, the sample at actual size and the parameter table', async (t) => {
  const d = tmp();
  await writeFilingMaterial({ profile: org, fonts, dir: d, now: NOW }, [{ bytes: await sampleCertificate('SAMPLE-CERT-7Q'), label: '三级/高级工 样张' }]);
  const file = join(d, 'filing-material.pdf');
  const text = pdfText(file);
  t.regex(text, /机构备案号：\s*S000011084012/);
  t.true(text.includes('北京市职业技能等级证书备案材料'));
  t.regex(text, /评价机构（盖章）：\s*北京市海淀区启航职业技能培训学校/);
  t.true(text.includes('2026年3月10日'));
  t.regex(text, /目\s+录/);
  for (const h of ['一、评价机构备案情况简介', '二、职业技能等级证书印章', '三、职业技能等级证书样式及规格参数', '（二）证书内容', '四、职业技能等级证书管理工作依据']) t.true(text.includes(h), h);
  t.true(text.includes('SAMPLE-CERT-7Q'), 'the sample page is embedded with its text');
  for (const id of ['title.zh', 'field.name', 'field.number.label.en', 'seal.evaluation', 'photo']) t.true(text.includes(id), `parameter row ${id}`);
  t.regex(text, /title\.zh\s+楷体\s+30\s+80\s+45\s+120\s+center/);
  // Actual size: the sample's page is the certificate's 297 mm × 210 mm.
  const sizes = execFileSync('pdfinfo', ['-f', '1', '-l', '99', file], { encoding: 'utf8' });
  const landscape = [...sizes.matchAll(/Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+) pts/g)].filter((m) => Number(m[2]) > Number(m[3]));
  t.is(landscape.length, 1);
  t.true(Math.abs(Number(landscape[0]![2]) * MM - 297) < 0.1 && Math.abs(Number(landscape[0]![3]) * MM - 210) < 0.1);
  // The seals (evaluation 40 mm, steel 24 mm) drawn at the size the parameter sheet prints them.
  const trace = execFileSync('mutool', ['trace', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const boxes = [...trace.matchAll(/<fill_image [^>]*transform="([^"]+)"/g)].map((m) => m[1]!.split(' ').map(Number)).map(([a, , , dd]) => [a! * MM, dd! * MM]);
  t.true(boxes.some(([w, h]) => Math.abs(w! - 40) < 0.1 && Math.abs(Math.abs(h!) - 40) < 0.1), 'evaluation seal 40 × 40 mm');
  t.true(boxes.some(([w, h]) => Math.abs(w! - 24) < 0.1 && Math.abs(Math.abs(h!) - 24) < 0.1), 'steel seal 24 × 24 mm');
});

test('the filing material without a sample certificate is refused with what to pass', async (t) => {
  await t.throwsAsync(writeFilingMaterial({ profile: org, fonts, dir: tmp(), now: NOW }, []), { message: /needs at least one sample certificate PDF: pass sampleCertificates/ });
});
