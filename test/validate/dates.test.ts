import test from 'ava';
import { chinaDate, excelSerialToDate, validateDate } from '../../pipeline/validate/dates.js';
import { RowIssues } from '../../pipeline/validate/issues.js';
import type { RawCell } from '../../pipeline/ingest/types.js';
import { num, text } from '../helpers/roster-validate.js';

function parse(cell: RawCell, date1904 = false) {
  const issues = new RowIssues(7);
  const value = validateDate(cell, { issues, field: '发证日期', date1904 });
  return { value, problems: issues.problems, notes: issues.notes };
}

test('an Excel date cell is taken as its calendar day', (t) => {
  const r = parse({ kind: 'date', text: '2026-11-20', date: '2026-11-20' });
  t.is(r.value, '2026-11-20');
  t.deepEqual(r.notes, []);
});

test('an Excel serial number is read as a date and noted', (t) => {
  t.is(excelSerialToDate(46346), '2026-11-20');
  t.is(excelSerialToDate(44927), '2023-01-01');
  const r = parse(num(46346));
  t.is(r.value, '2026-11-20');
  t.is(r.notes[0]!.change, 'Excel serial day number read as a date');
});

test('a serial number in a 1904-dated workbook is shifted by 1462 days', (t) => {
  t.is(parse(num(46346 - 1462), true).value, '2026-11-20');
});

test('year-first text forms are written as YYYY-MM-DD and noted', (t) => {
  for (const s of ['2026/11/20', '2026年11月20日', '2026.11.20', '20261120', '2026-11-20 00:00:00', '２０２６／１１／２０', '2026-1-5']) {
    const r = parse(text(s));
    t.deepEqual(r.problems, [], s);
    t.is(r.notes.length, 1, s);
  }
  t.is(parse(text('2026-1-5')).value, '2026-01-05');
  const same = parse(text('2026-11-20'));
  t.is(same.value, '2026-11-20');
  t.deepEqual(same.notes, [], 'the canonical form needs no note');
});

test('a day-first or month-first date is refused: reading it would be a guess', (t) => {
  for (const s of ['20/11/2026', '11/20/2026', '26-11-20', 'Nov 20 2026']) {
    const r = parse(text(s));
    t.is(r.value, undefined, s);
    t.deepEqual(r.problems.map((p) => p.rule), ['date.format'], s);
    t.regex(r.problems[0]!.message, /write it as YYYY-MM-DD, e.g. 2026-11-20, in row 7/);
  }
});

test('a date that does not exist is rejected', (t) => {
  const r = parse(text('2026-02-29'));
  t.deepEqual(r.problems.map((p) => p.rule), ['date.invalid']);
  t.is(parse(text('2028-02-29')).value, '2028-02-29');
});

test('a date cell with a time of day keeps the day and notes the dropped time', (t) => {
  const r = parse({ kind: 'date', text: '2026-11-20 14:30:00', date: '2026-11-20' });
  t.is(r.value, '2026-11-20');
  t.regex(r.notes[0]!.change, /time of day dropped/);
});

test('today in China is UTC+8', (t) => {
  t.is(chinaDate(new Date('2026-11-19T16:00:00Z')), '2026-11-20');
  t.is(chinaDate(new Date('2026-11-19T15:59:59Z')), '2026-11-19');
});
