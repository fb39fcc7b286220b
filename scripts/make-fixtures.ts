/**
 * Writes the demo fixtures: three rosters (a style-one organisation, a style-two organisation, a Sichuan-layout
 * competition roster), their photos and the demo seals (演示章). Everything is made up and generated here:
 * ID numbers pass GB 11643 but belong to nobody; photos are drawn silhouettes; seals say 演示章.
 * Run: npx tsx scripts/make-fixtures.ts   (deterministic; the outputs are committed under fixtures/)
 *      npx tsx scripts/make-fixtures.ts --seals   (the seals only, e.g. after the seal font changed)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { makeDemoSeal } from '../pipeline/stamp/index.js';
import { personId, withWrongCheckDigit } from '../test/helpers/roster-fixtures.js';
import { excelDate, writeWorkbook, type CellInput } from '../test/helpers/roster-workbook.js';

const ROSTERS = 'fixtures/rosters';
const PHOTOS = join(ROSTERS, 'photos');
mkdirSync(PHOTOS, { recursive: true });
mkdirSync('fixtures/seals', { recursive: true });

// Seals: clearly marked demo seals (演示章) drawn from SVG in the seal font role; nobody can take them for real ones.
const seals: [string, string, Parameters<typeof makeDemoSeal>[1]][] = [
  ['haidian-qihang', '北京市海淀区启航职业技能培训学校', {}],
  ['steel-haidian-qihang', '北京市海淀区启航职业技能培训学校', { variant: 'steel', diameterMm: 24 }],
  ['jingdian-maintenance', '北京京电设备检修有限公司', { diameterMm: 36 }],
  ['jingdian-branch', '京电能源集团有限公司北京分公司', { diameterMm: 36 }],
  ['competition-cnc-2026', '北京市职业技能鉴定管理中心竞赛专用章', {}],
  ['sichuan-welding-2026', '四川省职业技能鉴定指导中心代章', {}],
];
async function writeSeals(): Promise<void> {
  for (const [file, text, opts] of seals) writeFileSync(`fixtures/seals/${file}.png`, await makeDemoSeal(text, opts));
}
if (process.argv.includes('--seals')) {
  await writeSeals();
  console.log('fixtures written: fixtures/seals/*.png');
  process.exit(0);
}

/** A head-and-shoulders silhouette on white (or on grey, for the photo that must be refused). */
async function photo(file: string, n: number, background = '#ffffff'): Promise<void> {
  const hue = (n * 47) % 360;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="390" height="510">
    <rect width="390" height="510" fill="${background}"/>
    <ellipse cx="195" cy="190" rx="82" ry="100" fill="hsl(${(hue + 20) % 360},35%,72%)"/>
    <path d="M 60 510 Q 70 330 195 320 Q 320 330 330 510 Z" fill="hsl(${hue},45%,30%)"/>
    <path d="M 113 170 Q 120 80 195 78 Q 270 80 277 170 Q 250 120 195 118 Q 140 120 113 170 Z" fill="hsl(${hue},20%,15%)"/>
  </svg>`;
  await sharp(Buffer.from(svg)).jpeg({ quality: 82 }).toFile(file);
}

type Person = [name: string, gender: '男' | '女', region: string, birth: string, employer: string, occupation: string, job: string, level: string, result: string];

async function organisationRoster(file: string, prefix: string, title: string[], people: Person[], extra: (n: number) => CellInput[][], issueDate: string, serialDates = false): Promise<void> {
  const d = serialDates ? { value: Math.round((Date.parse(`${issueDate}T00:00:00Z`) - Date.UTC(1899, 11, 30)) / 86400000), numFmt: '0' } : excelDate(issueDate);
  const rows: CellInput[][] = [...title.map((t) => [t]), [], ['序号', '姓名', '性别', '证件类型', '证件号码', '工作单位', '职业名称', '工种/职业方向', '职业技能等级', '认定结果', '照片', '发证日期']];
  let n = 1;
  for (const [name, gender, region, birth, employer, occ, job, level, result] of people) {
    const photoName = `${prefix}-${String(n).padStart(3, '0')}.jpg`;
    if (result === '合格') await photo(join(PHOTOS, photoName), n + prefix.length);
    rows.push([n, name, gender, '201', personId(region, birth, n, gender), employer, occ, job, level, result, result === '合格' ? photoName : '', d]);
    n++;
  }
  rows.push(...extra(n));
  await writeWorkbook(file, [{ name: '认定结果', rows }]);
}

// 1. A Beijing-filed social training-and-evaluation organisation (S, 0000, 海淀): style one.
const H: Person[] = [
  ['王建国', '男', '110108', '19850312', '北京城建集团有限公司', '电工', '', '三级/高级工', '合格'],
  ['李秀英', '女', '110108', '19900521', '北京市海淀区颐和养老院', '育婴员', '', '四级/中级工', '合格'],
  ['阿依古丽·买买提', '女', '110105', '19960708', '北京新疆大厦', '中式烹调师', '', '四级/中级工', '合格'],
  ['刘䶮', '男', '110108', '19881130', '北京精密机械有限公司', '电工', '', '四级/中级工', '合格'],
  ['张𠮷', '男', '110106', '19920215', '北京精密机械有限公司', '电工', '', '五级/初级工', '合格'],
  ['欧阳明月', '女', '110107', '19980909', '北京网安科技有限公司', '计算机程序设计员', '', '三级/高级工', '合格'],
  ['陈晨', '女', '110102', '20000101', '北京城建集团有限公司', '电工', '', '五级/初级工', '合格'],
  ['赵国强', '男', '110101', '19791023', '北京燕山石化有限公司', '电工', '', '三级/高级工', '合格'],
  ['孙悦', '女', '110105', '19970402', '北京好孩子家政服务有限公司', '育婴员', '', '五级/初级工', '合格'],
  ['周婷婷', '女', '110108', '19940817', '北京好孩子家政服务有限公司', '育婴员', '', '三级/高级工', '合格'],
  ['吴海峰', '男', '110106', '19860129', '北京全聚德餐饮有限公司', '中式烹调师', '', '三级/高级工', '合格'],
  ['郑小龙', '男', '110107', '19990611', '北京全聚德餐饮有限公司', '中式烹调师', '', '五级/初级工', '合格'],
  ['冯雪', '女', '110102', '19930305', '北京网安科技有限公司', '计算机程序设计员', '', '二级/技师', '合格'],
  ['褚卫东', '男', '110101', '19820716', '北京城建集团有限公司', '电工', '', '四级/中级工', '合格'],
  ['卫兰', '女', '110105', '19910920', '北京市海淀区颐和养老院', '育婴员', '', '四级/中级工', '合格'],
  ['蒋文博', '男', '110108', '19950228', '北京网安科技有限公司', '计算机程序设计员', '', '四级/中级工', '合格'],
  ['沈佳怡', '女', '110106', '20010514', '北京全聚德餐饮有限公司', '中式烹调师', '', '四级/中级工', '合格'],
  ['韩磊', '男', '110107', '19880903', '北京燕山石化有限公司', '电工', '', '三级/高级工', '不合格'],
  ['杨柳', '女', '110102', '19960127', '北京好孩子家政服务有限公司', '育婴员', '', '五级/初级工', '缺考'],
  ['朱明', '男', '110101', '19900618', '北京全聚德餐饮有限公司', '中式烹调师', '', '五级/初级工', '舞弊'],
];
await organisationRoster(`${ROSTERS}/haidian-qihang-2026-11.xlsx`, 'hd',
  ['北京市职业技能等级认定结果（2026年第11批）', '评价机构：北京市海淀区启航职业技能培训学校    公示期满：2026年11月18日'],
  H,
  (n) => {
    const d = excelDate('2026-11-20');
    const rows: CellInput[][] = [];
    const add = (cells: CellInput[]) => rows.push([n + rows.length, ...cells, d]);
    // Deliberate mistakes, each rejected with its reason in the rejects workbook.
    add(['许志远', '男', '201', withWrongCheckDigit(personId('110108', '19870722', n, '男')), '北京精密机械有限公司', '电工', '', '三级/高级工', '合格', 'hd-bad-01.jpg']);
    add(['何芳', '女', '201', 110101199104051000, '北京城建集团有限公司', '电工', '', '四级/中级工', '合格', 'hd-bad-02.jpg']);
    add(['吕建华', '男', '201', personId('110105', '19840309', n + 2, '男'), '北京精密机械有限公司', '焊工', '', '四级/中级工', '合格', 'hd-bad-03.jpg']);
    add(['施琳', '女', '201', personId('110106', '19920412', n + 3, '女'), '北京城建集团有限公司', '电工', '', '二级/技师', '合格', 'hd-bad-04.jpg']);
    add(['张𫠝', '男', '201', personId('110107', '19930515', n + 4, '男'), '=HYPERLINK("http://example.invalid","点我")', '电工', '', '五级/初级工', '合格', 'hd-bad-05.jpg']);
    add(['王建国', '男', '201', personId('110108', '19850312', 1, '男'), '北京城建集团有限公司', '电工', '', '三级/高级工', '合格', 'hd-001.jpg']);
    add(['孔令辉', '男', '201', personId('110102', '19890101', n + 6, '男'), '北京燕山石化有限公司', '电工', '', '四级/中级工', '合格', 'hd-missing.jpg']);
    add(['曹颖', '女', '201', personId('110101', '19950202', n + 7, '女'), '北京好孩子家政服务有限公司', '育婴员', '', '三级/高级工', '合格', 'hd-grey.jpg']);
    return rows;
  }, '2026-11-20');
for (let i = 1; i <= 5; i++) await photo(join(PHOTOS, `hd-bad-0${i}.jpg`), 90 + i);
await photo(join(PHOTOS, 'hd-grey.jpg'), 99, '#8a8f96');

// 2. A ministry-filed employer (Y, 0217, 西城): style two, two seals. Issue dates as Excel serial numbers.
const J: Person[] = [
  ['马志刚', '男', '110102', '19750304', '北京京电设备检修有限公司', '电工', '', '一级/高级技师', '合格'],
  ['田慧', '女', '110102', '19830612', '北京京电设备检修有限公司', '电工', '', '二级/技师', '合格'],
  ['石磊', '男', '110105', '19870822', '北京京电设备检修有限公司', '电工', '', '三级/高级工', '合格'],
  ['段雨萱', '女', '110106', '19960130', '北京京电设备检修有限公司', '电工', '', '四级/中级工', '合格'],
  ['邓超群', '男', '110108', '20000714', '北京京电设备检修有限公司', '电工', '', '五级/初级工', '合格'],
  ['贺建军', '男', '110101', '19790919', '京电能源集团有限公司北京分公司', '变配电运行值班员', '', '二级/技师', '合格'],
  ['罗敏', '女', '110107', '19880405', '京电能源集团有限公司北京分公司', '变配电运行值班员', '', '三级/高级工', '合格'],
  ['毛宇航', '男', '110105', '19941111', '京电能源集团有限公司北京分公司', '变配电运行值班员', '', '四级/中级工', '合格'],
  ['江涛', '男', '110108', '19860227', '北京京电设备检修有限公司', '电力电缆安装运维工', '输配电线路运维', '二级/技师', '合格'],
  ['史晓燕', '女', '110102', '19910608', '北京京电设备检修有限公司', '电力电缆安装运维工', '电缆敷设', '三级/高级工', '合格'],
  ['谭海', '男', '110106', '19930917', '北京京电设备检修有限公司', '电力电缆安装运维工', '电缆敷设', '四级/中级工', '合格'],
  ['夏明远', '男', '110101', '19850523', '北京京电设备检修有限公司', '电力电缆安装运维工', '输配电线路运维', '三级/高级工', '合格'],
  ['迪丽娜尔·阿布都拉', '女', '110105', '19970304', '北京京电设备检修有限公司', '变配电运行值班员', '', '四级/中级工', '合格'],
  ['侯建设', '男', '110107', '19800808', '北京京电设备检修有限公司', '电工', '', '三级/高级工', '不合格'],
];
await organisationRoster(`${ROSTERS}/jingdian-maintenance-2026-11.xlsx`, 'jd',
  ['京电设备检修职业技能等级认定结果名单'],
  J,
  (n) => [[n, '雷鸣', '男', '201', personId('110108', '19890319', n, '男'), '北京京电设备检修有限公司', '电力电缆安装运维工', '', '三级/高级工', '合格', 'jd-bad-01.jpg', { value: 46346, numFmt: '0' }]],
  '2026-11-20', true);
await photo(join(PHOTOS, 'jd-bad-01.jpg'), 77);

// 3. A Beijing municipal competition (seed 000): the committee's 取证名册 with 奖牌类别/名次 and 发证日期.
const winners: [string, '男' | '女', string, string, string, string, string, string, string][] = [
  ['杨帆', '男', '110105', '19970114', '北京精密机械有限公司', '车工', '数控车工', '二级/技师', '一等奖/第一名'],
  ['黄丽娟', '女', '110106', '19990302', '北京工业技师学院', '车工', '数控车工', '三级/高级工', '二等奖/第二名'],
  ['热依汗古丽·艾合买提', '女', '110108', '20010927', '北京工业技师学院', '车工', '数控车工', '三级/高级工', '三等奖/第三名'],
  ['马超', '男', '110102', '19950506', '北京精密机械有限公司', '铣工', '数控铣工', '二级/技师', '一等奖/第一名'],
  ['林小雨', '女', '110107', '20000818', '北京智能制造职业技能培训学校', '铣工', '数控铣工', '三级/高级工', '二等奖/第二名'],
  ['郑浩然', '男', '110104', '19981212', '北京工业技师学院', '铣工', '数控铣工', '三级/高级工', '三等奖/第三名'],
];
const d = excelDate('2026-11-20');
const crows: CellInput[][] = [
  ['北京市职业技能竞赛取证名册'],
  ['竞赛名称：2026年北京市数控技能大赛'],
  ['序号', '姓名', '性别', '证件类型', '证件号码', '工作单位', '职业名称', '工种/职业方向', '职业技能等级', '奖牌类别/名次', '照片', '发证日期'],
];
for (const [i, [name, gender, region, birth, employer, occ, job, level, award]] of winners.entries()) {
  const photoName = `cnc-${String(i + 1).padStart(3, '0')}.jpg`;
  await photo(join(PHOTOS, photoName), 200 + i);
  crows.push([i + 1, name, gender, '居民身份证', personId(region, birth, i + 1, gender), employer, occ, job, level, award, photoName, d]);
}
// A project outside the competition's authorisation (一赛一授权): rejected.
crows.push([7, '贾志新', '男', '居民身份证', personId('110101', '19990909', 7, '男'), '北京精密机械有限公司', '钳工', '装配钳工', '三级/高级工', '优秀奖', 'cnc-007.jpg', d]);
await photo(join(PHOTOS, 'cnc-007.jpg'), 207);
await writeWorkbook(`${ROSTERS}/competition-cnc-2026.xlsx`, [{ name: '取证名册', rows: crows }]);

// 4. A Sichuan provincial competition (seed 001) in its 申报汇总表 layout: header block, fixed columns, no 发证日期.
const sichuan: [string, '男' | '女', string, string, string, string, string, string][] = [
  ['李明轩', '男', '510104', '19960314', '四川建工集团有限公司', '焊工（电焊工）', '二级/技师', '金奖/第一名'],
  ['王雪梅', '女', '510105', '19980702', '成都工业职业技术学院', '焊工（电焊工）', '三级/高级工', '银奖/第二名'],
  ['扎西多吉', '男', '513321', '19970923', '四川甘孜州建设有限公司', '焊工（电焊工）', '三级/高级工', '铜奖/第三名'],
  ['吉克阿依', '女', '513401', '20000411', '凉山州技师学院', '焊工（气焊工）', '三级/高级工', '优秀奖'],
  ['周杰', '男', '510106', '19950101', '四川建工集团有限公司', '焊工（气焊工）', '二级/技师', '金奖/第一名'],
];
const srows: CellInput[][] = [
  ['四川省省级职业技能竞赛获奖选手获取职业证书申报汇总表'],
  ['大赛名称：2026年四川技能大赛焊接赛项'],
  ['大赛牵头主办单位名称（盖章）：四川省焊接协会', undefined, undefined, undefined, '单位地址：成都市人民中路一段东二巷18号', undefined, undefined, '联系电话：028-86712192'],
  ['大赛牵头主办单位负责人：王东', undefined, undefined, undefined, '经办人：杨坤', undefined, undefined, '制表日期：2026年11月20日'],
  ['序号', '姓名', '性别', '身份证', '工作单位', '申报职业（工种）', '申报等级', '竞赛类别', '奖牌类别/名次', '照片'],
];
for (const [i, [name, gender, region, birth, employer, occ, level, award]] of sichuan.entries()) {
  const photoName = `sc-${String(i + 1).padStart(3, '0')}.jpg`;
  await photo(join(PHOTOS, photoName), 300 + i);
  srows.push([i + 1, name, gender, personId(region, birth, i + 1, gender), employer, occ, level, '省级一类', award, photoName]);
}
srows.push([6], [7], ['备注：1.申报等级是指参赛人员申请的职业证书等级。'], ['      2.竞赛类别是指省级一类、省级二类。'], ['      3.奖牌类别/名次，如：金奖/第一名或一等奖/第一名']);
await writeWorkbook(`${ROSTERS}/sichuan-welding-2026.xlsx`, [{ name: '申报汇总表', rows: srows }]);

await writeSeals();
console.log('fixtures written: fixtures/rosters/*.xlsx, fixtures/rosters/photos/*.jpg, fixtures/seals/*.png');
