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

export type ErrorCode = 'E_ROSTER' | 'E_PROFILE' | 'E_RENDER' | 'E_FONT' | 'E_LINT' | 'E_SIGN' | 'E_IO' | 'E_REGISTRY' | 'E_USAGE' | 'E_VERIFY' | 'E_INTERNAL';

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
