import test from 'ava';
import { checkNameCharacters, normaliseName } from '../../pipeline/validate/names.js';
import { RowIssues } from '../../pipeline/validate/issues.js';

function norm(s: string) {
  const issues = new RowIssues(4);
  const value = normaliseName(s, '姓名', issues);
  const ok = checkNameCharacters(value, '姓名', issues);
  return { value, ok, problems: issues.problems, notes: issues.notes };
}

test('names with the middle dot and rare characters outside the basic CJK block pass unchanged', (t) => {
  for (const s of ['阿依古丽·买买提', '刘䶮', '张𠮷', '李〇', 'Anna Müller', "Seán O'Brien", 'Jean-Pierre', '欧阳明月']) {
    const r = norm(s);
    t.true(r.ok, s);
    t.is(r.value, s);
    t.deepEqual(r.notes, [], s);
  }
});

test('spaces padding a Chinese name are removed and noted', (t) => {
  const r = norm('陈　晨');
  t.is(r.value, '陈晨');
  t.deepEqual(r.notes, [{ rowNo: 4, field: '姓名', from: '陈　晨', to: '陈晨', change: 'spaces between Chinese characters removed' }]);
});

test('full-width spaces inside a Latin name become one half-width space', (t) => {
  const r = norm('John　 Smith');
  t.is(r.value, 'John Smith');
  t.regex(r.notes[0]!.change, /single half-width spaces/);
});

test('look-alike dots between Chinese characters become the middle dot U+00B7', (t) => {
  for (const s of ['阿依古丽・买买提', '阿依古丽•买买提', '阿依古丽 ． 买买提']) {
    const r = norm(s);
    t.is(r.value, '阿依古丽·买买提', s);
    t.regex(r.notes[0]!.change, /middle dot/);
  }
  t.is(norm('J.Smith').value, 'J.Smith', 'a full stop in a Latin name is left alone');
});

test('digits and symbols are rejected naming the character and its code point', (t) => {
  const r = norm('张3');
  t.false(r.ok);
  t.is(r.problems[0]!.rule, 'name.characters');
  t.regex(r.problems[0]!.message, /"3" \(U\+0033\)/);
});

test('formula-looking text is not a name', (t) => {
  const r = norm('=HYPERLINK("http://example.com","点我")');
  t.false(r.ok);
  t.regex(r.problems[0]!.message, /"=" \(U\+003D\)/);
});

test('a private-use character is rejected with a hint to type the standard character', (t) => {
  const r = norm('王\uE000');
  t.false(r.ok);
  t.regex(r.problems[0]!.message, /U\+E000.*private-use/);
});
