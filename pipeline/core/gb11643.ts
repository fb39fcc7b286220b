/**
 * The GB 11643 check character of a 居民身份证 number (ISO 7064 MOD 11-2; the last may be X), in one place for the
 * roster's validation and the registry's corrections alike.
 */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK = '10X98765432';

/** The check character of the first 17 digits. */
export function gb11643CheckDigit(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new RangeError(`Expected 17 digits for a GB 11643 check digit but received ${first17.length} characters`);
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]!;
  return CHECK[sum % 11]!;
}

/** 17 digits and the right check character (an upper-case X). */
export function hasValidCheckDigit(id18: string): boolean {
  return /^\d{17}[\dX]$/.test(id18) && gb11643CheckDigit(id18.slice(0, 17)) === id18[17];
}
