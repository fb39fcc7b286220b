/** Validation stage: raw rows → accepted Rows, problems (errors as values), skipped rows, notes. */
export { validateRoster, summarise, type RosterSummary, type RosterValidation, type ValidateRosterOptions } from './roster.js';
export { RowValidator, requireColumns, type RowOutcome, type Skipped, type ValidateOptions } from './row.js';
export { writeRejectsWorkbook, REJECTS_HEADER, NOTES_HEADER, type RejectsWorkbookOptions } from './rejects-workbook.js';
export { safeText as safeCell } from '../core/cells.js';
export { RULES, RowIssues, type Note, type RuleId } from './issues.js';
export { gb11643CheckDigit, hasValidCheckDigit } from '../core/gb11643.js';
export { validateIdNumber, OTHER_ID_FORMATS } from './id-number.js';
export { parseIdType, validateIdType } from './id-type.js';
export { parseLevel, validateLevel } from './level.js';
export { validateDate, excelSerialToDate, chinaDate } from './dates.js';
export { normaliseName, checkNameCharacters, codePoint } from './names.js';
export { checkCoverage, type FontRole, type Uncovered } from './fonts.js';
export { ScopeIndex, type Scope } from './scope.js';
export { DuplicateTracker, qualificationHash, type QualificationKey } from './duplicates.js';
export { validateResult, RESULTS } from './result.js';
export { validateGender } from './gender.js';
