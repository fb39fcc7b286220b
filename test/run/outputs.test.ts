/**
 * `skillcert run` outputs held against the batch (issue 5, SPEC §7): one real run of the built command on a
 * small roster written here (issued, rejected for data, rejected for a photo, not passed, a formula-looking
 * employer), then every output read back with independent readers — exceljs (and the sheet XML itself),
 * pdftotext, sha256 of the bytes, the registry file opened read-only — and compared with the roster and
 * report.json. The two competition fixtures are run for their own forms: the Sichuan 申报汇总表 and the
 * Beijing 备案回执.
 */
import test from 'ava';
import { readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ExcelJS from 'exceljs';
import { readZip, rewriteZip } from '../helpers/archive.js';
import {
  batchDir, certificateFiles, filesUnder, GENERATED, pdfText, profile, readWorkbook, registryRows, removeTempDirs, requireBuiltCli,
  ROSTERS, rowNoOf, sha256, sha256File, show, skillcert, tempDir, text, values, validPeople, writeRoster,
  type CliResult, type RosterRow, type SheetCell,
} from '../helpers/cli.js';
import { personId, withWrongCheckDigit } from '../helpers/roster-fixtures.js';

test.before(() => requireBuiltCli());
test.after.always(removeTempDirs);

const HAIDIAN = JSON.parse(readFileSync(profile('haidian-qihang'), 'utf8')) as { name: { zh: string } };
const FORMULA_EMPLOYER = '=HYPERLINK("x")';
const people = validPeople(8, 900);
const ROWS: RosterRow[] = [
  ...people.slice(0, 6),
  { ...people[6]!, employer: FORMULA_EMPLOYER },
  { ...validPeople(1, 920)[0]!, gender: '男', idNo: withWrongCheckDigit(personId('110108', '19870722', 41, '男')) },
  { ...validPeople(1, 921)[0]!, gender: '女', idNo: 110101199104051000 },
  { ...people[7]!, photo: 'no-such-photo.jpg' },
  { ...validPeople(1, 922)[0]!, result: '不合格' },
  { ...validPeople(1, 923)[0]!, result: '缺考' },
];
const ISSUED = ROWS.slice(0, 7);
/** Spreadsheet row → rule of each rejected row. */
const REJECTED = new Map([[rowNoOf(7), 'id.checkDigit'], [rowNoOf(8), 'id.precisionLost'], [rowNoOf(9), 'photo.missing']]);
/** [row, rule] pairs in row order, for comparisons that do not depend on the order of a listing. */
const byRow = (pairs: Iterable<[number, string]>): [number, string][] => [...pairs].sort((a, b) => a[0] - b[0]);
const ALL_IDS = ROWS.map((r) => String(r.idNo));
const LEVEL_CODE: Record<string, string> = { 一: '1', 二: '2', 三: '3', 四: '4', 五: '5' };

interface RunJson { ok: boolean; batchId: string; dir: string; registry: string; archive: string; issued: number; rejected: number; skipped: number; files: string[] }
interface Report {
  counts: { rowsRead: number; issued: number; created: number; existing: number; rejectedRows: number; notPassed: Record<string, number>; skipped: number; accounted: number };
  rejects: { rowNo: number; field: string; value?: string; rule: string; message: string }[];
  skipped: { rowNo: number; result?: string }[];
}

let run: CliResult;
let result: RunJson;
let dir: string;
let report: Report;
/** ID number → certificate number, from the registry. */
let numberOf: Map<string, string>;

test.before(async () => {
  const work = tempDir('skillcert-run-outputs-');
  const roster = await writeRoster(join(work, 'results-2026-11.xlsx'), ROWS);
  const out = join(work, 'out');
  run = await skillcert(['run', '--roster', roster, '--profile', profile('haidian-qihang'), '--out', out, '--photos', join(ROSTERS, 'photos'), '--workers', '1', '--json']);
  if (run.code !== 0) throw new Error(`skillcert run failed: ${show(run)}`);
  result = JSON.parse(run.stdout) as RunJson;
  dir = batchDir(out);
  report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
  numberOf = new Map(registryRows(result.registry).map((r) => [r.id_no, r.number]));
});

test('the run reports what the roster holds: rows read, issued, rejected and not passed', (t) => {
  t.is(result.dir, dir);
  t.like(report.counts, { rowsRead: 12, issued: 7, created: 7, existing: 0, rejectedRows: 3, notPassed: { 不合格: 1, 缺考: 1, 舞弊: 0 }, skipped: 2, accounted: 12 });
  t.deepEqual(report.skipped.map((s) => [s.rowNo, s.result]), [[rowNoOf(10), '不合格'], [rowNoOf(11), '缺考']]);
});

test('one signed PDF per issued row, named by its certificate number', async (t) => {
  const { pdfs, leftovers } = certificateFiles(dir);
  t.deepEqual(leftovers, []);
  t.is(pdfs.length, ISSUED.length);
  t.deepEqual(pdfs, ISSUED.map((r) => `${numberOf.get(String(r.idNo))}.pdf`).sort(), 'each issued person has the certificate the registry numbered');
  for (const f of pdfs) {
    const bytes = readFileSync(join(dir, 'certificates', f));
    t.regex(bytes.toString('latin1'), /\/SubFilter\s*\/ETSI\.CAdES\.detached/, `${f} carries a PAdES signature`);
    t.true((await pdfText(join(dir, 'certificates', f))).includes(f.replace('.pdf', '')), `${f} prints its own number`);
  }
});

test('certificate-data.xlsx has the 第十二条 columns in order, one row per certificate, dates YYYY-MM-DD, level and ID type as codes', async (t) => {
  const sheets = await readWorkbook(join(dir, 'tables', 'certificate-data.xlsx'));
  t.is(sheets.size, 1);
  const rows = [...sheets.values()][0]!;
  t.deepEqual(values(rows[0]), ['持证人姓名', '证件类型', '证件号码', '职业名称', '工种/职业方向', '职业技能等级', '证书编号', '发证日期', '发证机构名称']);
  const data = rows.slice(1).filter((r) => r.length > 0);
  t.is(data.length, ISSUED.length);
  const seen = new Set<string>();
  for (const r of data) {
    const v = values(r);
    const person = ISSUED.find((p) => String(p.idNo) === v[2]);
    if (!person) return t.fail(`row ${JSON.stringify(v)} is no issued roster row`);
    seen.add(v[2]!);
    t.is(r[2]!.type, ExcelJS.ValueType.String, 'the ID number is a text cell, never a float');
    t.deepEqual(v, [person.name, '201', String(person.idNo), person.occupation, '', LEVEL_CODE[person.level[0]!]!, numberOf.get(v[2]!)!, '2026-11-20', HAIDIAN.name.zh]);
    t.regex(v[7]!, /^\d{4}-\d{2}-\d{2}$/);
    t.is(r[7]!.type, ExcelJS.ValueType.String, 'the date is YYYY-MM-DD text, not a date serial');
  }
  t.is(seen.size, ISSUED.length, 'one row per certificate');
});

/** Cells of the row whose first cell is `first`, and the rows below it. */
function from(rows: readonly SheetCell[][], first: string): { header: string[]; below: SheetCell[][] } {
  const i = rows.findIndex((r) => text(r[0]) === first);
  if (i < 0) throw new Error(`no row starting with ${first}`);
  return { header: values(rows[i]), below: rows.slice(i + 1) };
}

test('summary-counts totals equal the rows read by result, and each line adds up', async (t) => {
  const rows = [...(await readWorkbook(join(dir, 'tables', 'summary-counts.xlsx'))).values()][0]!;
  const { header, below } = from(rows, '职业名称');
  const col = (name: string) => header.indexOf(name);
  for (const name of ['职业技能等级', '合格（发证）', '不合格', '缺考', '舞弊', '数据有误（退回）', '合计']) t.true(col(name) > 0, name);
  const totalAt = below.findIndex((r) => text(r[0]) === '合计');
  const lines = below.slice(0, totalAt).map(values);
  const total = values(below[totalAt]);
  const n = (row: string[], name: string) => Number(row[col(name)] || 0);
  t.is(n(total, '合格（发证）'), ISSUED.length);
  t.is(n(total, '不合格'), 1);
  t.is(n(total, '缺考'), 1);
  t.is(n(total, '舞弊'), 0);
  t.is(n(total, '数据有误（退回）'), REJECTED.size);
  t.is(n(total, '合计'), 12, 'every row read is counted once');
  const countCols = header.slice(2, col('合计'));
  for (const line of [...lines, total]) {
    t.is(countCols.reduce((s, name) => s + n(line, name), 0), n(line, '合计'), `${line[0]} ${line[1]} adds up`);
  }
  for (const name of countCols) t.is(lines.reduce((s, l) => s + n(l, name), 0), n(total, name), `column ${name} adds up`);
  // Issued by occupation × level, as the roster says.
  const expected = new Map<string, number>();
  for (const p of ISSUED) expected.set(`${p.occupation}|${p.level}`, (expected.get(`${p.occupation}|${p.level}`) ?? 0) + 1);
  const got = new Map(lines.filter((l) => n(l, '合格（发证）') > 0).map((l) => [`${l[0]}|${l[1]}`, n(l, '合格（发证）')]));
  t.deepEqual([...got].sort(), [...expected].sort());
});

test('roster.xlsx (花名册) lists every issued certificate once, with its holder', async (t) => {
  const rows = [...(await readWorkbook(join(dir, 'tables', 'roster.xlsx'))).values()][0]!;
  const { header, below } = from(rows, '序号');
  const totalAt = below.findIndex((r) => text(r[0]) === '合计');
  const data = below.slice(0, totalAt).map(values);
  t.is(data.length, ISSUED.length);
  t.deepEqual(data.map((r) => r[0]), ISSUED.map((_, i) => String(i + 1)));
  const c = (name: string) => header.indexOf(name);
  t.deepEqual(data.map((r) => r[c('证书编号')]).sort(), ISSUED.map((p) => numberOf.get(String(p.idNo))!).sort());
  for (const r of data) t.is(numberOf.get(r[c('证件号码')]!), r[c('证书编号')], `${r[c('姓名')]}: holder and number agree with the registry`);
  t.is(text(below[totalAt]![1]), `${ISSUED.length} 人`);
});

test('rejects.xlsx lists exactly the rejected rows with their reasons, as report.json does', async (t) => {
  const sheet = (await readWorkbook(join(dir, 'rejects.xlsx'))).get('退回');
  if (!sheet) return t.fail('no sheet 退回');
  t.deepEqual(values(sheet[0]), ['行号', '列', '值', '规则', '原因']);
  const lines = sheet.slice(1).filter((r) => r.length > 0).map(values);
  t.deepEqual(byRow(lines.map((l) => [Number(l[0]), l[3]!])), byRow(REJECTED));
  for (const l of lines) t.true(l[4]!.length > 20, `a reason in words: ${l[4]}`);
  t.regex(lines.find((l) => l[3] === 'photo.missing')![4]!, /"no-such-photo\.jpg" is not in the photo folder/);
  t.deepEqual(lines.map((l) => [Number(l[0]), l[3], l[2]]), report.rejects.map((p) => [p.rowNo, p.rule, p.value ?? '']));
});

test('the batch receipt and the sign-off sheet name every certificate number', async (t) => {
  const numbers = [...numberOf.values()];
  t.is(numbers.length, ISSUED.length);
  const receipt = await pdfText(join(dir, 'receipts', 'batch-receipt.pdf'));
  const signoff = await pdfText(join(dir, 'receipts', 'signoff-sheet.pdf'));
  for (const n of numbers) {
    t.true(receipt.includes(n), `batch receipt names ${n}`);
    t.true(signoff.includes(n), `sign-off sheet names ${n}`);
  }
  t.regex(signoff, new RegExp(`合计\\s*${ISSUED.length}\\s*本`));
  t.true(receipt.includes(result.batchId) && signoff.includes(result.batchId));
});

test('manifest.json lists every file of the batch with its SHA-256, and verify-bundle accepts the archive', async (t) => {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { batchId: string; algorithm: string; files: { path: string; size: number; sha256: string }[] };
  t.is(manifest.batchId, result.batchId);
  t.is(manifest.algorithm, 'SHA-256');
  const archiveRel = relative(dir, result.archive).split(sep).join('/');
  const expected = filesUnder(dir).filter((f) => f !== 'manifest.json' && f !== 'manifest.json.jws' && f !== archiveRel).sort();
  t.deepEqual(manifest.files.map((f) => f.path).sort(), expected, 'every file, nothing more');
  for (const f of manifest.files) {
    t.is(f.sha256, sha256File(join(dir, f.path)), `${f.path}: SHA-256 recomputed`);
    t.is(f.size, statSync(join(dir, f.path)).size);
  }
  const zip = await readZip(result.archive);
  t.deepEqual([...zip.keys()].sort(), [...expected, 'manifest.json', 'manifest.json.jws'].sort());
  for (const [name, bytes] of zip) t.is(sha256(bytes), sha256File(join(dir, name)), `${name} in the archive is the file of the folder`);

  const r = await skillcert(['verify-bundle', result.archive, '--anchor', join(GENERATED, 'root-ca.pem')]);
  t.is(r.code, 0, show(r));
  t.regex(r.stdout, /^VALID: /m);
  t.notRegex(r.stdout, /FAIL/);
});

test('verify-bundle rejects a copy of the archive with one byte of a certificate changed, naming that file', async (t) => {
  const first = certificateFiles(dir).pdfs[0];
  if (!first) return t.fail('the batch has no certificate to tamper with');
  const target = `certificates/${first}`;
  const copy = join(tempDir(), 'tampered.zip');
  await rewriteZip(result.archive, copy, (name, bytes) => {
    if (name !== target) return bytes;
    const b = Buffer.from(bytes);
    const at = Math.floor(b.length / 2);
    b[at] = b[at]! ^ 0x01;
    return b;
  });
  const r = await skillcert(['verify-bundle', copy, '--anchor', join(GENERATED, 'root-ca.pem'), '--json']);
  t.is(r.code, 1, show(r));
  const v = JSON.parse(r.stdout) as { ok: boolean; checks: { id: string; ok: boolean; message: string; files?: string[] }[] };
  t.false(v.ok);
  t.deepEqual(v.checks.filter((c) => !c.ok).map((c) => c.id), ['bundle.digests']);
  const digests = v.checks.find((c) => c.id === 'bundle.digests')!;
  t.deepEqual(digests.files, [target]);
  t.regex(digests.message, /1 file\(s\) differ from the manifest/);
  t.true(v.checks.find((c) => c.id === 'bundle.signature')!.ok, 'the manifest itself is untouched and still verifies');
});

/**
 * 第十九条: the whole ID number stays in the registry and in the forms that exist to carry it — the certificate itself
 * (第八条 prints it), the 第十二条 upload table, the 花名册 kept for good, and (competitions) the 申报汇总表 whose
 * 身份证 column the centre asks for. Everything else a batch writes, and everything it says, holds masked numbers.
 */
const FULL_ID_ALLOWED = /^(certificates\/|tables\/(certificate-data|roster|sichuan-declaration)\.xlsx$|filing-bundle-.*\.zip$)/;

async function readable(file: string): Promise<string> {
  if (file.endsWith('.pdf')) return pdfText(file);
  if (file.endsWith('.xlsx') || file.endsWith('.zip')) return [...(await readZip(file)).values()].map((bytes) => bytes.toString('utf8')).join('\n');
  return readFileSync(file, 'utf8');
}

test('no ID number appears unmasked in any file of the batch but the forms that carry it, nor in the logs (第十九条)', async (t) => {
  const files = filesUnder(dir).filter((f) => !FULL_ID_ALLOWED.test(f));
  t.true(files.some((f) => f === 'report.json') && files.some((f) => f === 'rejects.xlsx') && files.some((f) => f.startsWith('receipts/')), files.join(', '));
  const places: [string, string][] = [
    ...(await Promise.all(files.map(async (f) => [f, await readable(join(dir, f))] as [string, string]))),
    ['stderr (logs)', run.stderr],
    ['stdout', run.stdout],
  ];
  t.true(run.stderr.length > 0, 'the run logged something to check');
  for (const [where, body] of places) {
    for (const id of ALL_IDS) t.false(body.includes(id), `${where} holds ${id.slice(0, 4)}… unmasked`);
  }
  for (const p of report.rejects.filter((x) => x.field === '证件号码')) t.regex(p.value ?? '', /^\d{4}\*+[\dX]{4}$/);
});

test('a run that fails on its roster says so without the ID numbers it read', async (t) => {
  const work = tempDir('skillcert-run-privacy-');
  // every row refused: the one failure a run reports about rows is their problems, masked
  const roster = await writeRoster(join(work, 'bad.xlsx'), ROWS.slice(7, 9));
  const r = await skillcert(['run', '--roster', roster, '--profile', profile('haidian-qihang'), '--out', join(work, 'out'), '--photos', join(ROSTERS, 'photos'), '--workers', '1']);
  const said = `${r.stdout}\n${r.stderr}`;
  t.true(said.trim().length > 0);
  for (const id of ROWS.slice(7, 9).map((x) => String(x.idNo))) t.false(said.includes(id), `the output holds ${id.slice(0, 4)}… unmasked`);
  const written = filesUnder(join(work, 'out')).filter((f) => !/(^|\/)(certificates\/|tables\/(certificate-data|roster)\.xlsx$|filing-bundle-)/.test(f) && !f.endsWith('.sqlite') && !/\.sqlite-(wal|shm)$/.test(f) && !f.includes('.lock-'));
  for (const f of written) {
    const body = await readable(join(work, 'out', f));
    for (const id of ROWS.slice(7, 9).map((x) => String(x.idNo))) t.false(body.includes(id), `${f} holds ${id.slice(0, 4)}… unmasked`);
  }
});

test('no workbook cell is a formula: an employer written as =HYPERLINK("x") comes out as text', async (t) => {
  const books = [...filesUnder(dir).filter((f) => f.endsWith('.xlsx'))];
  t.true(books.length >= 4, books.join(', '));
  for (const book of books) {
    // The sheet XML itself: a formula would be an <f> element.
    for (const [name, bytes] of await readZip(join(dir, book))) {
      if (name.startsWith('xl/worksheets/')) t.notRegex(bytes.toString('utf8'), /<f[\s>]/, `${book} ${name} has a formula`);
    }
    for (const [sheet, rows] of await readWorkbook(join(dir, book))) {
      for (const cell of rows.flat()) t.false(cell.type === ExcelJS.ValueType.Formula || cell.formula !== undefined, `${book} ${sheet}: ${text(cell)}`);
    }
  }
  const rows = [...(await readWorkbook(join(dir, 'tables', 'roster.xlsx'))).values()][0]!;
  const { header, below } = from(rows, '序号');
  const holder = below.find((r) => text(r[header.indexOf('证件号码')]) === String(ISSUED[6]!.idNo));
  if (!holder) return t.fail('the holder with the formula-looking employer is not in the roster');
  const employer = holder[header.indexOf('工作单位')]!;
  t.is(employer.type, ExcelJS.ValueType.String);
  t.true(text(employer).endsWith(FORMULA_EMPLOYER), text(employer));
  t.false(text(employer).startsWith('='), 'the leading = is neutralised');
});

// ---------------------------------------------------------------------------------------------------------
// Competitions

test('Sichuan competition: the 申报汇总表 keeps its header block and fixed column order, one line per certificate', async (t) => {
  const out = join(tempDir('skillcert-run-sichuan-'), 'out');
  const roster = join(ROSTERS, 'sichuan-welding-2026.xlsx');
  const r = await skillcert(['run', '--roster', roster, '--profile', profile('sichuan-welding-2026'), '--out', out, '--issue-date', '2026-11-20', '--workers', '1', '--json']);
  t.is(r.code, 0, show(r));
  const bdir = batchDir(out);
  const rows = (await readWorkbook(join(bdir, 'tables', 'sichuan-declaration.xlsx'))).get('申报汇总表');
  if (!rows) return t.fail('no sheet 申报汇总表');
  // The header block (seed 001 附件), filled from the profile and the roster's own header block.
  t.is(text(rows[0]![0]), '四川省省级职业技能竞赛获奖选手获取职业证书申报汇总表');
  t.is(text(rows[1]![0]), '大赛名称：2026年四川技能大赛焊接赛项');
  const third = [...new Set(values(rows[2]))];
  t.deepEqual(third, ['大赛牵头主办单位名称（盖章）：四川省焊接协会', '单位地址：成都市人民中路一段东二巷18号', '联系电话：028-86712192']);
  const fourth = [...new Set(values(rows[3]))];
  t.deepEqual(fourth.slice(0, 2), ['大赛牵头主办单位负责人：王东', '经办人：杨坤']);
  t.regex(fourth[2]!, /^制表日期：\d{4}年\d{1,2}月\d{1,2}日$/);
  t.deepEqual(values(rows[4]), ['序号', '姓名', '性别', '身份证', '工作单位', '申报职业（工种）', '申报等级', '竞赛类别', '奖牌类别/名次']);

  // The winners, as the roster gives them (read back from the fixture itself).
  const src = [...(await readWorkbook(roster)).values()][0]!;
  const { header: sh, below } = from(src, '序号');
  const winners = below.map(values).filter((v) => v[sh.indexOf('姓名')]);
  const data = rows.slice(5).map(values).filter((v) => /^\d+$/.test(v[0] ?? ''));
  t.is(data.length, winners.length);
  t.deepEqual(data.map((v) => v[0]), winners.map((_, i) => String(i + 1)));
  for (const w of winners) {
    const id = w[sh.indexOf('身份证')]!;
    const line = data.find((v) => v[3] === id);
    if (!line) { t.fail(`winner ${w[1]} missing`); continue; }
    t.deepEqual(line.slice(1), ['姓名', '性别', '身份证', '工作单位', '申报职业（工种）', '申报等级', '竞赛类别', '奖牌类别/名次'].map((h) => w[sh.indexOf(h)]), `${w[1]}`);
  }
  const notes = rows.slice(5 + data.length).map((r) => text(r[0])).filter(Boolean);
  t.deepEqual(notes, ['备注：1.申报等级是指参赛人员申请的职业证书等级。', '      2.竞赛类别是指省级一类、省级二类。', '      3.奖牌类别/名次，如：金奖/第一名或一等奖/第一名']);
  t.is(certificateFiles(bdir).pdfs.length, winners.length);
});

test('Beijing competition: the 备案回执 carries both counterfoils with one receipt number and the batch counts', async (t) => {
  const out = join(tempDir('skillcert-run-cnc-'), 'out');
  const r = await skillcert(['run', '--roster', join(ROSTERS, 'competition-cnc-2026.xlsx'), '--profile', profile('competition-cnc-2026'), '--out', out, '--workers', '1', '--json']);
  t.is(r.code, 0, show(r));
  const res = JSON.parse(r.stdout) as RunJson;
  const bdir = batchDir(out);
  const receipt = await pdfText(join(bdir, 'receipts', 'filing-receipt.pdf'));
  const count = (re: RegExp) => [...receipt.matchAll(re)].length;
  t.is(count(/职业技能竞赛备案回执/g), 2, 'the receipt twice: one per counterfoil');
  t.true(receipt.includes('存根一：北京市职业技能鉴定管理中心留存'), "the centre's counterfoil");
  t.true(receipt.includes('存根二：备案单位留存'), "the unit's counterfoil");
  const numbers = [...receipt.matchAll(/编号：(\S+)/g)].map((m) => m[1]);
  t.is(numbers.length, 2);
  t.is(numbers[0], numbers[1], 'both counterfoils carry the same receipt number');
  t.is(count(/竞赛名称：\s*2026年北京市数控技能大赛/g), 2);
  t.is(count(new RegExp(`取证人数：\\s*${res.issued}\\s*人`, 'g')), 2, `${res.issued} certificates on both counterfoils`);
  t.is(count(new RegExp(res.batchId, 'g')), 2);
  t.is(res.issued, certificateFiles(bdir).pdfs.length);
});
