/**
 * Deadlines against the real 2025/2026 holiday arrangements (国务院办公厅 notices): the expected dates
 * below were counted by hand on the calendar, not produced by the code under test.
 */
import test from 'ava';
import { addMonths, addWorkingDays, deadlineWarnings, holidayDataLastYear, workingDay } from '../../pipeline/bundle/deadlines.js';
import { beijingCompetition, organisation, sichuanCompetition } from './helpers.js';

const org = organisation();

test('National Day 2025: the holiday week is skipped and both make-up Saturdays count', (t) => {
  // Issued Fri 2025-09-26. Sun 09-28 (make-up) = 1, 09-29 = 2, 09-30 = 3, 10-01…10-08 off, 10-09 = 4,
  // 10-10 = 5, Sat 10-11 (make-up) = 6, then weekdays: 10-13…10-31 = 7…21, 11-03…11-07 = 22…26, 11-13 = 30.
  t.true(workingDay('2025-09-28'));
  t.true(workingDay('2025-10-11'));
  t.false(workingDay('2025-10-08'));
  t.deepEqual(addWorkingDays('2025-09-26', 30), { date: '2025-11-13', exact: true, unknownYears: [] });
});

test('Spring Festival 2026: the nine days off are skipped, the make-up Saturdays 02-14 and 02-28 count', (t) => {
  // Issued Tue 2026-02-10: 02-11…02-13 = 1…3, Sat 02-14 = 4, 02-15…02-23 off, 02-24…02-27 = 5…8,
  // Sat 02-28 = 9, 03-02…03-27 = 10…29, Mon 03-30 = 30.
  t.is(addWorkingDays('2026-02-10', 30).date, '2026-03-30');
  // A count on weekdays alone would be wrong by days.
  t.not(addWorkingDays('2026-02-10', 30).date, '2026-03-24');
});

test('the issue day itself is not counted, even when it is a holiday', (t) => {
  t.is(addWorkingDays('2025-09-30', 1).date, '2025-10-09');
  t.is(addWorkingDays('2025-10-01', 1).date, '2025-10-09');
});

test('five months after the issue date, clamped to the end of a short month (第十五条)', (t) => {
  t.is(addMonths('2026-03-09', 5), '2026-08-09');
  t.is(addMonths('2025-09-30', 5), '2026-02-28');
  t.is(addMonths('2025-10-31', 4), '2026-02-28');
  t.throws(() => addMonths('2026-02-30', 1), { instanceOf: RangeError });
});

test('a batch gets its upload deadline (第十三条) and its refusal date (第十五条)', (t) => {
  const w = deadlineWarnings(['2026-02-10'], org, '2026-02-12', { counts: { '2026-02-10': 20 } });
  t.is(w.length, 2);
  const [upload, refused] = w;
  t.is(upload!.kind, 'data-upload');
  t.is(upload!.due, '2026-03-30');
  t.regex(upload!.message, /20 certificate\(s\) issued on 2026-02-10/);
  t.regex(upload!.message, /by 2026-03-30 \(30 working days from the issue date, 第十三条\); 28 working day\(s\) left/);
  t.is(refused!.kind, 'data-refused');
  t.is(refused!.due, '2026-07-10');
});

test('an overdue upload says so and asks for the written explanation (第十五条)', (t) => {
  const [upload, refused] = deadlineWarnings(['2025-09-26'], org, '2025-11-14');
  t.is(upload!.due, '2025-11-13');
  t.regex(upload!.message, /^Overdue: .* was due by 2025-11-13 .*written explanation/);
  t.regex(refused!.message, /no longer accepted after 2026-02-26/);
  const [, late] = deadlineWarnings(['2025-09-26'], org, new Date('2026-03-01T04:00:00Z'));
  t.regex(late!.message, /more than 5 months old \(limit 2026-02-26\): it is in principle not accepted/);
});

test('"today" as a Date is the calendar day in China, not in UTC', (t) => {
  // 2025-11-13 17:00 UTC is already 2025-11-14 in Beijing: the upload is overdue there.
  const [upload] = deadlineWarnings(['2025-09-26'], org, new Date('2025-11-13T17:00:00Z'));
  t.regex(upload!.message, /^Overdue/);
  const [onTime] = deadlineWarnings(['2025-09-26'], org, new Date('2025-11-13T15:00:00Z'));
  t.regex(onTime!.message, /^Submit .* 0 working day\(s\) left/);
});

test('a count that runs past the holiday data is flagged as an estimate, naming the year', (t) => {
  const last = holidayDataLastYear();
  t.true(last >= 2026, 'chinese-days 1.5 knows 2026');
  const r = addWorkingDays(`${last}-12-01`, 30);
  t.false(r.exact);
  t.deepEqual(r.unknownYears, [last + 1]);
  const [upload] = deadlineWarnings([`${last}-12-01`], org, `${last}-12-02`);
  t.regex(upload!.message, new RegExp(`This date is an estimate: ${last + 1} is beyond the holiday data of chinese-days \\(it ends with ${last}\\)`));
  t.regex(upload!.message, /check it against the State Council's holiday notice/);
  t.is(workingDay(`${last + 1}-01-04`), undefined);
  const inside = deadlineWarnings([`${last}-06-01`], org, `${last}-06-02`)[0]!;
  t.notRegex(inside.message, /estimate/);
});

test('a Beijing competition must be filed within its calendar year (seed 000 四)', (t) => {
  const comp = beijingCompetition();
  const w = deadlineWarnings(['2026-11-20'], comp, '2026-11-21');
  const year = w.find((x) => x.kind === 'competition-year')!;
  t.is(year.due, '2026-12-31');
  t.regex(year.message, /^Apply for the competition certificates .* by 2026-12-31/);
  const late = deadlineWarnings(['2027-01-05'], comp, '2027-01-06').find((x) => x.kind === 'competition-year')!;
  t.regex(late.message, /^Too late: certificates of a 2026 competition must be applied for within 2026/);
  t.regex(late.message, /2027-01-05/);
});

test('organisations and Sichuan competitions get no calendar-year warning', (t) => {
  t.false(deadlineWarnings(['2026-11-20'], org, '2026-11-21').some((x) => x.kind === 'competition-year'));
  const sc = deadlineWarnings(['2026-11-20'], sichuanCompetition(), '2026-11-21');
  t.false(sc.some((x) => x.kind === 'competition-year'));
  t.notRegex(sc[0]!.message, /北京市/, 'the Beijing system is not named for a Sichuan batch');
});

test('one pair of warnings per distinct issue date, earliest first', (t) => {
  const w = deadlineWarnings(['2026-03-09', '2026-02-10', '2026-03-09'], org, '2026-03-10');
  t.deepEqual(w.map((x) => x.kind), ['data-upload', 'data-refused', 'data-upload', 'data-refused']);
  t.deepEqual(w.map((x) => x.due), ['2026-03-30', '2026-07-10', '2026-04-21', '2026-08-09']);
});
