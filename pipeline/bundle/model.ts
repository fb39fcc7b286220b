/**
 * What the bundle's tables and receipts read from a batch: names, labels, groupings, file names.
 * Kept in one place so that the upload file, the rosters and the receipts can never disagree.
 */
import { createHash } from 'node:crypto';
import { EMPTY_JOB, idTypeInfo, levelLabel, type LevelCode } from '../core/record.js';
import type { Profile } from '../core/profile.js';
import type { BatchSummary, IssuedCertificate } from '../core/summary.js';

/** Paths inside the batch folder (forward slashes: they are also the archive's entry names). */
/** The batch folder's certificates, one PDF each, named by number. */
export const CERTIFICATES_DIR = 'certificates';

export const FILES = {
  certificateData: 'tables/certificate-data.xlsx',
  counts: 'tables/summary-counts.xlsx',
  roster: 'tables/roster.xlsx',
  competitionSummary: 'tables/competition-summary.xlsx',
  sichuanDeclaration: 'tables/sichuan-declaration.xlsx',
  filingReceipt: 'receipts/filing-receipt.pdf',
  applicationForm: 'receipts/application-form.pdf',
  signoff: 'receipts/signoff-sheet.pdf',
  batchReceipt: 'receipts/batch-receipt.pdf',
  filingMaterial: 'filing-material.pdf',
  reportJson: 'report.json',
  reportTxt: 'report.txt',
  manifest: 'manifest.json',
  signature: 'manifest.json.jws',
} as const;

export type Jurisdiction = 'beijing' | 'sichuan' | 'other';

/** Which notice's forms apply: Beijing (seed 000/002) or Sichuan (seed 001), from the numbering's province. */
export function jurisdiction(p: Pick<Profile, 'numbering'>): Jurisdiction {
  if (p.numbering.rule === 'beijing') return 'beijing';
  if (p.numbering.province === '11') return 'beijing';
  if (p.numbering.province === '51') return 'sichuan';
  return 'other';
}

export const isCompetition = (p: Profile): boolean => p.kind === 'competition';

/**
 * 发证机构名称 (第十二条). Style two carries two organisations and the issuing one is the branch
 * (第十条（二）); otherwise the evaluation organisation (or, for a competition, its committee, seed 000 三)
 * issues in its own name.
 */
export function issuerName(p: Profile): string {
  return p.styleId === 'style-two' && p.branch ? p.branch.name.zh : p.name.zh;
}

/** 机构备案号: positions 1-13 of the certificate number are the part the bureau assigns (编码规则 一). */
export function filingNumber(p: Profile): string {
  const n = p.numbering;
  return n.rule === 'beijing' ? `${p.category}${p.orgCode}11${n.district}${n.serial}` : `${p.category}${p.orgCode}${n.province}${n.region}${n.issuer}`;
}

export const levelText = (code: number): string => levelLabel(code as LevelCode);
export const idTypeName = (code: string): string => idTypeInfo(code as Parameters<typeof idTypeInfo>[0]).name;
/** 第九条: an empty job is printed as —— on paper; the upload file leaves it empty (第十二条 field is optional content). */
export const jobPrinted = (job: string): string => (job.trim() ? job : EMPTY_JOB);

/** 申报职业（工种） as the Sichuan form writes it: 车工（数控车工）. */
export function occupationWithJob(occupation: string, job: string): string {
  return job.trim() ? `${occupation}（${job}）` : occupation;
}

/** Issued certificates in certificate-number order: the order of every roster and receipt. */
export function issuedInOrder(s: BatchSummary): IssuedCertificate[] {
  return [...s.issued].sort((a, b) => (a.number < b.number ? -1 : a.number > b.number ? 1 : 0));
}

/** Distinct rejected rows (one row can fail several rules), in row order. */
export function rejectedRows(s: BatchSummary): number[] {
  return [...new Set(s.rejected.map((p) => p.rowNo))].sort((a, b) => a - b);
}

export interface Group {
  readonly occupation: string;
  readonly job: string;
  readonly level: number;
  readonly count: number;
}

/** Issued certificates grouped by occupation, job and level (the 取证汇总表 and the application form). */
export function groupIssued(items: readonly IssuedCertificate[]): Group[] {
  const map = new Map<string, { occupation: string; job: string; level: number; count: number }>();
  for (const c of items) {
    const key = JSON.stringify([c.occupation, c.job, c.level]);
    const g = map.get(key) ?? { occupation: c.occupation, job: c.job, level: c.level, count: 0 };
    g.count++;
    map.set(key, g);
  }
  return [...map.values()].sort((a, b) => a.occupation.localeCompare(b.occupation, 'zh') || a.job.localeCompare(b.job, 'zh') || a.level - b.level);
}

/** A calendar day in China (Asia/Shanghai), YYYY-MM-DD: the date printed on forms made at `now`. */
export function chinaDate(now: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** 2026-03-05 → 2026年3月5日 */
export function zhDate(iso: string): string {
  const [y, m, d] = iso.split('-').map(Number);
  return `${y}年${m}月${d}日`;
}

/** Issue dates of the batch, earliest first. */
export function issueDates(s: BatchSummary): string[] {
  return [...new Set(s.issued.map((c) => c.issueDate))].sort();
}

/** A date span for forms: one date, or "first 至 last". */
export function dateSpan(dates: readonly string[]): string {
  if (dates.length === 0) return '';
  return dates.length === 1 ? zhDate(dates[0]!) : `${zhDate(dates[0]!)} 至 ${zhDate(dates[dates.length - 1]!)}`;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The filing receipt's number (备案回执 编号), derived from the batch id alone so that a rerun of the
 * same batch prints the same number: JSBA-<year>-<10 Crockford base-32 characters of SHA-256(batch id)>.
 */
export function receiptNumber(batchId: string, year: number): string {
  const digest = createHash('sha256').update(`skillcert/filing-receipt/${batchId}`).digest();
  let bits = 0n;
  for (const b of digest.subarray(0, 7)) bits = (bits << 8n) | BigInt(b);
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[Number(bits & 31n)]! + out;
    bits >>= 5n;
  }
  return `JSBA-${year}-${out}`;
}

/** The competition's year: the profile's, else the year of the first issue date, else the run's. */
export function competitionYear(p: Profile, s: BatchSummary, now: Date): number {
  return p.competition?.year ?? Number((issueDates(s)[0] ?? chinaDate(now)).slice(0, 4));
}
