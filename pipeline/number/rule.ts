/**
 * Turns a jurisdiction's description (how to read the positions, how to lay out the parts) into a full
 * NumberingRule, so that encode, decode, validate, prefix and withSerial behave the same for every rule and
 * a jurisdiction module only says what is particular to it.
 */
import { SkillcertError } from '../core/errors.js';
import type { LevelCode } from '../core/record.js';
import { appendSerial, checkLength, compose, type Span, yearCode } from './shape.js';
import type { BaseParts, NumberingIssuer, NumberingRule, Validation } from './types.js';

export interface RuleSpec<P extends BaseParts> {
  readonly id: P['rule'];
  readonly name: string;
  readonly length: number;
  readonly serialDigits: number;
  readonly maxSerial: number;
  /** Said in length messages: "a Beijing certificate number (表 1)". */
  readonly what: string;
  /** Checks positions left to right on a string of the right length; the first failure wins. */
  read(chars: readonly string[]): Validation<P>;
  /** The parts as text in their spans; `year` and `serial` arrive already coded. */
  layout(parts: P, coded: { year: string; serial: string }): readonly (readonly [name: string, value: string, at: Span])[];
  /** The parts of the first number an issuer gives out in a year at a level; undefined when the profile is for another rule. */
  fromIssuer(issuer: NumberingIssuer, year: number, level: LevelCode): P | undefined;
  /** The profile field that fixes a position, to tell the user what to fix; undefined for year, level and serial. */
  profileField(position: number): string | undefined;
}

export function makeRule<P extends BaseParts>(spec: RuleSpec<P>): NumberingRule<P> {
  const validate = (number: string): Validation<P> => {
    const chars = [...number];
    return checkLength(chars, spec.length, spec.what) ?? spec.read(chars);
  };

  /** Builds and checks a number; a failure is returned, so callers choose the error code that fits. */
  const build = (parts: P): { number: string; v: Validation<P> } => {
    if (parts.rule !== spec.id) {
      throw new SkillcertError('E_USAGE', `cannot build a ${spec.name} number from parts of rule "${parts.rule}"; use ruleById("${parts.rule}")`, { field: 'rule' });
    }
    const year = yearCode(parts.year);
    if (year === undefined) {
      throw new SkillcertError('E_USAGE', `year ${String(parts.year)} cannot be coded: positions 14-15 hold the last two digits of a year 2000-2099`, { field: 'year' });
    }
    if (!Number.isInteger(parts.serial) || parts.serial < 1 || parts.serial > spec.maxSerial) {
      throw new SkillcertError('E_USAGE', `serial ${String(parts.serial)} cannot be coded: ${spec.name} serials run from 1 to ${spec.maxSerial}`, { field: 'serial' });
    }
    const number = compose(spec.length, spec.layout(parts, { year, serial: String(parts.serial).padStart(spec.serialDigits, '0') }), spec.name);
    return { number, v: validate(number) };
  };

  const rule: NumberingRule<P> = {
    id: spec.id,
    name: spec.name,
    length: spec.length,
    serialDigits: spec.serialDigits,
    maxSerial: spec.maxSerial,
    validate,

    decode(number) {
      const v = validate(number);
      if (!v.ok) {
        // The input is not echoed: a wrong paste may be an ID number, which must not reach a message (第十九条).
        throw new SkillcertError('E_VERIFY', `not a valid ${spec.name} certificate number: ${v.message}`, { field: 'number', position: v.position });
      }
      return v.parts;
    },

    encode(parts) {
      const { number, v } = build(parts);
      if (!v.ok) throw new SkillcertError('E_USAGE', `cannot build a ${spec.name} number: ${v.message}`, { field: 'number', position: v.position });
      return number;
    },

    prefix(issuer, year, level) {
      const parts = spec.fromIssuer(issuer, year, level);
      if (!parts) {
        throw new SkillcertError(
          'E_PROFILE',
          `the profile numbers by rule "${issuer.numbering.rule}", not by ${spec.name}; use ruleFor(profile) to pick the rule`,
          { field: 'numbering.rule' },
        );
      }
      const { number, v } = build(parts);
      if (!v.ok) {
        const fieldName = spec.profileField(v.position);
        if (fieldName) {
          throw new SkillcertError('E_PROFILE', `the profile cannot make a valid ${spec.name} number: ${v.message}; fix "${fieldName}" in the profile`, {
            field: fieldName,
            position: v.position,
          });
        }
        throw new SkillcertError('E_USAGE', `cannot build a ${spec.name} number: ${v.message}`, { field: 'number', position: v.position });
      }
      return number.slice(0, spec.length - spec.serialDigits);
    },

    withSerial(prefix, serial) {
      const number = appendSerial(prefix, serial, spec);
      const v = validate(number);
      if (!v.ok) throw new SkillcertError('E_USAGE', `"${prefix}" is not a ${spec.name} prefix: ${v.message}`, { field: 'prefix', position: v.position });
      return number;
    },
  };
  return Object.freeze(rule);
}
