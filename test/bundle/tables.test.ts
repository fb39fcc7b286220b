import test from 'ava';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import type { BatchSummary } from '../../pipeline/core/summary.js';
import { NEUTRALISER } from '../../pipeline/core/cells.js';
import { COUNT_COLUMNS } from '../../pipeline/bundle/counts.js';
import { writeBatchOutputs } from '../../pipeline/bundle/index.js';
import { FILES } from '../../pipeline/bundle/model.js';
import { SICHUAN_HEADER, SICHUAN_NOTES, SICHUAN_TITLE, UPLOAD_HEADER, writeCertificateData } from '../../pipeline/bundle/tables.js';
import { asCompetition, beijingCompetition, cleanup, fonts, HOSTILE, NOW, organisation, readSheet, sheetXml, sichuanCompetition, styleTwo, syntheticSummary, tmp } from './helpers.js';

test.after.always(cleanup);

const org = { dir: tmp(), summary: syntheticSummary().summary };
const two = { dir: tmp(), summary: syntheticSummary({ profileId: 'jingdian-maintenance' }).summary };
const bj = { dir: tmp(), summary: asCompetition(syntheticSummary({ award: true, category: '市级一类' })) };
const sc = {
  dir: tmp(),
  summary: {
    ...asCompetition(syntheticSummary({ award: true })),
    rosterMeta: { '大赛名称': '2026年四川省数控技能大赛', '单位地址': '成都市人民中路一段', '联系电话': '028-86712192', '经办人': '杨坤' },
  } as BatchSummary,
};

test.before(async () => {
  await writeBatchOutputs(org.summary, organisation(), { dir: org.dir, fonts, now: NOW, archive: false });
  await writeBatchOutputs(two.summary, styleTwo(), { dir: two.dir, fonts, now: NOW, archive: false });
  await writeBatchOutputs(bj.summary, beijingCompetition(), { dir: bj.dir, fonts, now: NOW, archive: false });
  await writeBatchOutputs(sc.summary, sichuanCompetition(), { dir: sc.dir, fonts, now: NOW, archive: false });
});

test('the certificate data file has the 第十二条 columns in order and one row per certificate', async (t) => {
  const { rows } = await readSheet(join(org.dir, FILES.certificateData));
  t.deepEqual(rows[0], [...UPLOAD_HEADER]);
  t.is(rows.length - 1, 20);
  const byNumber = new Map(org.summary.issued.map((c) => [c.number, c]));
  for (const r of rows.slice(1)) {
    const c = byNumber.get(r[6] as string)!;
    t.truthy(c, `certificate ${String(r[6])} is one of the batch`);
    t.deepEqual(r, [c.name, '201', c.idNo, c.occupation, c.job, String(c.level), c.number, c.issueDate, '北京市海淀区启航职业技能培训学校']);
  }
  const numbers = rows.slice(1).map((r) => r[6] as string);
  t.deepEqual(numbers, [...numbers].sort(), 'rows in certificate-number order');
});

test('the upload keeps codes, full ID numbers and dates as text (no precision lost)', async (t) => {
  const { ws } = await readSheet(join(org.dir, FILES.certificateData));
  const row = ws.getRow(2);
  for (const col of [2, 3, 6, 8]) t.is(row.getCell(col).type, ExcelJS.ValueType.String, `column ${UPLOAD_HEADER[col - 1]}`);
  t.regex(String(row.getCell(3).value), /^\d{17}[\dX]$/);
  t.regex(String(row.getCell(8).value), /^\d{4}-\d{2}-\d{2}$/);
});

test('an empty 工种 stays empty in the upload file', async (t) => {
  const { rows } = await readSheet(join(org.dir, FILES.certificateData));
  const noJob = rows.slice(1).filter((r) => r[3] === '育婴员');
  t.true(noJob.length > 0);
  for (const r of noJob) t.is(r[4], '');
});

test('style two names the branch as 发证机构 in the upload file (第十条（二）)', async (t) => {
  const { rows } = await readSheet(join(two.dir, FILES.certificateData));
  for (const r of rows.slice(1)) t.is(r[8], '京电能源集团有限公司北京分公司');
});

test('the summary counts add up by row and by column, and to every roster row', async (t) => {
  const { rows } = await readSheet(join(org.dir, FILES.counts));
  t.is(rows[0]![0], '职业技能等级认定结果统计表');
  t.deepEqual(rows[2], ['职业名称', '职业技能等级', ...COUNT_COLUMNS, '合计']);
  const body = rows.slice(3, -1);
  const total = rows.at(-1)!;
  t.is(total[0], '合计');
  for (const r of body) {
    const counts = r.slice(2, 9) as number[];
    t.is(counts.reduce((a, b) => a + b, 0), r[9] as number, `row total of ${String(r[0])} ${String(r[1])}`);
  }
  for (let c = 2; c <= 9; c++) t.is(body.reduce((s, r) => s + (r[c] as number), 0), total[c] as number, `column total of ${String(rows[2]![c])}`);
  t.deepEqual(total.slice(2), [20, 2, 1, 1, 2, 1, 1, 28]);
  t.is(total[9], org.summary.rowsRead, 'every roster row lands in exactly one column');
  const electric4 = body.find((r) => r[0] === '电工' && r[1] === '四级/中级工')!;
  t.deepEqual(electric4.slice(2), [5, 1, 0, 0, 0, 0, 1, 7]);
});

test('the 花名册 lists every issued certificate with the full particulars', async (t) => {
  const { rows } = await readSheet(join(org.dir, FILES.roster));
  t.is(rows[0]![0], '职业技能等级认定花名册');
  t.deepEqual(rows[2], ['序号', '姓名', '性别', '证件类型', '证件号码', '工作单位', '职业名称', '工种', '等级', '证书编号', '发证日期']);
  const body = rows.slice(3, -1);
  t.is(body.length, 20);
  t.deepEqual(body.map((r) => r[0]), Array.from({ length: 20 }, (_, i) => i + 1));
  const first = body[0]!;
  const c = org.summary.issued.find((x) => x.number === first[9])!;
  t.deepEqual(first.slice(1), [c.name, c.gender, '居民身份证', c.idNo, NEUTRALISER + c.employer, c.occupation, c.job || '——', '三级/高级工', c.number, c.issueDate]);
  t.deepEqual(rows.at(-1)!.slice(0, 2), ['合计', '20 人']);
});

test('the competition 取证名册 adds 奖牌类别/名次', async (t) => {
  const { rows } = await readSheet(join(bj.dir, FILES.roster));
  t.is(rows[0]![0], '北京市职业技能竞赛取证名册');
  t.is(rows[2]!.at(-1), '奖牌类别/名次');
  const body = rows.slice(3, -1);
  t.is(body.length, 20);
  for (const r of body) t.regex(String(r[11]), /金奖|银奖|铜奖|优胜奖/);
});

test('the Beijing 取证汇总表 counts by occupation, job and level and names the committee', async (t) => {
  const { rows } = await readSheet(join(bj.dir, FILES.competitionSummary));
  t.is(rows[0]![0], '职业技能竞赛取证汇总表');
  t.is(rows[1]![0], '竞赛名称：2026年北京市数控技能大赛');
  t.is(rows[2]![0], '竞赛组委会（盖章）：2026年北京市数控技能大赛组委会');
  t.deepEqual(rows[5], ['序号', '职业名称', '工种/职业方向', '职业技能等级', '取证人数', '备注']);
  const body: unknown[][] = [];
  for (const r of rows.slice(6)) { if (r[0] === '合计') break; body.push(r); }
  t.deepEqual(body.map((r) => r.slice(1, 5)), [
    ['车工', '数控车工', '三级/高级工', 4], ['车工', '数控车工', '四级/中级工', 5], ['车工', '数控车工', '五级/初级工', 3],
    ['铣工', '数控铣工', '三级/高级工', 3], ['铣工', '数控铣工', '四级/中级工', 5],
  ]);
  const total = rows.find((r) => r[0] === '合计')!;
  t.is(total[4], 20);
  t.true(rows.some((r) => String(r[0] ?? '').includes('北京市职业技能鉴定管理中心（竞赛专用章）')), 'the centre\'s seal line');
});

test('the Sichuan 申报汇总表 keeps its title, header block, fixed columns and 备注', async (t) => {
  const { rows, ws } = await readSheet(join(sc.dir, FILES.sichuanDeclaration));
  t.is(rows[0]![0], SICHUAN_TITLE);
  t.is(rows[1]![0], '大赛名称：2026年四川省数控技能大赛');
  t.is(rows[2]![0], '大赛牵头主办单位名称（盖章）：四川省机械工业联合会');
  t.is(rows[2]![4], '单位地址：成都市人民中路一段');
  t.is(rows[2]![6], '联系电话：028-86712192');
  t.regex(String(rows[3]![0]), /^大赛牵头主办单位负责人：_+$/, 'a blank line where the 负责人 signs');
  t.is(rows[3]![4], '经办人：杨坤');
  t.is(rows[3]![6], '制表日期：2026年3月10日');
  t.deepEqual(rows[4], [...SICHUAN_HEADER]);
  const body = rows.slice(5, 25);
  t.is(body.length, 20);
  const first = body[0]!;
  const c = sc.summary.issued.find((x) => x.name === first[1])!;
  t.deepEqual(first, [1, c.name, c.gender, c.idNo, NEUTRALISER + c.employer, `${c.occupation}（${c.job}）`, '三级/高级工', '省级一类', c.award]);
  t.deepEqual(rows.slice(-3).map((r) => r[0]), [...SICHUAN_NOTES]);
  t.true(ws.model.merges.includes('A1:I1'), 'the title spans the nine columns');
});

test('no cell of any workbook written is a formula, whatever the input held', async (t) => {
  let checked = 0;
  for (const dir of [org.dir, two.dir, bj.dir, sc.dir]) {
    for (const name of readdirSync(join(dir, 'tables'))) {
      const file = join(dir, 'tables', name);
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.readFile(file);
      wb.eachSheet((ws) => ws.eachRow((row) => row.eachCell((cell) => {
        checked++;
        t.not(cell.type, ExcelJS.ValueType.Formula, `${name} ${cell.address}`);
        if (typeof cell.value === 'string') t.false(/^[=+\-@\t\r]/.test(cell.value), `${name} ${cell.address} starts with a formula character`);
      })));
      t.false(/<f[ >]/.test(await sheetXml(file)), `${name} has a formula element`);
    }
  }
  t.true(checked > 500);
  const { rows } = await readSheet(join(org.dir, FILES.roster));
  const employers = rows.slice(3, -1).map((r) => r[5]);
  for (const h of HOSTILE) t.true(employers.includes(NEUTRALISER + h), `${h} neutralised`);
});

test('a provincial-size upload file is streamed: 20,000 rows, all there, in order', async (t) => {
  const base = org.summary.issued;
  const issued = Array.from({ length: 20_000 }, (_, i) => {
    const c = base[i % base.length]!;
    return { ...c, number: `S00001108401226${c.level}${String(i + 1).padStart(6, '0')}` };
  });
  const d = tmp();
  await writeCertificateData({ summary: { ...org.summary, issued }, profile: organisation(), dir: d, now: NOW });
  const { rows } = await readSheet(join(d, FILES.certificateData));
  t.is(rows.length, 20_001);
  const numbers = rows.slice(1).map((r) => r[6] as string);
  t.deepEqual(numbers, issued.map((c) => c.number).sort());
});
