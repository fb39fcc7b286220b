import test from 'ava';
import { beijing, BEIJING_DISTRICTS, BEIJING_EXAMPLES, BEIJING_ORG_SERIAL_RANGES, prefixFor, type BeijingParts } from '../../pipeline/number/index.js';
import { SkillcertError } from '../../pipeline/core/errors.js';

const EXAMPLE_1 = 'Y000111020001225000001';
const EXAMPLE_2 = 'S000011082003225000001';

/** Puts `text` at 1-based `position` of a valid number, to make one wrong shape at a time. */
function at(number: string, position: number, text: string): string {
  return number.slice(0, position - 1) + text + number.slice(position - 1 + text.length);
}

function refusedAt(t: import('ava').ExecutionContext, number: string, position: number, pattern: RegExp): void {
  const v = beijing.validate(number);
  if (v.ok) {
    t.fail(`${number} was accepted`);
    return;
  }
  t.is(v.position, position, v.message);
  t.regex(v.message, pattern);
  // "position 16 is 7: …" or, for a multi-digit part, "positions 8-9 are 03: …"
  t.regex(v.message, /^positions? \d+(-\d+)? (is|are) /, 'the message starts with the position');
}

test('the two examples of the rule are the ones in beijing.json', (t) => {
  t.deepEqual([...BEIJING_EXAMPLES], [EXAMPLE_1, EXAMPLE_2]);
});

test('example 1 decodes to employer, ministry code 0001, 西城, central-SOE serial 0001, 2022, level 5, serial 1', (t) => {
  t.deepEqual<BeijingParts, BeijingParts>(beijing.decode(EXAMPLE_1), {
    rule: 'beijing',
    category: 'Y',
    orgCode: '0001',
    district: '02',
    orgSerial: '0001',
    year: 2022,
    level: 5,
    serial: 1,
  });
});

test('example 2 decodes to social organisation, Beijing-filed 0000, 海淀, district-employer serial 2003, 2022, level 5, serial 1', (t) => {
  t.deepEqual<BeijingParts, BeijingParts>(beijing.decode(EXAMPLE_2), {
    rule: 'beijing',
    category: 'S',
    orgCode: '0000',
    district: '08',
    orgSerial: '2003',
    year: 2022,
    level: 5,
    serial: 1,
  });
});

test('both examples re-encode to the same characters', (t) => {
  for (const n of [EXAMPLE_1, EXAMPLE_2]) t.is(beijing.encode(beijing.decode(n)), n);
});

test('every district of 表 4 and both ends of every 表 5 range round-trip', (t) => {
  for (const d of BEIJING_DISTRICTS) {
    for (const r of BEIJING_ORG_SERIAL_RANGES) {
      for (const s of [r.from, r.to]) {
        const parts: BeijingParts = { rule: 'beijing', category: 'S', orgCode: '0000', district: d.code, orgSerial: String(s).padStart(4, '0'), year: 2031, level: 3, serial: 999999 };
        const n = beijing.encode(parts);
        t.deepEqual(beijing.decode(n), parts);
      }
    }
  }
});

test('a number of 21 characters is refused at position 22, one of 23 at position 23', (t) => {
  refusedAt(t, EXAMPLE_1.slice(0, 21), 22, /missing.*22 characters.*21/);
  refusedAt(t, EXAMPLE_1 + '1', 23, /extra.*22 characters.*23/);
  refusedAt(t, '', 1, /missing/);
});

test('a lower-case category letter is refused at position 1 and asked in upper case', (t) => {
  refusedAt(t, at(EXAMPLE_1, 1, 'y'), 1, /upper case/);
});

test('a category other than Y or S is refused at position 1', (t) => {
  refusedAt(t, at(EXAMPLE_1, 1, 'X'), 1, /Y \(用人单位\) or S \(社会培训评价组织\) \(表 2\)/);
  refusedAt(t, at(EXAMPLE_1, 1, '1'), 1, /表 2/);
});

test('a letter in the organisation code is refused at its own position', (t) => {
  refusedAt(t, at(EXAMPLE_1, 4, 'O'), 4, /organisation code.*digits/);
});

test('a city code other than 11 is refused at the first wrong position', (t) => {
  refusedAt(t, at(EXAMPLE_1, 6, '51'), 6, /city code 11/);
  refusedAt(t, at(EXAMPLE_1, 7, '2'), 7, /city code 11/);
});

test('a district not in 表 4 is refused at position 8', (t) => {
  for (const d of ['00', '03', '04', '10', '18', '27', '31', '99']) refusedAt(t, at(EXAMPLE_1, 8, d), 8, /not a Beijing district code; 表 4/);
});

test('an org serial outside 表 5 is refused at position 10', (t) => {
  for (const s of ['0000', '1000', '2000', '7000', '7001', '9999']) refusedAt(t, at(EXAMPLE_1, 10, s), 10, /表 5 range/);
});

test('a level of 0, 6 or a letter is refused at position 16', (t) => {
  refusedAt(t, at(EXAMPLE_1, 16, '0'), 16, /^position 16 is 0: the level code must be 1-5 \(表 6\)$/);
  refusedAt(t, at(EXAMPLE_1, 16, '6'), 16, /^position 16 is 6: the level code must be 1-5 \(表 6\)$/);
  refusedAt(t, at(EXAMPLE_1, 16, '7'), 16, /^position 16 is 7: the level code must be 1-5 \(表 6\)$/);
  refusedAt(t, at(EXAMPLE_1, 16, 'A'), 16, /level code must be 1-5/);
});

test('serial 000000 is refused at position 17', (t) => {
  refusedAt(t, at(EXAMPLE_1, 17, '000000'), 17, /000001 to 999999/);
});

test('a non-digit anywhere among the digits is refused at that position', (t) => {
  for (let p = 2; p <= 22; p++) {
    const v = beijing.validate(at(EXAMPLE_1, p, 'x'));
    t.false(v.ok, `position ${p}`);
    if (!v.ok) t.is(v.position, p);
  }
});

test('a space is refused at its position with the advice to drop spaces', (t) => {
  refusedAt(t, at(EXAMPLE_1, 14, ' '), 14, /a space.*without spaces/);
});

test('a full-width digit is refused at its position and named as full-width', (t) => {
  refusedAt(t, at(EXAMPLE_1, 3, '０'), 3, /full-width/);
});

test('a competition number is refused at position 17 as a competition certificate', (t) => {
  refusedAt(t, 'Y000111020001225J00001', 17, /competition certificate/);
});

test('decoding a malformed number throws E_VERIFY with the position and without echoing the input', (t) => {
  const idLike = '110101199003074514XXXX';
  const err = t.throws(() => beijing.decode(idLike), { instanceOf: SkillcertError });
  t.is(err?.code, 'E_VERIFY');
  t.is(err?.details.position, 1);
  t.false(err?.message.includes(idLike));
});

test('encoding checks each part: year outside 2000-2099, serial 0 and a wrong-width part are refused', (t) => {
  const good = beijing.decode(EXAMPLE_1);
  t.throws(() => beijing.encode({ ...good, year: 1999 }), { message: /year 1999/ });
  t.throws(() => beijing.encode({ ...good, serial: 0 }), { message: /serial 0/ });
  t.throws(() => beijing.encode({ ...good, serial: 1_000_000 }), { message: /1 to 999999/ });
  t.throws(() => beijing.encode({ ...good, orgCode: '12345' }), { message: /orgCode is "12345".*positions 2-5/ });
  t.throws(() => beijing.encode({ ...good, district: '03' }), { message: /position.* 8.*表 4/ });
});

test('the prefix of a profile is positions 1-16 and the serial fills 17-22', (t) => {
  const profile = { category: 'Y', orgCode: '0001', numbering: { rule: 'beijing', district: '02', serial: '0001' } } as const;
  const prefix = prefixFor(profile, 2022, 5);
  t.is(prefix, 'Y000111020001225');
  t.is(beijing.withSerial(prefix, 1), EXAMPLE_1);
  t.is(beijing.withSerial(prefix, 999999), 'Y000111020001225999999');
  t.is(beijing.maxSerial, 999999);
});

test('a serial past 999999 is a clear registry error', (t) => {
  const err = t.throws(() => beijing.withSerial('Y000111020001225', 1_000_000), { instanceOf: SkillcertError });
  t.is(err?.code, 'E_REGISTRY');
  t.regex(err?.message ?? '', /no certificate serial left for Y000111020001225.*999999/);
});

test('a profile with an org serial outside 表 5 is an E_PROFILE error naming numbering.serial', (t) => {
  const profile = { category: 'S', orgCode: '0000', numbering: { rule: 'beijing', district: '08', serial: '7001' } } as const;
  const err = t.throws(() => prefixFor(profile, 2022, 5), { instanceOf: SkillcertError });
  t.is(err?.code, 'E_PROFILE');
  t.is(err?.details.field, 'numbering.serial');
  t.regex(err?.message ?? '', /positions 10-13 are 7001.*fix "numbering.serial"/);
});
