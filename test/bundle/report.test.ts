import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeBatchOutputs, type BatchOutputs } from '../../pipeline/bundle/index.js';
import { scrubIds } from '../../pipeline/core/privacy.js';
import { cleanup, fonts, idWithCheck, NOW, organisation, syntheticSummary, tmp } from './helpers.js';

test.after.always(cleanup);

const { summary } = syntheticSummary();
const dir = tmp();
let out: BatchOutputs;
let json: string;
let text: string;

test.before(async () => {
  out = await writeBatchOutputs(summary, organisation(), { dir, fonts, now: NOW, archive: false });
  json = readFileSync(join(dir, 'report.json'), 'utf8');
  text = readFileSync(join(dir, 'report.txt'), 'utf8');
});

test('report.json counts every roster row once', (t) => {
  const r = JSON.parse(json);
  t.is(r.format, 'skillcert-batch-report/1');
  t.deepEqual(r.counts, {
    rowsRead: 28, issued: 20, created: 19, existing: 1, rejectedRows: 2, problems: 3,
    notPassed: { 不合格: 2, 缺考: 1, 舞弊: 1 }, alreadyCertified: 1, duplicateInRoster: 1, skipped: 6, accounted: 28,
  });
  const byOcc = r.byOccupationLevel as { occupation: string; level: string; issued: number; total: number }[];
  t.is(byOcc.reduce((s, x) => s + x.total, 0), 28);
  t.deepEqual(byOcc.find((x) => x.occupation === '育婴员' && x.level === '四级/中级工'), { occupation: '育婴员', level: '四级/中级工', issued: 5, notPassed: 0, rejected: 0, alreadyCertified: 1, duplicate: 0, total: 6 });
  t.is(r.roster, '2026-03 认定结果.xlsx', 'the roster by file name, not the path of the machine');
});

test('report.json lists rejects with their reasons and skipped rows', (t) => {
  const r = JSON.parse(json);
  t.deepEqual(r.rejects.map((p: { rowNo: number; rule: string }) => [p.rowNo, p.rule]), [[30, 'id.precisionLost'], [30, 'gender'], [31, 'id.checkDigit']]);
  t.regex(r.rejects[2].message, /check digit is wrong \(GB 11643\); fix the ID number in row 31/);
  t.deepEqual(r.skipped.map((k: { rowNo: number; reason: string }) => [k.rowNo, k.reason]), [[23, 'result'], [24, 'result'], [25, 'result'], [26, 'result'], [27, 'already-certified'], [28, 'duplicate-in-roster']]);
  t.is(r.skipped[4].number, 'S000011084012254000007');
});

test('no ID number appears in full in report.json or report.txt (第十九条)', (t) => {
  const ids = [...summary.issued.map((c) => c.idNo), idWithCheck('11010519800101123'), idWithCheck('11010519900102111')];
  for (const id of ids) {
    t.false(json.includes(id), `report.json holds ${id.slice(0, 4)}…`);
    t.false(text.includes(id), `report.txt holds ${id.slice(0, 4)}…`);
  }
  const r = JSON.parse(json);
  t.is(r.rejects[2].value, '1101**********1238');
  t.regex(r.skipped[5].message, /\(ID 1101\*{10}\d{3}[\dX]\)/);
});

test('masking leaves certificate numbers alone', (t) => {
  t.is(scrubIds('S000011084012263000001 and 110105199001221125'), 'S000011084012263000001 and 1101**********1125');
});

test('the report names the font of each role and flags the open fallbacks (SPEC §5)', (t) => {
  const r = JSON.parse(json);
  t.deepEqual(r.fonts.map((f: { role: string }) => f.role), ['kai', 'fangsong', 'times']);
  const loaded = fonts.report();
  r.fonts.forEach((f: { role: string; served: string; fallback: boolean; chain: { file: string }[] }, i: number) => {
    t.is(f.fallback, loaded[i]!.fallback, `${f.role}: the fallback flag of the FontSet`);
    t.is(f.served, loaded[i]!.faces[0]!.postscriptName);
    t.false(f.chain.some((c) => c.file.includes('/')), 'font files by name only');
    const line = text.split('\n').find((l) => l.trimStart().startsWith(f.role))!;
    t.is(line.includes('FALLBACK'), f.fallback, `report.txt line for ${f.role}`);
  });
});

test('the report carries the timings and the deadline warnings', (t) => {
  const r = JSON.parse(json);
  t.is(r.timings.render, 900);
  t.true(typeof r.timings['bundle.tables'] === 'number');
  t.deepEqual(r.deadlines.map((d: { kind: string; due: string }) => [d.kind, d.due]), [['data-upload', '2026-04-21'], ['data-refused', '2026-08-09']]);
  t.regex(text, /\[data-upload\] 2026-04-21: Submit the certificate data of the 20 certificate\(s\) issued on 2026-03-09/);
  t.deepEqual(out.warnings.map((w) => w.kind), ['data-upload', 'data-refused']);
});

test('report.txt is short and says every row was accounted for', (t) => {
  t.regex(text, /^skillcert batch 20260310-haidian-qihang-01 — 北京市海淀区启航职业技能培训学校/);
  t.regex(text, /issued\s+20 \(new 19, already in the registry 1\)/);
  t.regex(text, /every row accounted for \(28\)/);
  t.true(text.split('\n').length < 60);
});

test('the list of outputs names every file written', (t) => {
  t.deepEqual([...out.files], [
    'tables/certificate-data.xlsx', 'tables/summary-counts.xlsx', 'tables/roster.xlsx',
    'receipts/batch-receipt.pdf', 'receipts/signoff-sheet.pdf', 'report.json', 'report.txt', 'manifest.json',
  ]);
  t.deepEqual(JSON.parse(json).outputs, out.files.slice(0, 7));
});
