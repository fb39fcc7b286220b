/**
 * What a batch run knows at the end, the input of the bundle stage (tables, receipts, report, manifest).
 * Everything in the outputs is produced from these records, never by hand.
 */
import type { Problem } from './errors.js';
import type { Result, Signed } from './record.js';

/** Which font files served a font role (SPEC §5), for the batch report; a fallback is flagged. */
export interface RoleReport {
  readonly role: 'kai' | 'fangsong' | 'times';
  readonly reference: string;
  readonly faces: readonly { file: string; postscriptName: string; fallback: boolean }[];
  /** true when the first face of the chain is not a licensed reference font. */
  readonly fallback: boolean;
}

export interface IssuedCertificate extends Signed {
  /** created: numbered in this batch; existing: the registry already had it (a rerun), kept as it was. */
  readonly origin: 'created' | 'existing';
}

/** A row counted but not issued: 不合格/缺考/舞弊 (seed 004), or a person already certified for this qualification. */
export interface SkippedRow {
  readonly rowNo: number;
  readonly reason: 'result' | 'duplicate-in-roster' | 'already-certified';
  readonly result?: Result;
  readonly occupation?: string;
  readonly level?: number;
  /** For already-certified: the existing number. */
  readonly number?: string;
  readonly message: string;
}

export interface DeadlineWarning {
  readonly kind: 'data-upload' | 'data-refused' | 'competition-year';
  /** YYYY-MM-DD */
  readonly due: string;
  readonly message: string;
}

export interface BatchTimings { readonly [stage: string]: number }

export interface BatchSummary {
  readonly batchId: string;
  readonly profileId: string;
  readonly roster: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly rowsRead: number;
  readonly issued: readonly IssuedCertificate[];
  readonly rejected: readonly Problem[];
  readonly skipped: readonly SkippedRow[];
  readonly fonts: readonly RoleReport[];
  readonly warnings: readonly DeadlineWarning[];
  readonly timings: BatchTimings;
  /** Roster header block (e.g. the Sichuan 申报汇总表's 大赛名称, 主办单位), when the roster had one. */
  readonly rosterMeta?: Readonly<Record<string, string>>;
}
