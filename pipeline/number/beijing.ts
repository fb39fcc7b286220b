/**
 * 北京市职业技能等级证书编码规则 (seed 002): 1 upper-case letter + 21 digits in 7 parts (表 1).
 *
 *   Y 0001 1102 0001 22 5 000001
 *   │ │    │ │  │    │  │ └ 17-22 serial, 000001-999999 per organisation, year and level (二(七))
 *   │ │    │ │  │    │  └ 16 level 1-5 (表 6)
 *   │ │    │ │  │    └ 14-15 last two digits of the issue year (二(五))
 *   │ │    │ │  └ 10-13 organisation serial, within a 表 5 range
 *   │ │    │ └ 8-9 district (表 4)
 *   │ │    └ 6-7 city code 11 (北京市)
 *   │ └ 2-5 organisation code: 0000 first filed with the Beijing bureau, 0001-9999 with the ministry (表 3)
 *   └ 1 category Y 用人单位 / S 社会培训评价组织 (表 2)
 *
 * Codes, names and ranges are read from beijing.json; positions 1-13 come from the profile (assigned by the
 * bureau), 14-22 from the run (assigned by the organisation, 表 1 来源).
 */
import type { LevelCode } from '../core/record.js';
import data from './beijing.json' with { type: 'json' };
import { makeRule } from './rule.js';
import { checkCategory, checkDigits, checkLevel, checkSerial, fail, field, isCategory, isLevel, show, span, type Span, where, yearFromCode } from './shape.js';
import type { BaseParts, Failure, NumberingRule } from './types.js';

export interface BeijingParts extends BaseParts {
  readonly rule: 'beijing';
  /** Positions 8-9 (表 4), e.g. 08 海淀区. */
  readonly district: string;
  /** Positions 10-13 (表 5), e.g. 2003, a 辖区用人单位. */
  readonly orgSerial: string;
}

export interface CodeName {
  readonly code: string;
  readonly name: string;
}
export interface SerialRange {
  readonly from: number;
  readonly to: number;
  readonly name: string;
}

/** 表 4: districts of Beijing with their codes. */
export const BEIJING_DISTRICTS: readonly CodeName[] = data.districts;
/** 表 5: organisation-serial ranges with the kind of organisation each is for. */
export const BEIJING_ORG_SERIAL_RANGES: readonly SerialRange[] = data.orgSerialRanges;
/** The two examples of 三 (示例 1 and 2). */
export const BEIJING_EXAMPLES: readonly string[] = data.examples;

const L = {
  category: span(data.layout.category),
  orgCode: span(data.layout.orgCode),
  city: span(data.layout.city),
  district: span(data.layout.district),
  orgSerial: span(data.layout.orgSerial),
  year: span(data.layout.year),
  level: span(data.layout.level),
  serial: span(data.layout.serial),
} as const;

const DISTRICTS = new Map(BEIJING_DISTRICTS.map((d) => [d.code, d.name]));

export function districtName(code: string): string | undefined {
  return DISTRICTS.get(code);
}

/** The 表 5 range an organisation serial lies in, or undefined (0000, 1000, 7001 … lie in none). */
export function orgSerialRange(serial: string): SerialRange | undefined {
  if (!/^\d{4}$/.test(serial)) return undefined;
  const n = Number(serial);
  return BEIJING_ORG_SERIAL_RANGES.find((r) => n >= r.from && n <= r.to);
}

const pad4 = (n: number): string => String(n).padStart(4, '0');

/** Positions 6-7 hold the city code 11 (表 4 heading: 评价机构所在北京市代码“11”). */
function checkCity(chars: readonly string[]): Failure | undefined {
  const bad = checkDigits(chars, L.city, 'the city code');
  if (bad) return bad;
  const code = data.city.code;
  for (let i = 0; i < code.length; i++) {
    const p = L.city[0] + i;
    if (chars[p - 1] !== code[i]) {
      return fail(p, `${where(L.city)} are ${field(chars, L.city)}: a Beijing number carries the city code ${code} (${data.city.name}) there (表 4)`);
    }
  }
  return undefined;
}

function checkDistrict(chars: readonly string[]): Failure | undefined {
  const code = field(chars, L.district);
  if (DISTRICTS.has(code)) return undefined;
  const list = BEIJING_DISTRICTS.map((d) => `${d.code} ${d.name}`).join(', ');
  return fail(L.district[0], `${where(L.district)} are ${code}: not a Beijing district code; 表 4 has ${list}`);
}

/** 表 3: every four-digit code is either 0000 (Beijing bureau) or 0001-9999 (ministry); kept data-driven all the same. */
function checkOrgCode(chars: readonly string[]): Failure | undefined {
  const n = Number(field(chars, L.orgCode));
  if (data.orgCodes.some((r) => n >= r.from && n <= r.to)) return undefined;
  return fail(L.orgCode[0], `${where(L.orgCode)} are ${field(chars, L.orgCode)}: not an organisation code of 表 3`);
}

function checkOrgSerial(chars: readonly string[]): Failure | undefined {
  const code = field(chars, L.orgSerial);
  if (orgSerialRange(code)) return undefined;
  const list = BEIJING_ORG_SERIAL_RANGES.map((r) => `${pad4(r.from)}-${pad4(r.to)} ${r.name}`).join(', ');
  return fail(L.orgSerial[0], `${where(L.orgSerial)} are ${code}: the organisation serial must lie in a 表 5 range (${list})`);
}

/** A J where the serial starts is the competition marker (seed 001 四(一)): say so rather than "must be digits". */
function checkBeijingSerial(chars: readonly string[]): Failure | undefined {
  const first = chars[L.serial[0] - 1] ?? '';
  if (first.toUpperCase() === 'J') {
    return fail(
      L.serial[0],
      `position ${L.serial[0]} is ${show(first)}: that marks a competition certificate (seed 001 四); a Beijing number has a ${data.serial.digits}-digit serial in ${where(L.serial)}`,
    );
  }
  return checkSerial(chars, L.serial, '二(七)');
}

const PROFILE_FIELDS: readonly (readonly [Span, string])[] = [
  [L.category, 'category'],
  [L.orgCode, 'orgCode'],
  [L.city, 'numbering.district'],
  [L.district, 'numbering.district'],
  [L.orgSerial, 'numbering.serial'],
];

export const beijing: NumberingRule<BeijingParts> = makeRule<BeijingParts>({
  id: 'beijing',
  name: data.name,
  length: data.length,
  serialDigits: data.serial.digits,
  maxSerial: data.serial.to,
  what: 'a Beijing certificate number (表 1)',

  read(chars) {
    const bad =
      checkCategory(chars, L.category, data.categories) ??
      checkDigits(chars, L.orgCode, 'the organisation code (表 3)') ??
      checkOrgCode(chars) ??
      checkCity(chars) ??
      checkDigits(chars, L.district, 'the district code (表 4)') ??
      checkDistrict(chars) ??
      checkDigits(chars, L.orgSerial, 'the organisation serial (表 5)') ??
      checkOrgSerial(chars) ??
      checkDigits(chars, L.year, 'the year code') ??
      checkLevel(chars, L.level, data.levels) ??
      checkBeijingSerial(chars);
    if (bad) return bad;
    const category = field(chars, L.category);
    const level = Number(field(chars, L.level));
    // Both were checked above; the guards only narrow the types.
    if (!isCategory(category) || !isLevel(level)) throw new Error('unreachable: category and level were checked');
    return {
      ok: true,
      parts: {
        rule: 'beijing',
        category,
        orgCode: field(chars, L.orgCode),
        district: field(chars, L.district),
        orgSerial: field(chars, L.orgSerial),
        year: yearFromCode(field(chars, L.year)),
        level,
        serial: Number(field(chars, L.serial)),
      },
    };
  },

  layout(p, coded) {
    return [
      ['category', p.category, L.category],
      ['orgCode', p.orgCode, L.orgCode],
      ['city', data.city.code, L.city],
      ['district', p.district, L.district],
      ['orgSerial', p.orgSerial, L.orgSerial],
      ['year', coded.year, L.year],
      ['level', String(p.level), L.level],
      ['serial', coded.serial, L.serial],
    ];
  },

  fromIssuer(issuer, year, level: LevelCode) {
    const n = issuer.numbering;
    if (n.rule !== 'beijing') return undefined;
    return { rule: 'beijing', category: issuer.category, orgCode: issuer.orgCode, district: n.district, orgSerial: n.serial, year, level, serial: 1 };
  },

  profileField(position) {
    return PROFILE_FIELDS.find(([s]) => position >= s[0] && position <= s[1])?.[1];
  },
});
