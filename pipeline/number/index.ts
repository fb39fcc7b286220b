/**
 * Certificate numbers (证书编号, SPEC §4): one module per jurisdiction, registered here.
 *
 *   beijing      北京市职业技能等级证书编码规则 (seed 002)
 *   competition  competition certificates, position 17 = J (seed 001 四)
 *
 * A third jurisdiction is one more module (its JSON data + a `makeRule` description) and one more entry in RULES
 * (plus its `numbering` variant in the profile schema).
 */
import { SkillcertError } from '../core/errors.js';
import type { Profile } from '../core/profile.js';
import type { LevelCode } from '../core/record.js';
import { beijing, type BeijingParts } from './beijing.js';
import { competition, type CompetitionParts } from './competition.js';
import type { NumberingIssuer, NumberingRule, Validation } from './types.js';

export type { BaseParts, Category, NumberingIssuer, NumberingRule, Validation } from './types.js';
export type { BeijingParts, CodeName, SerialRange } from './beijing.js';
export type { CompetitionParts } from './competition.js';
export { BEIJING_DISTRICTS, BEIJING_EXAMPLES, BEIJING_ORG_SERIAL_RANGES, districtName, orgSerialRange } from './beijing.js';
export { HR_SYSTEM_ISSUER, PROVINCES, PROVINCIAL_REGION, provinceName } from './competition.js';
export { beijing, competition };

/** The parts of a number of any registered rule, told apart by `rule`. */
export type NumberParts = BeijingParts | CompetitionParts;
export type RuleId = NumberParts['rule'];
export type AnyRule = NumberingRule<NumberParts>;

/** Every registered rule, in the order detectRule tries them. */
export const RULES: readonly AnyRule[] = Object.freeze([beijing, competition]);

/** The rule with this id; throws SkillcertError('E_USAGE') naming the known ids otherwise. */
export function ruleById(id: string): AnyRule {
  const rule = RULES.find((r) => r.id === id);
  if (!rule) {
    throw new SkillcertError('E_USAGE', `unknown numbering rule "${id}"; known rules: ${RULES.map((r) => r.id).join(', ')}`, { field: 'numbering.rule' });
  }
  return rule;
}

/** The rule a profile numbers by (its `numbering.rule`). */
export function ruleFor(profile: Pick<Profile, 'numbering'>): AnyRule {
  return ruleById(profile.numbering.rule);
}

/** The registered rule that accepts this number, or undefined when none does (see validateAny for why). */
export function detectRule(number: string): AnyRule | undefined {
  return RULES.find((r) => r.validate(number).ok);
}

/**
 * Validates against every registered rule. When none accepts the number, the failure reported is the one of the
 * rule that read furthest into it, which is the likeliest intended rule (a Beijing number with a typo in the
 * serial fails the competition rule at position 6 or 17 but the Beijing rule only at position 17+).
 */
export function validateAny(number: string): ({ ok: true; rule: AnyRule; parts: NumberParts }) | ({ ok: false; rule: AnyRule; position: number; message: string }) {
  let best: { rule: AnyRule; v: Extract<Validation<NumberParts>, { ok: false }> } | undefined;
  for (const rule of RULES) {
    const v = rule.validate(number);
    if (v.ok) return { ok: true, rule, parts: v.parts };
    if (!best || v.position > best.v.position) best = { rule, v };
  }
  if (!best) throw new Error('unreachable: RULES is empty');
  return { ok: false, rule: best.rule, position: best.v.position, message: best.v.message };
}

/**
 * The fixed part of every number a profile gives out in one year at one level: everything before the serial
 * (16 characters for Beijing, 17 for competitions, whose 17th is the J). Certificates of the same prefix share
 * one serial sequence, which is what "per organisation, per year, per level" (二(七)) means.
 */
export function prefixFor(profile: NumberingIssuer, year: number, level: LevelCode): string {
  return ruleFor(profile).prefix(profile, year, level);
}
