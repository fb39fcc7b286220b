import test from 'ava';
import { competition, HR_SYSTEM_ISSUER, prefixFor, type CompetitionParts } from '../../pipeline/number/index.js';

const SICHUAN: CompetitionParts = { rule: 'competition', category: 'S', orgCode: '0001', province: '51', region: '00', issuer: '9999', year: 2022, level: 3, serial: 1 };

function at(number: string, position: number, text: string): string {
  return number.slice(0, position - 1) + text + number.slice(position - 1 + text.length);
}

function refusedAt(t: import('ava').ExecutionContext, number: string, position: number, pattern: RegExp): void {
  const v = competition.validate(number);
  if (v.ok) {
    t.fail(`${number} was accepted`);
    return;
  }
  t.is(v.position, position, v.message);
  t.regex(v.message, pattern);
}

test('a provincial HR-system competition number has 51 00 9999 and J at position 17', (t) => {
  const n = competition.encode(SICHUAN);
  t.is(n, 'S000151009999223J00001');
  t.is(n.length, 22);
  t.is(n[16], 'J');
  t.is(n.slice(9, 13), HR_SYSTEM_ISSUER);
});

test('competition numbers round-trip through decode and encode', (t) => {
  const cases: CompetitionParts[] = [
    SICHUAN,
    { ...SICHUAN, region: '01', issuer: '0815', category: 'Y', level: 1, serial: 99999 },
    { ...SICHUAN, province: '11', region: '08', issuer: '2003', year: 2099, level: 5, serial: 42 },
  ];
  for (const parts of cases) {
    const n = competition.encode(parts);
    t.deepEqual(competition.decode(n), parts);
    t.is(competition.encode(competition.decode(n)), n);
  }
});

test('a competition number without J at position 17 is refused there', (t) => {
  const n = competition.encode(SICHUAN);
  refusedAt(t, at(n, 17, '0'), 17, /letter J there \(seed 001 四\(一\)\)/);
  refusedAt(t, 'Y000111020001225000001', 17, /letter J/);
});

test('a lower-case j is refused at position 17 and asked in upper case', (t) => {
  refusedAt(t, at(competition.encode(SICHUAN), 17, 'j'), 17, /upper-case J/);
});

test('a province code that is no province is refused at position 6', (t) => {
  refusedAt(t, at(competition.encode(SICHUAN), 6, '99'), 6, /not a province code/);
});

test('serial 00000 is refused at position 18 and the serial holds five digits', (t) => {
  refusedAt(t, at(competition.encode(SICHUAN), 18, '00000'), 18, /00001 to 99999/);
  t.is(competition.maxSerial, 99999);
  t.is(competition.serialDigits, 5);
});

test('length, category, level and non-digits are refused at their positions as in the general rule', (t) => {
  const n = competition.encode(SICHUAN);
  refusedAt(t, n.slice(0, 20), 21, /missing/);
  refusedAt(t, at(n, 1, 's'), 1, /upper case/);
  refusedAt(t, at(n, 16, '6'), 16, /level code must be 1-5/);
  refusedAt(t, at(n, 11, 'A'), 11, /issuer code.*digits/);
  refusedAt(t, at(n, 20, 'x'), 20, /serial.*digits/);
});

test('the prefix of a competition profile ends with the J and takes serials 1-99999', (t) => {
  const profile = { category: 'S', orgCode: '0001', numbering: { rule: 'competition', province: '51', region: '01', issuer: '9999' } } as const;
  const prefix = prefixFor(profile, 2023, 2);
  t.is(prefix, 'S000151019999232J');
  t.is(competition.withSerial(prefix, 7), 'S000151019999232J00007');
  t.throws(() => competition.withSerial(prefix, 100_000), { message: /no certificate serial left/ });
});

test('a competition profile with a bad province code is an E_PROFILE error naming numbering.province', (t) => {
  const profile = { category: 'S', orgCode: '0001', numbering: { rule: 'competition', province: '99', region: '00', issuer: '9999' } } as const;
  t.throws(() => prefixFor(profile, 2023, 2), { message: /fix "numbering.province"/ });
});
