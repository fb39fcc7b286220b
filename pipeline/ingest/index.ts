/** Ingest stage: roster file → header info + raw rows. */
export { openRoster, rosterFormat, type OpenRoster, type OpenRosterOptions, type RosterFormat } from './roster.js';
export { CsvParser } from './csv.js';
export { matchHeader, headerKey, parseHeaderBlock, columnLetter } from './headers.js';
export { FIELDS, FIELD_LABELS, FORMULA_WITHOUT_RESULT, fieldLabel, type Field, type RawCell, type RawRow, type HeaderInfo, type ColumnInfo, type CsvEncoding } from './types.js';
