/**
 * Errors as values: every rule reports into a RowIssues (problems that reject the row, and notes for
 * safe corrections that were applied), never throws for a bad row.
 */
import { type Problem } from '../core/errors.js';
import { scrubIds } from '../core/privacy.js';

/** A safe correction that was applied (trim, full-width → half-width, 2026/11/20 → 2026-11-20 …). */
export interface Note {
  readonly rowNo: number;
  readonly field: string;
  /** Before and after; ID numbers masked. */
  readonly from: string;
  readonly to: string;
  /** What changed, in plain words. */
  readonly change: string;
}

export class RowIssues {
  readonly problems: Problem[] = [];
  readonly notes: Note[] = [];
  constructor(readonly rowNo: number) {}

  problem(field: string, rule: RuleId, message: string, value?: string): void {
    this.problems.push(value === undefined ? { rowNo: this.rowNo, field, rule, message: scrubIds(message) } : { rowNo: this.rowNo, field, value: scrubIds(value), rule, message: scrubIds(message) });
  }

  note(field: string, from: string, to: string, change: string): void {
    this.notes.push({ rowNo: this.rowNo, field, from: scrubIds(from), to: scrubIds(to), change });
  }

  get ok(): boolean {
    return this.problems.length === 0;
  }
}

/** Every rule id with a short description (the summary counts rejections by these). */
export const RULES = {
  'cell.error': 'a cell shows an error value',
  'cell.formulaNoResult': 'a formula was saved without its result',
  'field.empty': 'a required field is empty',
  'id.precisionLost': 'ID number stored by Excel as a number (digits lost)',
  'id.length': 'ID number has the wrong length',
  'id.format': 'ID number has characters that do not belong',
  'id.region': 'ID number region code unknown',
  'id.birthDate': 'ID number birth date invalid',
  'id.checkDigit': 'ID number check digit wrong (GB 11643)',
  'idType.empty': 'ID type empty and not inferable',
  'idType.unknown': 'ID type not one of the seed 002 codes',
  'idType.mismatch': 'ID type code and name disagree',
  'level.unknown': 'skill level not recognised',
  'level.conflict': 'skill level code and name disagree',
  'result.unknown': '认定结果 not 合格/不合格/缺考/舞弊',
  'award.empty': 'competition row without an award',
  'date.format': 'issue date in an unreadable form',
  'date.invalid': 'issue date not a real date',
  'name.characters': 'name has characters that cannot be in a name',
  'font.uncovered': 'a character no configured font covers',
  'scope.occupation': 'occupation outside the registered scope',
  'scope.job': 'job not registered for the occupation',
  'scope.jobMissing': 'job empty but the occupation has registered jobs',
  'scope.level': 'level not registered for the occupation',
  'gender.unknown': 'gender not 男 or 女',
  'gender.mismatch': 'gender disagrees with the ID number',
  'photo.path': 'photo name points outside the photo folder',
  'duplicate.inRoster': 'same person and qualification earlier in the roster',
} as const;
export type RuleId = keyof typeof RULES;
