/** Writes the batch's PDF forms into the batch folder (SPEC §7 receipts; seed 000 for competitions). */
import { join } from 'node:path';
import type { BatchSummary } from '../core/summary.js';
import type { FontSet } from '../fonts/index.js';
import type { Profile } from '../core/profile.js';
import { writeAtomic } from '../core/files.js';
import { FILES } from './model.js';
import { batchReceiptPdf } from './pdf/batch-receipt.js';
import { applicationFormPdf, filingReceiptPdf } from './pdf/competition.js';
import { filingMaterialPdf, type FilingMaterialOptions, type SampleCertificate } from './pdf/filing-material.js';
import { signoffPdf } from './pdf/signoff.js';

export interface ReceiptInput {
  readonly summary: BatchSummary;
  readonly profile: Profile;
  readonly fonts: FontSet;
  readonly dir: string;
  readonly now: Date;
}

type Maker = (s: BatchSummary, p: Profile, f: FontSet, now: Date) => Promise<Uint8Array>;

const writer = (rel: string, make: Maker) => async (r: ReceiptInput): Promise<string> => {
  await writeAtomic(join(r.dir, rel), await make(r.summary, r.profile, r.fonts, r.now));
  return rel;
};

export const writeBatchReceipt = writer(FILES.batchReceipt, batchReceiptPdf);
export const writeSignoffSheet = writer(FILES.signoff, signoffPdf);
export const writeFilingReceipt = writer(FILES.filingReceipt, filingReceiptPdf);
export const writeApplicationForm = writer(FILES.applicationForm, applicationFormPdf);

export async function writeFilingMaterial(r: Omit<ReceiptInput, 'summary'>, samples: readonly SampleCertificate[], opts: FilingMaterialOptions = {}): Promise<string> {
  await writeAtomic(join(r.dir, FILES.filingMaterial), await filingMaterialPdf(r.profile, r.fonts, r.now, samples, opts));
  return FILES.filingMaterial;
}
