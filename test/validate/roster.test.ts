import test from 'ava';
import { existsSync, statSync } from 'node:fs';
import { appendFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { summarise, validateRoster, type RosterValidation } from '../../pipeline/validate/roster.js';
import { writeRejectsWorkbook } from '../../pipeline/validate/rejects-workbook.js';
import { SkillcertError } from '../../pipeline/core/errors.js';
import type { Row } from '../../pipeline/core/record.js';
import { buildCompetitionCsv, buildOrganisationRoster, buildSichuanCompetitionRoster, FIXTURE_SCOPE, personId, withWrongCheckDigit } from '../helpers/roster-fixtures.js';
import { excelDate, tempDir, writeWorkbook } from '../helpers/roster-workbook.js';
import { fakeUncovered } from '../helpers/roster-validate.js';

const NOW = new Date('2026-11-20T02:00:00Z');
const opts = { uncovered: fakeUncovered(), now: NOW };

async function collect(v: RosterValidation): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const r of v.accepted()) rows.push(r);
  return rows;
}

test('the organisation fixture: accepted, rejected and skipped rows are exactly as its builder says', async (t) => {
  const fx = await buildOrganisationRoster(join(await tempDir(), 'organisation.xlsx'));
  const v = await validateRoster(fx.file, { scope: FIXTURE_SCOPE }, opts);
  const s = v.summary;
  t.is(s.rowsRead, fx.rowsRead);
  t.is(s.accepted, fx.accepted);
  t.deepEqual(s.skipped, fx.skipped);
  t.deepEqual(s.problems.map((p) => ({ rowNo: p.rowNo, rule: p.rule })), fx.rejected);
  const rows = await collect(v);
  t.is(rows.length, fx.accepted);
  t.deepEqual(rows.map((r) => r.name), ['王建国', '李秀英', '阿依古丽·买买提', '刘䶮', '张𠮷', '欧阳明月', '陈晨', '陈家豪', 'Anna Müller']);
  t.like(rows[2], { idType: '201', occupation: '中式烹调师', job: '', level: 4, issueDate: '2026-11-20', photo: '003.jpg' });
  t.like(rows[7], { idType: '210', idNo: 'H12345678' });
  t.like(rows[8], { idType: '208', idNo: 'C4RT56789' });
});

test('with a spool the accepted rows come back from it, the same as from a second read; it is 0600 and gone once read', async (t) => {
  const dir = await tempDir();
  const fx = await buildOrganisationRoster(join(dir, 'organisation.xlsx'));
  const spool = join(dir, 'accepted.jsonl');
  const v = await validateRoster(fx.file, { scope: FIXTURE_SCOPE }, { ...opts, spool });
  t.is(statSync(spool).mode & 0o777, 0o600, 'only the owner reads the ID numbers in it');
  // The roster is not read again: changing it now changes nothing.
  await appendFile(fx.file, 'garbage');
  const rows = await collect(v);
  const twin = await buildOrganisationRoster(join(dir, 'twin.xlsx'));
  t.deepEqual(rows, await collect(await validateRoster(twin.file, { scope: FIXTURE_SCOPE }, opts)), 'as a second read gives them');
  t.is(rows.length, fx.accepted);
  t.false(existsSync(spool), 'removed once read');
  // A validation the run gives up on removes its spool too.
  const other = join(dir, 'other.jsonl');
  (await validateRoster((await buildOrganisationRoster(join(dir, 'o2.xlsx'))).file, { scope: FIXTURE_SCOPE }, { ...opts, spool: other })).discard();
  t.false(existsSync(other));
});

test('a range of the accepted rows (a queued batch\'s chunk) comes from the spool or a second read alike, as often as asked; the spool stays until discarded', async (t) => {
  const dir = await tempDir();
  const fx = await buildOrganisationRoster(join(dir, 'organisation.xlsx'));
  const spool = join(dir, 'accepted.jsonl');
  const spooled = await validateRoster(fx.file, { scope: FIXTURE_SCOPE }, { ...opts, spool });
  const reread = await validateRoster((await buildOrganisationRoster(join(dir, 'twin.xlsx'))).file, { scope: FIXTURE_SCOPE }, opts);
  const all = await collect(reread);
  const range = async (v: RosterValidation, from: number, count: number) => {
    const rows: Row[] = [];
    for await (const r of v.accepted({ from, count })) rows.push(r);
    return rows;
  };
  for (const v of [spooled, reread]) {
    t.deepEqual(await range(v, 0, 4), all.slice(0, 4));
    t.deepEqual(await range(v, 4, 4), all.slice(4, 8));
    t.deepEqual(await range(v, 8, 4), all.slice(8), 'the last chunk is short');
    t.deepEqual(await range(v, 2, 3), all.slice(2, 5), 'asked again, out of order');
  }
  t.true(existsSync(spool), 'kept for the next chunk');
  spooled.discard();
  t.false(existsSync(spool));
});

test('the Sichuan 申报汇总表 fixture: every winner accepted as 合格 with occupation and job split', async (t) => {
  const fx = await buildSichuanCompetitionRoster(join(await tempDir(), 'sichuan.xlsx'));
  const v = await validateRoster(fx.file, { scope: FIXTURE_SCOPE }, { ...opts, issueDate: fx.issueDate! });
  t.is(v.summary.accepted, fx.accepted);
  t.deepEqual(v.summary.problems, []);
  t.like(v.summary.header.meta, { 大赛名称: '2026年四川技能大赛——第三届职业技能竞赛' });
  const rows = await collect(v);
  t.like(rows[0], { name: '杨帆', idType: '201', occupation: '电工', job: '维修电工', level: 2, result: '合格', award: '金奖/第一名', competitionCategory: '省级一类', issueDate: '2026-11-20' });
  t.like(rows[2], { name: '热依汗古丽·艾合买提', occupation: '焊工', job: '电焊工' });
  t.like(rows[3], { occupation: '车工', job: '' });
});

test('the Sichuan 申报汇总表 without an issue date given fails as a whole with E_ROSTER', async (t) => {
  const fx = await buildSichuanCompetitionRoster(join(await tempDir(), 'sichuan.xlsx'));
  const err = await t.throwsAsync(validateRoster(fx.file, { scope: FIXTURE_SCOPE }, opts), { instanceOf: SkillcertError });
  t.regex(err!.message, /sheet "申报汇总表" header row 5 has no column for 发证日期 \(or give the batch's issue date\)/);
});

test('the CSV fixture: a UTF-8 CSV with English headers, quoted commas and a 舞弊 row', async (t) => {
  const fx = await buildCompetitionCsv(join(await tempDir(), 'competition.csv'));
  const v = await validateRoster(fx.file, { scope: FIXTURE_SCOPE }, opts);
  t.is(v.summary.accepted, fx.accepted);
  t.deepEqual(v.summary.skipped, fx.skipped);
  const rows = await collect(v);
  t.is(rows[0]!.employer, '北京网安科技有限公司, 安全运营中心');
  t.is(rows[1]!.employer, '北京"智慧"安全技术研究院');
  t.deepEqual(v.summary.notes.map((n) => [n.rowNo, n.field, n.from, n.to]), [
    [2, 'Issue date', '2026/11/20', '2026-11-20'],
    [3, 'Issue date', '2026/11/20', '2026-11-20'],
    [4, 'Issue date', '2026/11/20', '2026-11-20'],
  ]);
});

/** A roster with one of every kind of trouble, for exact problems. */
async function troubleRoster(): Promise<string> {
  const id = (n: number, g: '男' | '女' = '男') => personId('110108', '19900307', n, g);
  return writeWorkbook(join(await tempDir(), 'trouble.xlsx'), [
    ['2026年第11批认定合格名单'],
    ['评价机构：北京海淀职业技能培训学校'],
    ['序号', '姓名', '性别', '证件类型', '证件号码', '工作单位', '职业名称', '工种/职业方向', '职业技能等级', '认定结果', '发证日期'],
    [1, '王建国', '男', '居民身份证', id(1), '=HYPERLINK("http://evil.example","点我")', '电工', '维修电工', '三级/高级工', '合格', excelDate('2026-11-20')],
    [2, '阿依古丽·买买提', '女', '201', id(2, '女'), '北京新疆大厦', '中式烹调师', '', '四级', '合格', 46346],
    [3, '张𠮷', '男', '201', 110108199003071000, '某厂', '车工', '', '3', '合格', '2026/11/20'],
    [4, '=HYPERLINK("http://evil.example","点我")', '男', '201', id(4), '某厂', '车工', '', '3', '合格', '2026-11-20'],
    [5, '李四', '男', '201', withWrongCheckDigit(id(5)), '某厂', '钳工', '', '三级', '合格', '2026-11-20'],
    [6, '王建国', '男', '201', id(1), '另一厂', '电工', '维修电工', '三级（高级工）', '合格', '2026-11-20'],
    [7, '刘䶮', '男', '201', id(7), '某厂', '电工', '高压电工', '二级', '合格', '2026-11-20'],
    [8, '赵六', '男', '201', id(8), '某厂', '电工', '维修电工', '三级', '缺考', '2026-11-20'],
    [9, '王建国', '男', '201', id(1), '某厂', '电工', '维修电工', '3', '合格', '2026-11-20'],
  ]);
}

test('a roster with every kind of trouble gives exactly these problems, the rest still accepted', async (t) => {
  const file = await troubleRoster();
  const v = await validateRoster(file, { scope: FIXTURE_SCOPE }, { ...opts, uncovered: fakeUncovered('䶮') });
  t.deepEqual(
    v.summary.problems.map((p) => [p.rowNo, p.field, p.rule, p.value]),
    [
      [6, '证件号码', 'id.precisionLost', '1101**********1000'],
      [7, '姓名', 'name.characters', '=HYPERLINK("http://evil.example","点我")'],
      [8, '证件号码', 'id.checkDigit', v.summary.problems[2]!.value],
      [8, '职业名称', 'scope.occupation', '钳工'],
      [9, '证件号码', 'duplicate.inRoster', v.summary.problems[4]!.value],
      [10, '姓名', 'font.uncovered', '刘䶮'],
      [10, '工种/职业方向', 'scope.job', '高压电工'],
      [12, '证件号码', 'duplicate.inRoster', v.summary.problems[4]!.value],
    ],
  );
  t.regex(v.summary.problems[4]!.message, /^row 9 is the same person and qualification .* as row 4;/);
  t.regex(v.summary.problems[5]!.message, /䶮 \(U\+4DAE\)/);
  t.false(JSON.stringify(v.summary).includes(personId('110108', '19900307', 1, '男')), 'no unmasked ID number anywhere in the summary');
  t.is(v.summary.accepted, 2);
  t.deepEqual(v.summary.skipped, { 不合格: 0, 缺考: 1, 舞弊: 0 });
  t.is(v.summary.rejectedRows, 6);
  const rows = await collect(v);
  t.deepEqual(rows.map((r) => [r.rowNo, r.name, r.issueDate]), [[4, '王建国', '2026-11-20'], [5, '阿依古丽·买买提', '2026-11-20']]);
  t.is(rows[0]!.employer, '=HYPERLINK("http://evil.example","点我")', 'the employer is not printed; writers make it safe with safeCell');
});

test('the rejects workbook from a roster keeps formula-looking values as inert text', async (t) => {
  const file = await troubleRoster();
  const v = await validateRoster(file, { scope: FIXTURE_SCOPE }, opts);
  const out = join(await tempDir(), 'rejects.xlsx');
  await writeRejectsWorkbook(out, v.summary.problems, { notes: v.summary.notes });
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(out);
  const ws = wb.getWorksheet('退回')!;
  const nameRow = ws.getRows(2, ws.rowCount - 1)!.find((r) => r.getCell(4).value === 'name.characters')!;
  t.is(nameRow.getCell(1).value, 7);
  t.is(nameRow.getCell(3).value, `\u2018=HYPERLINK("http://evil.example","点我")`);
  t.is(nameRow.getCell(3).type, ExcelJS.ValueType.String);
});

test('summarise() gives rows read, accepted, rejected by reason and skipped by result', async (t) => {
  const file = await troubleRoster();
  const v = await validateRoster(file, { scope: FIXTURE_SCOPE }, { ...opts, uncovered: fakeUncovered('䶮') });
  t.is(
    summarise(v.summary),
    [
      'roster trouble.xlsx, sheet "名单", header row 3: 9 rows read',
      '  accepted: 2',
      '  rejected: 6 rows (8 problems)',
      '        2  same person and qualification earlier in the roster [duplicate.inRoster]',
      '        1  a character no configured font covers [font.uncovered]',
      '        1  ID number check digit wrong (GB 11643) [id.checkDigit]',
      '        1  ID number stored by Excel as a number (digits lost) [id.precisionLost]',
      '        1  name has characters that cannot be in a name [name.characters]',
      '        1  job not registered for the occupation [scope.job]',
      '        1  occupation outside the registered scope [scope.occupation]',
      '  skipped: 1 (不合格 0, 缺考 1, 舞弊 0)',
      '  safe corrections applied: 2 (listed in the rejects workbook)',
    ].join('\n'),
  );
});

test('an unreadable roster fails with one E_ROSTER from validateRoster, before any row is handed out', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'broken.xlsx');
  await writeFile(file, 'this is not a workbook');
  const err = await t.throwsAsync(validateRoster(file, { scope: FIXTURE_SCOPE }, opts), { instanceOf: SkillcertError });
  t.is(err!.code, 'E_ROSTER');
  t.deepEqual(await readdir(dir), ['broken.xlsx'], 'nothing written');
});

test('a roster that changed after validation is refused when the accepted rows are read', async (t) => {
  const fx = await buildCompetitionCsv(join(await tempDir(), 'competition.csv'));
  const v = await validateRoster(fx.file, { scope: FIXTURE_SCOPE }, opts);
  await appendFile(fx.file, '新来的,男,201,110101198503120033,x,y,z,3,一等奖,合格,2026-11-20\r\n');
  const err = await t.throwsAsync(collect(v), { instanceOf: SkillcertError });
  t.regex(err!.message, /changed since it was validated/);
});

test('the accepted rows can be streamed more than once and come out the same', async (t) => {
  const fx = await buildOrganisationRoster(join(await tempDir(), 'organisation.xlsx'));
  const v = await validateRoster(fx.file, { scope: FIXTURE_SCOPE }, opts);
  t.deepEqual(await collect(v), await collect(v));
});

test('notes beyond maxNotes are counted, not kept', async (t) => {
  const fx = await buildCompetitionCsv(join(await tempDir(), 'competition.csv'));
  const v = await validateRoster(fx.file, { scope: FIXTURE_SCOPE }, { ...opts, maxNotes: 1 });
  t.is(v.summary.notes.length, 1);
  t.is(v.summary.notesOmitted, 2);
});

test('the summary carries the roster\'s SHA-256', async (t) => {
  const fx = await buildCompetitionCsv(join(await tempDir(), 'competition.csv'));
  const v = await validateRoster(fx.file, { scope: FIXTURE_SCOPE }, opts);
  t.regex(v.summary.sha256, /^[0-9a-f]{64}$/);
});

test('an issue date given in another form than YYYY-MM-DD is refused with E_USAGE', async (t) => {
  const fx = await buildSichuanCompetitionRoster(join(await tempDir(), 'sichuan.xlsx'));
  const err = await t.throwsAsync(validateRoster(fx.file, { scope: FIXTURE_SCOPE }, { ...opts, issueDate: '2026/11/20' }), { instanceOf: SkillcertError });
  t.is(err!.code, 'E_USAGE');
});
