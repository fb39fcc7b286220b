import test from 'ava';
import { gb11643CheckDigit, hasValidCheckDigit } from '../../pipeline/core/gb11643.js';
import { validateIdNumber } from '../../pipeline/validate/id-number.js';
import { RowIssues } from '../../pipeline/validate/issues.js';
import type { IdTypeCode } from '../../pipeline/core/record.js';
import type { RawCell } from '../../pipeline/ingest/types.js';
import { residentId, withWrongCheckDigit } from '../helpers/roster-fixtures.js';
import { num, text, TODAY } from '../helpers/roster-validate.js';

function check(cell: RawCell | string, type: IdTypeCode = '201', rowNo = 14) {
  const issues = new RowIssues(rowNo);
  const value = validateIdNumber(typeof cell === 'string' ? text(cell) : cell, type, { issues, field: '证件号码', today: TODAY });
  return { value, problems: issues.problems, notes: issues.notes };
}

test('the GB 11643 check digit agrees with the standard\'s own example 11010519491231002X', (t) => {
  t.is(gb11643CheckDigit('11010519491231002'), 'X');
  t.true(hasValidCheckDigit('11010519491231002X'));
  t.is(gb11643CheckDigit('44052418800101001'), '4');
});

test('a valid 居民身份证 number is accepted unchanged', (t) => {
  const id = residentId('110108', '19900307', 123);
  const r = check(id);
  t.is(r.value, id);
  t.deepEqual(r.problems, []);
  t.deepEqual(r.notes, []);
});

test('a wrong check digit is rejected naming the digit found and the one expected', (t) => {
  const r = check('110105194912310023');
  t.is(r.value, undefined);
  t.deepEqual(r.problems, [
    {
      rowNo: 14,
      field: '证件号码',
      value: '1101**********0023',
      rule: 'id.checkDigit',
      message: '证件号码 check digit is 3, expected X (GB 11643); fix the ID number in row 14',
    },
  ]);
});

test('an ID that Excel stored as a number is rejected as precision-lost, never fixed', (t) => {
  const r = check(num(110108199003071000));
  t.is(r.value, undefined);
  t.is(r.problems.length, 1);
  t.is(r.problems[0]!.rule, 'id.precisionLost');
  t.is(r.problems[0]!.value, '1101**********1000');
  t.regex(r.problems[0]!.message, /stored by Excel as a number .*format the column as Text/);
});

test('an ID shown in exponent form (1.10101E+17) is rejected as precision-lost', (t) => {
  const r = check('1.10101E+17');
  t.is(r.problems.length, 1);
  t.is(r.problems[0]!.rule, 'id.precisionLost');
  t.false(r.problems[0]!.value!.includes('10101'), 'the value is masked');
});

test('18 digits whose last three became 000 and whose check digit fails are reported as precision-lost', (t) => {
  const rounded = residentId('110108', '19900308', 123).slice(0, 15) + '000';
  t.false(hasValidCheckDigit(rounded));
  const r = check(rounded);
  t.deepEqual(r.problems.map((p) => p.rule), ['id.precisionLost']);
  t.regex(r.problems[0]!.message, /ends in 000 .*lost the last digits/);
});

test('an ID that genuinely ends in 000 with a right check digit is accepted', (t) => {
  let id = '';
  for (let d = 1; d <= 28 && !id; d++) {
    const candidate = `110108199003${String(d).padStart(2, '0')}100`;
    if (gb11643CheckDigit(candidate) === '0') id = `${candidate}0`;
  }
  t.regex(id, /^\d{15}000$/);
  t.deepEqual(check(id).problems, []);
});

test('a 15-digit first-generation number is rejected with a request for the 18-digit number', (t) => {
  const r = check('110108900307123');
  t.deepEqual(r.problems.map((p) => p.rule), ['id.length']);
  t.regex(r.problems[0]!.message, /first-generation .* 18-digit/);
});

test('an ID of the wrong length is rejected with the length found', (t) => {
  const r = check('11010819900307123');
  t.deepEqual(r.problems.map((p) => p.rule), ['id.length']);
  t.regex(r.problems[0]!.message, /has 17 characters, a 居民身份证 number has 18/);
});

test('letters other than a final X are rejected naming them', (t) => {
  const r = check('1101081990O307123X');
  t.deepEqual(r.problems.map((p) => p.rule), ['id.format']);
  t.regex(r.problems[0]!.message, /"O"/);
});

test('a region prefix that is not a province code is rejected', (t) => {
  const id = residentId('990108', '19900307', 123);
  const r = check(id);
  t.deepEqual(r.problems.map((p) => p.rule), ['id.region']);
  t.regex(r.problems[0]!.message, /starts with 99, which is not a province code \(GB\/T 2260\)/);
});

test('any county code under a valid province is accepted (codes retire, IDs stay)', (t) => {
  // 110103 崇文区 was merged into 东城 in 2010; people born there keep their numbers.
  t.deepEqual(check(residentId('110103', '19800101', 11)).problems, []);
  t.deepEqual(check(residentId('513436', '19800101', 11)).problems, []);
});

test('an impossible birth date is rejected', (t) => {
  const r = check(residentId('110108', '19900230', 123));
  t.deepEqual(r.problems.map((p) => p.rule), ['id.birthDate']);
  t.regex(r.problems[0]!.message, /a birth date \(characters 7-14\) that is not a real date/);
  t.false(r.problems[0]!.message.includes('19900230'), 'the birth date is not echoed');
});

test('a birth date after today is rejected', (t) => {
  const r = check(residentId('110108', '20261121', 123));
  t.deepEqual(r.problems.map((p) => p.rule), ['id.birthDate']);
  t.regex(r.problems[0]!.message, /a birth date \(characters 7-14\) after today/);
  t.deepEqual(check(residentId('110108', '20261120', 123)).problems, [], 'born today is possible');
});

test('region, birth date and check digit failures are all reported together', (t) => {
  const r = check(withWrongCheckDigit(residentId('990108', '19901301', 123)));
  t.deepEqual(r.problems.map((p) => p.rule), ['id.region', 'id.birthDate', 'id.checkDigit']);
});

test('full-width digits, a lower-case x and surrounding spaces are corrected and noted with the ID masked', (t) => {
  const id = '11010519491231002X';
  const typed = ' １１０１０５１９４９１２３１００２x ';
  const r = check(typed);
  t.is(r.value, id);
  t.deepEqual(r.problems, []);
  t.is(r.notes.length, 1);
  t.is(r.notes[0]!.to, '1101**********002X');
  t.regex(r.notes[0]!.change, /spaces.*full-width.*lower-case x to X/);
  t.false(JSON.stringify(r.notes).includes('19491231'), 'no unmasked ID in notes');
});

test('other ID types get a check of their public shape', (t) => {
  const good: [IdTypeCode, string][] = [
    ['227', 'E12345678'],
    ['227', 'EA1234567'],
    ['210', 'H12345678'],
    ['210', 'M1234567801'],
    ['237', residentId('810000', '19900307', 123)],
    ['213', '12345678'],
    ['238', residentId('830000', '19900307', 123)],
    ['208', 'C4RT56789'],
    ['233', 'USA110085123456'],
    ['233', residentId('911000', '19900307', 123)],
    ['239', 'A1100002019123'],
    ['299', '南字第123456号'],
  ];
  for (const [type, id] of good) t.deepEqual(check(id, type).problems, [], `${type} ${id}`);
  const bad: [IdTypeCode, string, string][] = [
    ['227', '12345678', 'id.format'],
    ['210', 'X12345678', 'id.format'],
    ['237', withWrongCheckDigit(residentId('810000', '19900307', 123)), 'id.checkDigit'],
    ['237', residentId('110108', '19900307', 123), 'id.format'],
    ['213', '1234', 'id.format'],
    ['208', 'AB 12345', 'id.format'],
    ['233', withWrongCheckDigit(residentId('911000', '19900307', 123)), 'id.checkDigit'],
    ['299', 'has space', 'id.format'],
  ];
  for (const [type, id, rule] of bad) t.deepEqual(check(id, type).problems.map((p) => p.rule), [rule], `${type} ${id}`);
});

test('a passport number in lower case is rejected with a hint to use capitals, not changed', (t) => {
  const r = check('e12345678', '227');
  t.deepEqual(r.problems.map((p) => p.rule), ['id.format']);
  t.regex(r.problems[0]!.message, /use capital letters/);
});

test('a numeric cell is precision-lost for every ID type (leading zeros would be gone)', (t) => {
  const r = check(num(1234567), '213');
  t.deepEqual(r.problems.map((p) => p.rule), ['id.precisionLost']);
  t.regex(r.problems[0]!.message, /leading zeros/);
});
