/** A problem with one row: a value, never an exception. One bad row never stops a batch. */
export interface Problem {
  readonly rowNo: number;
  readonly field: string;
  /** The offending value as the user typed it; ID numbers are masked before they get here. */
  readonly value?: string;
  /** A short stable name of the rule that failed, e.g. `id.checkDigit`. */
  readonly rule: string;
  /** What is wrong and what to do, in plain words. */
  readonly message: string;
}

export type ErrorCode = 'E_ROSTER' | 'E_PROFILE' | 'E_RENDER' | 'E_FONT' | 'E_LINT' | 'E_SIGN' | 'E_IO' | 'E_REGISTRY' | 'E_USAGE' | 'E_VERIFY';

/** A failure that stops the run (a broken input, not a bad row). */
export class SkillcertError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { rowNo?: number; field?: string; [key: string]: unknown } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Masks an ID number for logs, reports and QR payloads (第十九条): keep the first 4 and last 4 characters. */
export function maskId(idNo: string): string {
  const s = idNo.trim();
  if (s.length <= 8) return s.length <= 2 ? '*'.repeat(s.length) : `${s[0]}${'*'.repeat(s.length - 2)}${s[s.length - 1]}`;
  return `${s.slice(0, 4)}${'*'.repeat(s.length - 8)}${s.slice(-4)}`;
}
