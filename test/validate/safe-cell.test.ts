import test from 'ava';
import { safeCell } from '../../pipeline/validate/safe-cell.js';

test('text starting with = + - @ tab CR or LF is prefixed so it can never become a formula', (t) => {
  for (const s of ['=HYPERLINK("http://x","y")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1', '\n=1', '＝1+1']) {
    t.is(safeCell(s), `'${s}`, JSON.stringify(s));
  }
});

test('ordinary text, numbers and empty values pass unchanged', (t) => {
  t.is(safeCell('王建国'), '王建国');
  t.is(safeCell('a=b'), 'a=b');
  t.is(safeCell(42), '42');
  t.is(safeCell(null), '');
  t.is(safeCell(undefined), '');
});
