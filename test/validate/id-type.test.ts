import test from 'ava';
import { parseIdType, validateIdType } from '../../pipeline/validate/id-type.js';
import { RowIssues } from '../../pipeline/validate/issues.js';
import { ID_TYPES } from '../../pipeline/core/record.js';
import { text } from '../helpers/roster-validate.js';

test('every code and every name of seed 002 is accepted', (t) => {
  for (const it of ID_TYPES) {
    t.is(parseIdType(it.code), it.code);
    t.is(parseIdType(it.name), it.code);
  }
});

test('身份证 is taken for 201, and drop-down forms such as "201-居民身份证" are accepted', (t) => {
  t.is(parseIdType('身份证'), '201');
  t.is(parseIdType('201-居民身份证'), '201');
  t.is(parseIdType('201=居民身份证'), '201');
  t.is(parseIdType(' 201 '), '201');
});

test('the work-permit names are accepted with half-width brackets or the full seed wording', (t) => {
  t.is(parseIdType('外国人工作许可证(A类)'), '239');
  t.is(parseIdType('《中华人民共和国外国人工作许可证》（B类）'), '240');
  t.is(parseIdType('外国人工作许可证（C类）'), '241');
});

test('a code and a name that disagree are not resolved', (t) => {
  t.is(parseIdType('201-中国护照'), 'mismatch');
  const issues = new RowIssues(9);
  t.is(validateIdType(text('201 中国护照'), 'x', { issues, field: '证件类型', columnSaysResident: false }), undefined);
  t.deepEqual(issues.problems.map((p) => p.rule), ['idType.mismatch']);
});

test('an unknown type is rejected listing the accepted codes', (t) => {
  const issues = new RowIssues(9);
  t.is(validateIdType(text('护照'), 'E12345678', { issues, field: '证件类型', columnSaysResident: false }), undefined);
  t.deepEqual(issues.problems.map((p) => p.rule), ['idType.unknown']);
  t.regex(issues.problems[0]!.message, /201 居民身份证, 227 中国护照/);
  t.is(parseIdType('202'), undefined);
});

test('an empty type with an 18-character mainland ID number is taken as 201 and noted', (t) => {
  const issues = new RowIssues(9);
  t.is(validateIdType(undefined, '11010519491231002x', { issues, field: '证件类型', columnSaysResident: false }), '201');
  t.deepEqual(issues.problems, []);
  t.is(issues.notes.length, 1);
  t.is(issues.notes[0]!.to, '201');
});

test('an empty type with any other number is rejected, not guessed', (t) => {
  for (const id of ['E12345678', '810000199003071234']) {
    const issues = new RowIssues(9);
    t.is(validateIdType(text('  '), id, { issues, field: '证件类型', columnSaysResident: false }), undefined);
    t.deepEqual(issues.problems.map((p) => p.rule), ['idType.empty']);
  }
});

test('a roster whose ID column is headed 身份证 (Sichuan 申报汇总表) means 201 without a note', (t) => {
  const issues = new RowIssues(9);
  t.is(validateIdType(undefined, 'anything', { issues, field: '证件类型', columnSaysResident: true }), '201');
  t.deepEqual(issues.notes, []);
});
