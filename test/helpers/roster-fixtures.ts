/**
 * Realistic fixture rosters (for the tests and the demo), built from code so every ID number is a
 * valid GB 11643 number computed here — no real person's data. Run as a script to write them:
 *
 *   npx tsx test/helpers/roster-fixtures.ts <output folder>
 *
 * Each builder returns what validation must make of its roster, so a test can hold it to that.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LevelCode } from '../../pipeline/core/record.js';
import { excelDate, writeCsv, writeWorkbook, type CellInput } from './roster-workbook.js';
import { gb11643CheckDigit } from '../../pipeline/core/gb11643.js';

/** A GB 11643 居民身份证 number: region (6 digits) + birth date (YYYYMMDD) + sequence (3 digits) + check digit. */
export function residentId(region: string, birth: string, seq: number): string {
  const first17 = `${region}${birth}${String(seq).padStart(3, '0')}`;
  if (!/^\d{17}$/.test(first17)) throw new RangeError(`Expected 6 + 8 + 3 digits for an ID but received ${first17}`);
  return first17 + gb11643CheckDigit(first17);
}

/** An ID number whose 17th digit agrees with the gender (odd for 男), as GB 11643 requires. */
export function personId(region: string, birth: string, n: number, gender: '男' | '女'): string {
  return residentId(region, birth, (n % 500) * 2 + (gender === '男' ? 1 : 0));
}

/** The same number with a wrong check digit. */
export function withWrongCheckDigit(id: string): string {
  const right = id[17]!;
  const wrong = right === '3' ? '4' : '3';
  return id.slice(0, 17) + wrong;
}

/** Beijing district codes of GB/T 2260 used for fixtures: 东城 西城 (崇文) (宣武) 朝阳 丰台 石景山 海淀. */
export const BEIJING_REGIONS = ['110101', '110102', '110103', '110104', '110105', '110106', '110107', '110108'] as const;

/** The registered scope the fixtures are written against (for a demo profile's `scope`). */
export const FIXTURE_SCOPE: { occupation: string; jobs: string[]; levels: LevelCode[] }[] = [
  { occupation: '电工', jobs: ['维修电工', '安装电工'], levels: [2, 3, 4, 5] },
  { occupation: '车工', jobs: [], levels: [2, 3, 4, 5] },
  { occupation: '焊工', jobs: ['电焊工', '气焊工'], levels: [3, 4, 5] },
  { occupation: '中式烹调师', jobs: [], levels: [3, 4, 5] },
  { occupation: '养老护理员', jobs: [], levels: [3, 4, 5] },
  { occupation: '网络与信息安全管理员', jobs: ['网络安全管理员', '信息安全管理员'], levels: [1, 2, 3, 4, 5] },
  { occupation: '工业机器人系统运维员', jobs: [], levels: [2, 3, 4] },
];

export interface FixtureExpectation {
  readonly file: string;
  readonly rowsRead: number;
  readonly accepted: number;
  /** Rejected rows and the rule each breaks. */
  readonly rejected: readonly { rowNo: number; rule: string }[];
  readonly skipped: { 不合格: number; 缺考: number; 舞弊: number };
  /** 发证日期 to pass when the roster has no such column. */
  readonly issueDate?: string;
}

/**
 * A Beijing social training-and-evaluation organisation's 认定结果 roster (seed 004): title rows above
 * the header, dates as date cells, a Uyghur name with the middle dot, rare characters, a passport
 * holder, two non-passing rows, and three deliberate mistakes to show the rejects workbook.
 */
export async function buildOrganisationRoster(file: string): Promise<FixtureExpectation> {
  const d = excelDate('2026-11-20');
  const people: [string, '男' | '女', string, string, string, string, string, string][] = [
    // name, gender, region, birth, employer, occupation, job, level
    ['王建国', '男', '110101', '19850312', '北京城建集团有限公司', '电工', '维修电工', '三级/高级工'],
    ['李秀英', '女', '110102', '19900521', '北京市海淀区颐和养老院', '养老护理员', '', '四级/中级工'],
    ['阿依古丽·买买提', '女', '110105', '19960708', '北京新疆大厦', '中式烹调师', '', '四级/中级工'],
    ['刘䶮', '男', '110108', '19881130', '北京精密机械有限公司', '车工', '', '二级/技师'],
    ['张𠮷', '男', '110106', '19920215', '北京精密机械有限公司', '焊工', '电焊工', '四级/中级工'],
    ['欧阳明月', '女', '110107', '19980909', '北京网安科技有限公司', '网络与信息安全管理员', '网络安全管理员', '三级/高级工'],
    ['陈　晨', '女', '110103', '20000101', '北京城建集团有限公司', '电工', '安装电工', '五级/初级工'],
  ];
  const rows: CellInput[][] = [
    ['北京市职业技能等级认定合格人员名单（2026年第11批）'],
    ['评价机构：北京海淀职业技能培训学校', undefined, undefined, undefined, '制表日期：2026年11月20日'],
    [],
    ['序号', '姓名', '性别', '证件类型', '证件号码', '工作单位', '职业名称', '工种/职业方向', '职业技能等级', '认定结果', '照片', '发证日期'],
  ];
  let n = 1;
  for (const [name, gender, region, birth, employer, occ, job, level] of people) {
    const id = personId(region, birth, n, gender);
    rows.push([n, name, gender, '201', id, employer, occ, job, level, '合格', `${String(n).padStart(3, '0')}.jpg`, d]);
    n++;
  }
  // A Hong Kong resident with a 回乡证 and a foreign passport holder.
  rows.push([n, '陈家豪', '男', '210', 'H12345678', '北京港资物业管理有限公司', '养老护理员', '', '五级/初级工', '合格', `${String(n).padStart(3, '0')}.jpg`, d]);
  n++;
  rows.push([n, 'Anna Müller', '女', '外国护照', 'C4RT56789', '北京德企咨询有限公司', '中式烹调师', '', '五级/初级工', '合格', `${String(n).padStart(3, '0')}.jpg`, d]);
  n++;
  // Not issued: counted in the report (seed 004).
  rows.push([n, '赵磊', '男', '201', personId('110105', '19930403', n, '男'), '北京城建集团有限公司', '电工', '维修电工', '三级/高级工', '不合格', '', d]);
  n++;
  rows.push([n, '孙丽', '女', '201', personId('110106', '19950618', n, '女'), '北京市海淀区颐和养老院', '养老护理员', '', '四级/中级工', '缺考', '', d]);
  n++;
  const firstRow = 5;
  // Deliberate mistakes.
  const wrong = withWrongCheckDigit(personId('110108', '19870722', n, '男'));
  rows.push([n, '周志强', '男', '201', wrong, '北京精密机械有限公司', '车工', '', '三级/高级工', '合格', '', d]);
  const wrongRow = firstRow + n - 1;
  n++;
  rows.push([n, '吴芳', '女', '201', 110101199104051000, '北京城建集团有限公司', '电工', '维修电工', '四级/中级工', '合格', '', d]);
  const numericRow = firstRow + n - 1;
  n++;
  rows.push([n, '王建国', '男', '201', personId('110101', '19850312', 1, '男'), '北京城建集团有限公司', '电工', '维修电工', '三级/高级工', '合格', '001.jpg', d]);
  const dupRow = firstRow + n - 1;
  n++;
  rows.push([]);
  rows.push(['备注：本名单经公示7天无异议。']);
  await writeWorkbook(file, [{ name: '合格人员名单', rows }]);
  return {
    file,
    rowsRead: n - 1,
    accepted: people.length + 2,
    rejected: [
      { rowNo: wrongRow, rule: 'id.checkDigit' },
      { rowNo: numericRow, rule: 'id.precisionLost' },
      { rowNo: dupRow, rule: 'duplicate.inRoster' },
    ],
    skipped: { 不合格: 1, 缺考: 1, 舞弊: 0 },
  };
}

/**
 * The Sichuan 申报汇总表 (seed 001 附件) in its fixed column order with its header block:
 * 序号, 姓名, 性别, 身份证, 工作单位, 申报职业（工种）, 申报等级, 竞赛类别, 奖牌类别/名次.
 * No 发证日期 column: the batch's issue date is passed in.
 */
export async function buildSichuanCompetitionRoster(file: string): Promise<FixtureExpectation> {
  const winners: [string, '男' | '女', string, string, string, string, string, string][] = [
    ['杨帆', '男', '110105', '19970114', '国网北京电力检修公司', '电工（维修电工）', '二级/技师', '金奖/第一名'],
    ['黄丽娟', '女', '110106', '19990302', '北京城建集团有限公司', '电工（维修电工）', '三级/高级工', '银奖/第二名'],
    ['热依汗古丽·艾合买提', '女', '110108', '20010927', '北京工业技师学院', '焊工（电焊工）', '三级/高级工', '铜奖/第三名'],
    ['马超', '男', '110102', '19950506', '北京精密机械有限公司', '车工', '二级/技师', '一等奖/第一名'],
    ['林小雨', '女', '110107', '20000818', '北京智能制造职业技能培训学校', '工业机器人系统运维员', '三级/高级工', '二等奖/第二名'],
    ['郑浩然', '男', '110104', '19981212', '北京工业技师学院', '工业机器人系统运维员', '三级/高级工', '三等奖/第三名'],
  ];
  const rows: CellInput[][] = [
    ['四川省省级职业技能竞赛获奖选手获取职业证书申报汇总表'],
    ['大赛名称：2026年四川技能大赛——第三届职业技能竞赛'],
    ['大赛牵头主办单位名称（盖章）：四川省职业技能竞赛组委会办公室', undefined, undefined, undefined, '单位地址：成都市人民中路一段东二巷18号', undefined, undefined, '联系电话：028-86712192'],
    ['大赛牵头主办单位负责人：王东', undefined, undefined, undefined, '经办人：杨坤', undefined, undefined, '制表日期：2026年11月20日'],
    ['序号', '姓名', '性别', '身份证', '工作单位', '申报职业（工种）', '申报等级', '竞赛类别', '奖牌类别/名次'],
  ];
  winners.forEach(([name, gender, region, birth, employer, occ, level, award], i) => {
    rows.push([i + 1, name, gender, personId(region, birth, i + 1, gender), employer, occ, level, i < 3 ? '省级一类' : '省级二类', award]);
  });
  // Template rows that only carry their 序号, then the notes block (seed 001).
  rows.push([7], [8]);
  rows.push(['备注：1.申报等级是指参赛人员申请的职业证书等级。']);
  rows.push(['      2.竞赛类别是指省级一类、省级二类。']);
  rows.push(['      3.奖牌类别/名次，如：金奖/第一名或一等奖/第一名']);
  await writeWorkbook(file, [{ name: '申报汇总表', rows }]);
  return { file, rowsRead: winners.length, accepted: winners.length, rejected: [], skipped: { 不合格: 0, 缺考: 0, 舞弊: 0 }, issueDate: '2026-11-20' };
}

/**
 * A Beijing municipal competition's roster as a UTF-8 CSV with a BOM (seed 000): quoted fields with
 * commas, dates as 2026/11/20, English headers, one 舞弊 row.
 */
export async function buildCompetitionCsv(file: string): Promise<FixtureExpectation> {
  const rows: string[][] = [
    ['Name', 'Gender', 'ID Type', 'ID No.', 'Employer', 'Occupation', 'Job', 'Level', 'Award', 'Result', 'Issue date'],
    ['韩梅梅', '女', '居民身份证', personId('110105', '19960301', 1, '女'), '北京网安科技有限公司, 安全运营中心', '网络与信息安全管理员', '网络安全管理员', '二级/技师', '一等奖/第一名', '合格', '2026/11/20'],
    ['李雷', '男', '201', personId('110108', '19950712', 2, '男'), '北京"智慧"安全技术研究院', '网络与信息安全管理员', '信息安全管理员', '三级/高级工', '二等奖/第二名', '合格', '2026/11/20'],
    ['买买提·吐尔逊', '男', '201', personId('110102', '19940220', 3, '男'), '北京数据港有限公司', '网络与信息安全管理员', '网络安全管理员', '三级/高级工', '三等奖/第三名', '合格', '2026/11/20'],
    ['高伟', '男', '201', personId('110106', '19970505', 4, '男'), '北京数据港有限公司', '网络与信息安全管理员', '网络安全管理员', '三级/高级工', '优秀奖', '舞弊', '2026/11/20'],
  ];
  await writeCsv(file, rows, { bom: true });
  return { file, rowsRead: 4, accepted: 3, rejected: [], skipped: { 不合格: 0, 缺考: 0, 舞弊: 1 } };
}

/** Writes all fixture rosters into a folder. */
export async function buildAllFixtures(dir: string): Promise<FixtureExpectation[]> {
  await mkdir(dir, { recursive: true });
  return [
    await buildOrganisationRoster(join(dir, 'organisation-roster.xlsx')),
    await buildSichuanCompetitionRoster(join(dir, 'sichuan-competition-roster.xlsx')),
    await buildCompetitionCsv(join(dir, 'competition-roster.csv')),
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: npx tsx test/helpers/roster-fixtures.ts <output folder>');
    process.exit(2);
  }
  for (const f of await buildAllFixtures(dir)) console.log(`${f.file}: ${f.rowsRead} rows, ${f.accepted} to accept`);
}
