import test from 'ava';
import { readdir } from 'node:fs/promises';
import { hasValidCheckDigit } from '../../pipeline/core/gb11643.js';
import { buildAllFixtures, BEIJING_REGIONS, personId, residentId, withWrongCheckDigit } from '../helpers/roster-fixtures.js';
import { tempDir } from '../helpers/roster-workbook.js';

test('fixture ID numbers are valid GB 11643 numbers whose 17th digit agrees with the gender', (t) => {
  t.is(residentId('110105', '19491231', 2), '11010519491231002X');
  for (const region of BEIJING_REGIONS) {
    for (let n = 1; n <= 20; n++) {
      const m = personId(region, '19900307', n, '男');
      const f = personId(region, '19900307', n, '女');
      t.true(hasValidCheckDigit(m) && hasValidCheckDigit(f));
      t.is(Number(m[16]) % 2, 1);
      t.is(Number(f[16]) % 2, 0);
      t.false(hasValidCheckDigit(withWrongCheckDigit(m)));
    }
  }
});

test('the fixture script writes the three demo rosters into a folder', async (t) => {
  const dir = await tempDir();
  const fx = await buildAllFixtures(dir);
  t.is(fx.length, 3);
  t.deepEqual((await readdir(dir)).sort(), ['competition-roster.csv', 'organisation-roster.xlsx', 'sichuan-competition-roster.xlsx']);
});
