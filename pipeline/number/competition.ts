/**
 * Competition certificate numbers (竞赛职业技能等级证书编码), seed 001 (川人社职鉴〔2022〕9号) section 四.
 *
 * What the notice says: "编码赋码设置参照普通职业技能等级证书编码要求设置，共22位。区别于普通职业技能等级证书的是
 * 第17位和8-13位。" Our reading, position by position:
 *
 *   Y 0001 51 00 9999 22 5 J 00001
 *   │ │    │  │  │    │  │ │ └ 18-22 serial, 00001-99999: the J takes the first serial position, five digits remain
 *   │ │    │  │  │    │  │ └ 17 the upper-case letter J, the competition 识别码 (四(一), after 人社鉴发〔2019〕2号)
 *   │ │    │  │  │    │  └ 16 level 1-5, as the general rule (表 6 of seed 002)
 *   │ │    │  │  │    └ 14-15 year, as the general rule
 *   │ │    │  │  └ 10-13 9999 when issued by the HR system at any level (竞赛特殊值), otherwise the issuing
 *   │ │    │  │         evaluation organisation's filing code (等级认定备案代码) (四(二))
 *   │ │    │  └ 8-9 the issuing body's province or city/prefecture code by the provincial rule: 00 the province,
 *   │ │    │        01 成都市, … (四(二))
 *   │ │    └ 6-7 the province code: unchanged from the general rule, where 6-9 is province + city; GB/T 2260
 *   │ │          (51 四川省), which is why Beijing's numbers carry 11 there
 *   │ └ 2-5 organisation code, as the general rule (表 3 of seed 002)
 *   └ 1 category Y/S, as the general rule (表 2 of seed 002)
 *
 * The notice does not say what positions 1-5 hold for a committee issuing under "一赛一授权" in its own name; we take
 * them from the profile (category, orgCode) like any organisation's, and say so in the report. Serials run per
 * issuer, year and level as in the general rule; 一证一编码 (六(二)) holds either way.
 */
import type { LevelCode } from '../core/record.js';
import data from './competition.json' with { type: 'json' };
import { makeRule } from './rule.js';
import { checkCategory, checkDigits, checkLevel, checkSerial, fail, field, isCategory, isLevel, show, span, type Span, where, yearFromCode } from './shape.js';
import type { BaseParts, Failure, NumberingRule } from './types.js';

export interface CompetitionParts extends BaseParts {
  readonly rule: 'competition';
  /** Positions 6-7, GB/T 2260 province code, e.g. 51 四川省. */
  readonly province: string;
  /** Positions 8-9: 00 a provincial issuer, else the city/prefecture code by the provincial rule (01 成都市). */
  readonly region: string;
  /** Positions 10-13: 9999 issued by the HR system, else the issuing organisation's filing code. */
  readonly issuer: string;
}

/** Province-level codes accepted at positions 6-7. */
export const PROVINCES: readonly { readonly code: string; readonly name: string }[] = data.provinces;
/** 四(二): the value of positions 10-13 when the HR system issues the certificate. */
export const HR_SYSTEM_ISSUER: string = data.hrSystemIssuer.code;
/** 四(二): the value of positions 8-9 when a provincial body issues the certificate. */
export const PROVINCIAL_REGION: string = data.provinceRegion.code;

const L = {
  category: span(data.layout.category),
  orgCode: span(data.layout.orgCode),
  province: span(data.layout.province),
  region: span(data.layout.region),
  issuer: span(data.layout.issuer),
  year: span(data.layout.year),
  level: span(data.layout.level),
  marker: span(data.layout.marker),
  serial: span(data.layout.serial),
} as const;

const PROVINCE_NAMES = new Map(PROVINCES.map((p) => [p.code, p.name]));

export function provinceName(code: string): string | undefined {
  return PROVINCE_NAMES.get(code);
}

function checkProvince(chars: readonly string[]): Failure | undefined {
  const code = field(chars, L.province);
  if (PROVINCE_NAMES.has(code)) return undefined;
  return fail(L.province[0], `${where(L.province)} are ${code}: not a province code (GB/T 2260, e.g. 51 四川省, 11 北京市)`);
}

/** 四(一): position 17 is the upper-case J; a digit there is an ordinary certificate's serial. */
function checkMarker(chars: readonly string[]): Failure | undefined {
  const ch = field(chars, L.marker);
  const letter = data.marker.letter;
  if (ch === letter) return undefined;
  if (ch.toUpperCase() === letter) {
    return fail(L.marker[0], `${where(L.marker)} is ${show(ch)}: the competition mark must be an upper-case ${letter} (seed 001 四(一)); write it in upper case`);
  }
  return fail(L.marker[0], `${where(L.marker)} is ${show(ch)}: a competition certificate number carries the letter ${letter} there (seed 001 四(一))`);
}

const PROFILE_FIELDS: readonly (readonly [Span, string])[] = [
  [L.category, 'category'],
  [L.orgCode, 'orgCode'],
  [L.province, 'numbering.province'],
  [L.region, 'numbering.region'],
  [L.issuer, 'numbering.issuer'],
];

export const competition: NumberingRule<CompetitionParts> = makeRule<CompetitionParts>({
  id: 'competition',
  name: data.name,
  length: data.length,
  serialDigits: data.serial.digits,
  maxSerial: data.serial.to,
  what: 'a competition certificate number (seed 001 四)',

  read(chars) {
    const bad =
      checkCategory(chars, L.category, data.categories) ??
      checkDigits(chars, L.orgCode, 'the organisation code') ??
      checkDigits(chars, L.province, 'the province code') ??
      checkProvince(chars) ??
      checkDigits(chars, L.region, 'the region code') ??
      checkDigits(chars, L.issuer, 'the issuer code (9999 or a filing code)') ??
      checkDigits(chars, L.year, 'the year code') ??
      checkLevel(chars, L.level, data.levels) ??
      checkMarker(chars) ??
      checkSerial(chars, L.serial, 'seed 001 四');
    if (bad) return bad;
    const category = field(chars, L.category);
    const level = Number(field(chars, L.level));
    // Both were checked above; the guards only narrow the types.
    if (!isCategory(category) || !isLevel(level)) throw new Error('unreachable: category and level were checked');
    return {
      ok: true,
      parts: {
        rule: 'competition',
        category,
        orgCode: field(chars, L.orgCode),
        province: field(chars, L.province),
        region: field(chars, L.region),
        issuer: field(chars, L.issuer),
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
      ['province', p.province, L.province],
      ['region', p.region, L.region],
      ['issuer', p.issuer, L.issuer],
      ['year', coded.year, L.year],
      ['level', String(p.level), L.level],
      ['marker', data.marker.letter, L.marker],
      ['serial', coded.serial, L.serial],
    ];
  },

  fromIssuer(issuer, year, level: LevelCode) {
    const n = issuer.numbering;
    if (n.rule !== 'competition') return undefined;
    return {
      rule: 'competition',
      category: issuer.category,
      orgCode: issuer.orgCode,
      province: n.province,
      region: n.region,
      issuer: n.issuer,
      year,
      level,
      serial: 1,
    };
  },

  profileField(position) {
    return PROFILE_FIELDS.find(([s]) => position >= s[0] && position <= s[1])?.[1];
  },
});
