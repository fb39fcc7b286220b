/**
 * 附件4 forms from the recorded corrections (SPEC §8): reopened with exceljs and read cell by cell.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { dataModificationRows, issueDateOf, writeCorrectionForms, type FormsProfile, type OfficeDetails } from '../../pipeline/after/forms.js';
import { maskIdOnForm, maskName } from '../../pipeline/core/privacy.js';
import { NEUTRALISER } from '../../pipeline/core/cells.js';
import { SkillcertError } from '../../pipeline/core/errors.js';
import { openSqliteRegistry, type SqliteRegistry } from '../../pipeline/registry/sqlite.js';
import { issuedCertificate, NEW_ID, PEOPLE } from '../helpers/registry-after.js';
import { HAIDIAN } from '../helpers/registry-fixtures.js';
import { tempRegistryPath } from '../helpers/registry-processes.js';

const ORG = '北京示例职业技能评价中心';
const STYLE_ONE: FormsProfile = { id: 'haidian-skills', name: { zh: ORG, en: 'Beijing Example Skills Centre' }, styleId: 'style-one', numbering: { rule: 'beijing', district: '08', serial: '2003' } };
const STYLE_TWO: FormsProfile = { ...STYLE_ONE, styleId: 'style-two', branch: { name: { zh: '示例集团北京分公司', en: 'Example Group Beijing Branch' }, seal: 'seals/branch.png' } };
const OFFICE: OfficeDetails = { filingNo: 'PJ2025110802003', address: '北京市海淀区示例路1号', handler: '王经办', phone: '010-12345678', filledBy: '张填表' };

// July 2025, Beijing time.
const FROM = new Date('2025-06-30T16:00:00.000Z');
const TO = new Date('2025-07-31T16:00:00.000Z');
const AT = new Date('2025-08-03T02:00:00.000Z');

const DATA_COLUMNS = ['原证书编号', '原证件号码', '原姓名', '姓名', '证件类型', '证件号码', '所在单位', '职业名称', '工种名称', '职业技能等级', '证书编号', '发证日期', '评价机构', '发证机构'];

/** A registry with corrections in July (name, ID number, photo), one in August, and one of another organisation. */
async function setUp(): Promise<{ registry: SqliteRegistry; dir: string; li: string; wu: string; chen: string; zhao: string }> {
  const registry = await openSqliteRegistry(tempRegistryPath(), { operator: 'nightly-batch' });
  const li = (await issuedCertificate(registry, PEOPLE.li)).number;
  const wu = (await issuedCertificate(registry, { ...PEOPLE.wu, employer: '=HYPERLINK("http://evil.example","点我")' })).number;
  const chen = (await issuedCertificate(registry, PEOPLE.chen, { issueDate: '2025-07-02' })).number;
  const zhao = (await issuedCertificate(registry, PEOPLE.zhao)).number;
  const other = (await issuedCertificate(registry, { ...PEOPLE.li, occupation: '焊工' }, { issuer: { ...HAIDIAN, id: 'xicheng-union', numbering: { rule: 'beijing', district: '02', serial: '6001' } } })).number;

  await registry.correct(li, { name: '李晓刚' }, '身份证姓名为李晓刚，录入有误', new Date('2025-07-05T02:00:00.000Z'), 'clerk-wang');
  await registry.correct(wu, { idNo: NEW_ID }, '身份证号码录入有误', new Date('2025-07-06T02:00:00.000Z'), 'clerk-wang');
  await registry.correct(chen, { photo: true }, '照片非本人近照', new Date('2025-07-07T02:00:00.000Z'), 'clerk-wang');
  await registry.correct(zhao, { name: '赵莉' }, '八月的更正', new Date('2025-08-01T02:00:00.000Z'), 'clerk-wang');
  await registry.correct(other, { name: '李晓刚' }, '另一机构', new Date('2025-07-05T03:00:00.000Z'), 'clerk-wang');
  return { registry, dir: mkdtempSync(join(tmpdir(), 'skillcert-forms-')), li, wu, chen, zhao };
}

async function open(file: string): Promise<ExcelJS.Worksheet> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const ws = wb.worksheets[0];
  if (!ws) throw new Error(`no sheet in ${file}`);
  return ws;
}

const row = (ws: ExcelJS.Worksheet, r: number, n: number): unknown[] => Array.from({ length: n }, (_, k) => ws.getCell(r, k + 1).value);

function allText(ws: ExcelJS.Worksheet): string {
  const out: string[] = [];
  ws.eachRow((r) => r.eachCell((c) => void out.push(String(c.value))));
  return out.join('\n');
}

test('the 数据修改信息表 has the 14 columns of 附件4 in order and one row per name or ID correction, codes and dates as its 说明 require', async (t) => {
  const { registry, dir, li, wu } = await setUp();
  const result = await writeCorrectionForms(registry, { profile: STYLE_ONE, office: OFFICE, from: FROM, to: TO, dir, at: AT, operator: 'clerk-wang' });
  t.is(result.corrections, 3, 'July, this organisation: name, ID number, photo');
  t.is(result.dataModification?.rows, 2, 'the photo correction changes no data column');
  const ws = await open(result.dataModification!.file);

  t.is(ws.getCell(1, 1).value, '职业技能等级数据修改信息表');
  t.is(ws.getCell(2, 1).value, '单位（公章）：');
  t.deepEqual(row(ws, 3, 14), DATA_COLUMNS);
  t.deepEqual(row(ws, 4, 14), [li, PEOPLE.li.idNo, '李小刚', '李晓刚', '201', PEOPLE.li.idNo, '北京示例电气有限公司', '电工', '', '3', li, '2025-07-01', ORG, ORG]);
  t.deepEqual(row(ws, 5, 14), [wu, PEOPLE.wu.idNo, '吴敏', '吴敏', '201', NEW_ID, `${NEUTRALISER}=HYPERLINK("http://evil.example","点我")`, '电工', '', '4', wu, '2025-07-01', ORG, ORG]);
  t.is(ws.getCell(5, 7).type, ExcelJS.ValueType.String, 'the employer reached the cell as text, not as a formula');
  t.is(ws.getCell(6, 1).value, null, 'no third row');

  t.is(ws.getCell(7, 1).value, '填表人：张填表');
  t.is(ws.getCell(8, 1).value, '联系电话：010-12345678');
  t.is(ws.getCell(9, 1).value, '填表日期：2025-08-03');
  t.is(ws.getCell(11, 1).value, '说明：');
  const notes = [12, 13, 14, 15, 16].map((r) => String(ws.getCell(r, 1).value));
  t.deepEqual(notes.map((n) => n.slice(0, 2)), ['1、', '2、', '3、', '4、', '5、']);
  t.regex(notes[2]!, /201=居民身份证；227=中国护照/);
  t.regex(notes[3]!, /1=一级或高级技师/);
  t.is(notes[4], '5、发证日期为 YYYY-MM-DD 格式。');
  await registry.close();
});

test('the 信息更正申请表 has the header block, the two-row table header, masked names and ID numbers, and the reasons', async (t) => {
  const { registry, dir, li, wu, chen } = await setUp();
  const result = await writeCorrectionForms(registry, { profile: STYLE_ONE, office: OFFICE, from: FROM, to: TO, dir, at: AT, operator: 'clerk-wang' });
  t.is(result.application?.rows, 3);
  const ws = await open(result.application!.file);

  t.is(ws.getCell(1, 1).value, '北京市职业技能等级证书信息更正申请表');
  t.deepEqual([2, 3, 4].map((r) => [ws.getCell(r, 1).value, ws.getCell(r, 2).value, ws.getCell(r, 5).value, ws.getCell(r, 6).value]), [
    ['评价机构名称', ORG, '机构备案号', 'PJ2025110802003'],
    ['办公地址', '北京市海淀区示例路1号', '注册地辖区', '海淀区'],
    ['经办人', '王经办', '联系电话', '010-12345678'],
  ]);
  t.deepEqual([ws.getCell(5, 1).value, ws.getCell(5, 2).value, ws.getCell(5, 6).value, ws.getCell(5, 7).value, ws.getCell(5, 8).value], ['序号', '认定系统显示内容', '更正项', '更正后信息', '附件']);
  t.deepEqual(row(ws, 6, 5).slice(1), ['认定批次', '证书编号', '姓名', '身份证号']);
  t.true(ws.getCell(6, 1).isMerged && ws.getCell(6, 1).master.address === 'A5', '序号 spans both header rows');

  const identity = '身份证正反面图片或复印件，并加盖印章。';
  t.deepEqual(row(ws, 7, 8), [1, '20250701-night', li, '李*刚', maskIdOnForm(PEOPLE.li.idNo), '姓名', '李*刚', identity]);
  t.deepEqual(row(ws, 8, 8), [2, '20250701-night', wu, '吴*', maskIdOnForm(PEOPLE.wu.idNo), '身份证号', maskIdOnForm(NEW_ID), identity]);
  t.deepEqual(row(ws, 9, 8), [3, '20250701-night', chen, '陈*国', maskIdOnForm(PEOPLE.chen.idNo), '照片', '', '证书复印件，并加盖印章。']);
  t.is(maskIdOnForm(PEOPLE.li.idNo), `210304********${PEOPLE.li.idNo.slice(-4)}`, 'as in the sample: 210304********123X');
  t.deepEqual([row(ws, 10, 2), row(ws, 11, 2)], [[4, ''], [5, '']], 'blank rows up to 5, as on the form');

  t.is(ws.getCell(12, 1).value, '申请更正原因');
  t.is(ws.getCell(12, 2).value, `1. ${li}（姓名）：身份证姓名为李晓刚，录入有误\n2. ${wu}（身份证号）：身份证号码录入有误\n3. ${chen}（照片）：照片非本人近照`);
  t.regex(String(ws.getCell(13, 2).value), /评价机构（盖章）\n年　　月　　日/);
  t.is(ws.getCell(14, 1).value, '备注');
  t.regex(String(ws.getCell(14, 2).value), /^1、如更正照片信息.*\n2、纸质版更正表/);

  const text = allText(ws);
  for (const id of [PEOPLE.li.idNo, PEOPLE.wu.idNo, PEOPLE.chen.idNo, NEW_ID]) t.false(text.includes(id), 'no full ID number on the application form');
  t.false(text.includes('李小刚'), 'no full name in the table');
  await registry.close();
});

test('for style two the branch is the 发证机构; otherwise the evaluation organisation is both', async (t) => {
  const { registry, li } = await setUp();
  const corrections = await registry.corrections({ number: li });
  t.deepEqual(dataModificationRows(corrections, STYLE_TWO)[0]?.slice(12), [ORG, '示例集团北京分公司']);
  t.deepEqual(dataModificationRows(corrections, STYLE_ONE)[0]?.slice(12), [ORG, ORG]);
  const { branch: _omit, ...noBranch } = STYLE_TWO;
  t.throws(() => dataModificationRows(corrections, noBranch), { instanceOf: SkillcertError, message: /style two needs "branch"/ });
  await registry.close();
});

test('the issue date is the printed one as YYYY-MM-DD, else the numbering date in Beijing (第十三条)', async (t) => {
  const { registry, li, chen } = await setUp();
  const [a] = await registry.corrections({ number: li });
  const [c] = await registry.corrections({ number: chen });
  t.is(issueDateOf(a!.certificate), '2025-07-01');
  t.is(issueDateOf(c!.certificate), '2025-07-02');
  t.is(issueDateOf({ ...a!.certificate, printed: {}, numberedAt: '2025-06-30T17:00:00.000Z' }), '2025-07-01');
  await registry.close();
});

test('each form handed out is an export entry in the audit trail with its SHA-256, and no temporary file is left', async (t) => {
  const { registry, dir, li, wu, chen } = await setUp();
  const result = await writeCorrectionForms(registry, { profile: STYLE_ONE, office: OFFICE, from: FROM, to: TO, dir, at: AT, operator: 'clerk-wang' });
  t.deepEqual(readdirSync(dir).sort(), [
    '北京市职业技能等级证书信息更正申请表-haidian-skills-2025-07-01_2025-07-31.xlsx',
    '职业技能等级数据修改信息表-haidian-skills-2025-07-01_2025-07-31.xlsx',
  ]);
  const [data, app] = result.exports;
  const digest = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
  t.like(data, { action: 'export', operator: 'clerk-wang', at: AT.toISOString(), afterSha256: digest(result.dataModification!.file), number: null });
  t.like(app, { action: 'export', afterSha256: digest(result.application!.file) });
  t.deepEqual(data?.changes, [
    { field: 'file', before: null, after: '职业技能等级数据修改信息表-haidian-skills-2025-07-01_2025-07-31.xlsx' },
    { field: 'numbers', before: null, after: [li, wu].join(',') },
  ]);
  t.is(app?.changes[1]?.after, [li, wu, chen].join(','));
  t.regex(data?.reason ?? '', /职业技能等级数据修改信息表 haidian-skills 2025-07-01\.\.2025-07-31, 2 rows/);
  t.true((await registry.verifyAudit()).ok);
  await registry.close();
});

test('a period without corrections of the organisation writes nothing; a reversed period is refused', async (t) => {
  const { registry, dir } = await setUp();
  const june = { from: new Date('2025-05-31T16:00:00.000Z'), to: FROM };
  const result = await writeCorrectionForms(registry, { profile: STYLE_ONE, office: OFFICE, ...june, dir, at: AT, operator: 'clerk-wang' });
  t.deepEqual(result, { corrections: 0, exports: [] });
  t.deepEqual(readdirSync(dir), []);
  await t.throwsAsync(writeCorrectionForms(registry, { profile: STYLE_ONE, office: OFFICE, from: TO, to: FROM, dir, at: AT, operator: 'x' }), { message: /give "from" before "to"/ });
  await registry.close();
});

test('names are masked as on the sample form, by characters, not UTF-16 units', (t) => {
  t.is(maskName('李晓刚'), '李*刚');
  t.is(maskName('吴敏'), '吴*');
  t.is(maskName('阿依古丽·买买提'), '阿******提');
  t.is(maskName('𠮷野家'), '𠮷*家');
  t.is(maskIdOnForm('E12345678'), 'E1*****78');
});
