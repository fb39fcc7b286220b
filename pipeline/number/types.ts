/**
 * What every numbering rule (证书编号 rule of one jurisdiction) provides. A rule is data (its JSON file)
 * plus one small module; `index.ts` registers the modules, so a third jurisdiction is one more file.
 */
import type { LevelCode } from '../core/record.js';
import type { Profile } from '../core/profile.js';

/** Position 1, 表 2 of the Beijing rule and of the national rule it follows: Y employer, S social organisation. */
export type Category = 'Y' | 'S';

/** The parts every rule shares (the national layout of 人社鉴发〔2019〕2号 that both seed 001 and seed 002 follow). */
export interface BaseParts {
  readonly rule: string;
  readonly category: Category;
  /** Positions 2-5: 0000 first filed with the Beijing bureau, 0001-9999 first filed with the ministry (表 3). */
  readonly orgCode: string;
  /**
   * The issue year in full (2022). The number carries only its last two digits (positions 14-15); decoding
   * reads them as 20xx because the rules date from 2019.
   */
  readonly year: number;
  /** Position 16 (表 6). */
  readonly level: LevelCode;
  /** The certificate serial as a number, 1 … the rule's `maxSerial`. */
  readonly serial: number;
}

export type Validation<P> =
  | { readonly ok: true; readonly parts: P }
  /** `position` is 1-based: the first character that is wrong (or missing: length + 1; extra: length of the rule + 1). */
  | { readonly ok: false; readonly position: number; readonly message: string };

export type Failure = Extract<Validation<never>, { ok: false }>;

/** The part of a profile that fixes positions 1-13 of its numbers. */
export type NumberingIssuer = Pick<Profile, 'category' | 'orgCode' | 'numbering'>;

export interface NumberingRule<P extends BaseParts = BaseParts> {
  /** Same as the profile's `numbering.rule`. */
  readonly id: P['rule'];
  /** The rule's official name, for reports. */
  readonly name: string;
  /** Characters in a number (22 for both rules so far). */
  readonly length: number;
  /** Digits of the certificate serial at the end of the number. */
  readonly serialDigits: number;
  /** The largest serial the rule can hold (999999 Beijing, 99999 competition). */
  readonly maxSerial: number;
  /** Builds the number; throws SkillcertError('E_USAGE') naming the position when a part cannot be coded. */
  encode(parts: P): string;
  /** Reads a number back into its parts; throws SkillcertError('E_VERIFY') with the position when it is malformed. */
  decode(number: string): P;
  /** Checks every position; never throws. */
  validate(number: string): Validation<P>;
  /**
   * The fixed part of every number an issuer gives out in one year at one level (everything before the serial).
   * Throws SkillcertError('E_PROFILE') naming the profile field when the profile cannot make a valid number.
   */
  prefix(issuer: NumberingIssuer, year: number, level: LevelCode): string;
  /** prefix + the serial padded to `serialDigits`; throws SkillcertError('E_REGISTRY') past `maxSerial`. */
  withSerial(prefix: string, serial: number): string;
}
