/**
 * `skillcert validate` as an office runs it (issue 3): the built command on a roster written by the test,
 * its printed summary, its exit code, and the rejects workbook reopened with exceljs. Broken inputs (a
 * file that is not a workbook, a missing file, a profile that fails its schema) stop it with one message
 * and nothing written.
 */
import test from 'ava';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  profile, readWorkbook, removeTempDirs, requireBuiltCli, rosterRows, rowNoOf, show, skillcert, tempDir, values, validPeople, writeRoster,
  type CliResult, type RosterRow,
} from '../helpers/cli.js';
import { personId, withWrongCheckDigit } from '../helpers/roster-fixtures.js';
import { writeWorkbook } from '../helpers/roster-workbook.js';

test.before(() => requireBuiltCli());
test.after.always(removeTempDirs);

const HAIDIAN = profile('haidian-qihang');
const good = validPeople(4, 700);
const wrongCheck = withWrongCheckDigit(personId('110108', '19870722', 31, '男'));
const ROWS: RosterRow[] = [
  ...good,
  { ...validPeople(1, 710)[0]!, gender: '男', idNo: wrongCheck },
  // An ID number Excel turned into a number: 18 digits with the last three lost.
  { ...validPeople(1, 711)[0]!, gender: '女', idNo: 110101199104051000 },
  { ...validPeople(1, 712)[0]!, occupation: '焊工', level: '四级/中级工' },
  { ...validPeople(1, 713)[0]!, result: '不合格' },
  { ...validPeople(1, 714)[0]!, result: '缺考' },
  { ...validPeople(1, 715)[0]!, result: '舞弊' },
];
/** What validation must make of ROWS: spreadsheet row → rule. */
const REJECTED = new Map([[rowNoOf(4), 'id.checkDigit'], [rowNoOf(5), 'id.precisionLost'], [rowNoOf(6), 'scope.occupation']]);

/** [row, rule] pairs in row order, for comparisons that do not depend on the order of a listing. */
const byRow = (pairs: Iterable<[number, string]>): [number, string][] => [...pairs].sort((a, b) => a[0] - b[0]);

let roster: string;
/** One plain validate run, shared by the summary and workbook tests. */
let plain: Promise<{ r: CliResult; rejects: string }>;
test.before(async () => {
  roster = await writeRoster(join(tempDir(), 'results.xlsx'), ROWS);
  const rejects = join(tempDir(), 'rejects.xlsx');
  plain = skillcert(['validate', '--roster', roster, '--profile', HAIDIAN, '--rejects', rejects]).then((r) => ({ r, rejects }));
});

test('validate prints rows read, accepted, rejected by reason and skipped by result, and exits 0 with rejects', async (t) => {
  const { r, rejects } = await plain;
  t.is(r.code, 0, show(r));
  const out = r.stdout;
  t.regex(out, /results\.xlsx, sheet "认定结果", header row 3: 10 rows read/);
  t.regex(out, /accepted: 4\b/);
  t.regex(out, /rejected: 3 rows \(3 problems\)/);
  for (const rule of REJECTED.values()) t.regex(out, new RegExp(`^\\s+1\\s+.+\\[${rule.replace('.', '\\.')}\\]$`, 'm'), `one line for ${rule}`);
  t.regex(out, /skipped: 3 \(不合格 1, 缺考 1, 舞弊 1\)/);
  t.true(out.includes(`rejects workbook: ${rejects}`));
  t.true(existsSync(rejects));
});

test('the rejects workbook has one line per problem: row, column, masked value, rule and reason', async (t) => {
  const { r, rejects } = await plain;
  t.is(r.code, 0, show(r));
  const sheet = (await readWorkbook(rejects)).get('退回');
  if (!sheet) return t.fail('no sheet 退回 in the rejects workbook');
  t.deepEqual(values(sheet[0]), ['行号', '列', '值', '规则', '原因']);
  const lines = sheet.slice(1).filter((row) => row.length > 0).map(values);
  t.deepEqual(byRow(lines.map((l) => [Number(l[0]), l[3]!])), byRow(REJECTED));
  const byRule = new Map(lines.map((l) => [l[3], l]));
  const check = byRule.get('id.checkDigit')!;
  t.is(check[1], '证件号码');
  t.regex(check[2]!, /^\d{4}\*{10}[\dX]{4}$/, 'the ID number is masked');
  t.is(check[2], `${wrongCheck.slice(0, 4)}${'*'.repeat(10)}${wrongCheck.slice(-4)}`);
  t.regex(check[4]!, new RegExp(`check digit is ${wrongCheck[17]}, expected \\w.*row ${rowNoOf(4)}`));
  const lost = byRule.get('id.precisionLost')!;
  t.is(lost[1], '证件号码');
  t.regex(lost[2]!, /^\d{4}\*+\d{4}$/);
  t.regex(lost[4]!, /stored by Excel as a number/);
  const scope = byRule.get('scope.occupation')!;
  t.deepEqual(scope.slice(1, 4), ['职业名称', '焊工', 'scope.occupation']);
  t.regex(scope[4]!, /not in this organisation's registered scope/);
  // No full ID number anywhere in the workbook (第十九条).
  const all = [...(await readWorkbook(rejects)).values()].flat().map(values).flat().join('|');
  for (const id of [wrongCheck, '110101199104051000', ...good.map((p) => String(p.idNo))]) t.false(all.includes(id), id);
});

test('validate --json prints one JSON document that agrees with the summary', async (t) => {
  const rejects = join(tempDir(), 'rejects.xlsx');
  const r = await skillcert(['validate', '--roster', roster, '--profile', HAIDIAN, '--rejects', rejects, '--json']);
  t.is(r.code, 0, show(r));
  const j = JSON.parse(r.stdout) as {
    ok: boolean; rowsRead: number; accepted: number; rejectedRows: number; rejectedByRule: Record<string, number>;
    skipped: Record<string, number>; problems: { rowNo: number; rule: string; value?: string }[]; rejects: string;
  };
  t.true(j.ok);
  t.is(j.rowsRead, 10);
  t.is(j.accepted, 4);
  t.is(j.rejectedRows, 3);
  t.deepEqual(j.rejectedByRule, { 'id.checkDigit': 1, 'id.precisionLost': 1, 'scope.occupation': 1 });
  t.deepEqual(j.skipped, { 不合格: 1, 缺考: 1, 舞弊: 1 });
  t.deepEqual(byRow(j.problems.map((p) => [p.rowNo, p.rule])), byRow(REJECTED));
  t.is(j.rejects, rejects);
  t.false(r.stdout.includes(wrongCheck), 'the JSON masks ID numbers too');
});

/** Runs validate in an empty folder (so the default output/ would land there) and returns what it left. */
async function refused(t: import('ava').ExecutionContext, rosterFile: string, profileFile: string, json = false) {
  const dir = tempDir();
  const before = readdirSync(dir);
  const r = await skillcert(['validate', '--roster', rosterFile, '--profile', profileFile, ...(json ? ['--json'] : [])], { cwd: dir });
  t.is(r.code, 1, show(r));
  t.deepEqual(readdirSync(dir), before, 'nothing written (no output/ folder, no rejects workbook)');
  return r;
}

test('a roster that is not a workbook stops validate with one E_ROSTER message and writes nothing', async (t) => {
  const dir = tempDir();
  const bad = join(dir, 'results.xlsx');
  writeFileSync(bad, 'this is not a zip file\n');
  const r = await refused(t, bad, HAIDIAN);
  t.is(r.stdout, '');
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.regex(r.stderr, /^skillcert: E_ROSTER: roster results\.xlsx is not an \.xlsx workbook .*save the roster as \.xlsx or \.csv/);
  const j = await refused(t, bad, HAIDIAN, true);
  t.like(JSON.parse(j.stdout), { ok: false, code: 'E_ROSTER', exitCode: 1 });
});

test('a missing roster file stops validate with one E_ROSTER message and writes nothing', async (t) => {
  const r = await refused(t, join(tempDir(), 'no-such-roster.xlsx'), HAIDIAN);
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.regex(r.stderr, /^skillcert: E_ROSTER: cannot open roster no-such-roster\.xlsx: ENOENT; check the path/);
});

test('a profile that fails its schema stops validate with one E_PROFILE message naming the fields, and writes nothing', async (t) => {
  const dir = tempDir();
  const bad = join(dir, 'profile.json');
  writeFileSync(bad, JSON.stringify({ id: 'broken', kind: 'organisation', category: 'X', orgCode: '0000' }));
  const r = await refused(t, roster, bad);
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.regex(r.stderr, /^skillcert: E_PROFILE: profile .*profile\.json is not valid: /);
  for (const field of ['name', 'category', 'numbering', 'signer', 'scope']) t.regex(r.stderr, new RegExp(`\\b${field}: `), field);
  const j = await refused(t, roster, bad, true);
  t.like(JSON.parse(j.stdout), { ok: false, code: 'E_PROFILE', exitCode: 1 });
});

test('a workbook with the roster on two visible sheets asks which one; --sheet reads the one named, a hidden one too', async (t) => {
  const dir = tempDir();
  const one = rosterRows(validPeople(2, 730));
  const both = await writeWorkbook(join(dir, 'both.xlsx'), [
    { name: '第一批', rows: one },
    { name: '第二批', rows: rosterRows(validPeople(3, 740)) },
    { name: '旧名单', rows: one, state: 'hidden' },
  ]);
  const asked = await skillcert(['validate', '--roster', both, '--profile', HAIDIAN]);
  t.is(asked.code, 1, show(asked));
  t.regex(asked.stderr, /^skillcert: E_ROSTER: roster both\.xlsx has a header row on 2 visible sheets: "第一批" \(row 3\), "第二批" \(row 3\); say which sheet is the roster with --sheet NAME/m);
  const second = await skillcert(['validate', '--roster', both, '--profile', HAIDIAN, '--sheet', '第二批', '--json']);
  t.is(second.code, 0, show(second));
  t.is((JSON.parse(second.stdout) as { accepted: number }).accepted, 3);
  const hidden = await skillcert(['validate', '--roster', both, '--profile', HAIDIAN, '--sheet', '旧名单', '--json']);
  t.is(hidden.code, 0, show(hidden));
  t.is((JSON.parse(hidden.stdout) as { accepted: number }).accepted, 2);
  const wrong = await skillcert(['validate', '--roster', both, '--profile', HAIDIAN, '--sheet', 'Sheet1']);
  t.is(wrong.code, 1, show(wrong));
  t.regex(wrong.stderr, /has no sheet named "Sheet1"; its sheets are "第一批", "第二批", "旧名单" \(hidden\)/);
});

test('a roster with a header row and no data rows stops run and validate with one message, and nothing is signed', async (t) => {
  const dir = tempDir();
  const empty = await writeRoster(join(dir, 'empty.xlsx'), []);
  for (const cmd of ['validate', 'run']) {
    const r = await skillcert([cmd, '--roster', empty, '--profile', HAIDIAN, ...(cmd === 'run' ? ['--out', join(dir, 'out')] : [])]);
    t.is(r.code, 1, show(r));
    t.regex(r.stderr, /^skillcert: E_ROSTER: roster empty\.xlsx sheet "认定结果" has a header row \(row 3\) but no data rows/m, cmd);
    t.false(/\n\s+at /.test(r.stderr), 'no stack trace');
  }
  t.false(existsSync(join(dir, 'out')) && readdirSync(join(dir, 'out')).some((f) => !f.startsWith('.') && !f.endsWith('.sqlite')), 'no batch folder');
});

test('a GBK CSV, as Excel on a Chinese Windows saves it, is read and the summary says so', async (t) => {
  const { encodeGbk } = await import('../helpers/ingest-gbk.js');
  const { csvField } = await import('../helpers/roster-workbook.js');
  const people = validPeople(2, 750);
  const lines = [
    ['序号', '姓名', '性别', '证件类型', '证件号码', '工作单位', '职业名称', '工种/职业方向', '职业技能等级', '认定结果', '照片', '发证日期'],
    ...people.map((p, i) => [String(i + 1), p.name, p.gender, '201', String(p.idNo), p.employer, p.occupation, p.job ?? '', p.level, '合格', p.photo, '2026-11-20']),
  ];
  const file = join(tempDir(), 'gbk.csv');
  writeFileSync(file, encodeGbk(`${lines.map((l) => l.map(csvField).join(',')).join('\r\n')}\r\n`));
  const r = await skillcert(['validate', '--roster', file, '--profile', HAIDIAN]);
  t.is(r.code, 0, show(r));
  t.regex(r.stdout, /gbk\.csv \(GBK\/GB18030 text\), header row 1: 2 rows read/);
  t.regex(r.stdout, /accepted: 2\b/);
});
