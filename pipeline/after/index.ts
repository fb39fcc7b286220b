/**
 * After issue (SPEC §8): corrections (第十七条) and reissues (第二十二条) re-rendered under the same number, and the
 * office forms of 附件4 made from the recorded corrections. The rules themselves live in the registry, which records
 * each change with its audit entry (第二十条); this folder holds what is built on top of it.
 */
export { correctAndRerender, finishPending, reissueAndRerender, resumePending, type RenderAndSign, type ResumeReport } from './rerender.js';
export {
  applicationRows,
  dataModificationRows,
  issueDateOf,
  organisations,
  writeCorrectionApplication,
  writeCorrectionForms,
  writeDataModificationTable,
  type CorrectionFormsOptions,
  type CorrectionFormsResult,
  type FormsProfile,
  type OfficeDetails,
} from './forms.js';
export { maskIdOnForm, maskName } from '../core/privacy.js';
export { safeCell } from '../core/cells.js';
