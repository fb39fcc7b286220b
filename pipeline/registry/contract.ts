/**
 * What every registry back end and every caller share: the Registry interface and its records, and the rules that
 * need no database (the person key, request and correction checks). The back ends (sql.ts over sqlite.ts and
 * postgres.ts) import this file, never index.ts, which only picks a back end: so there is no import circle.
 */
import { createHash } from 'node:crypto';
import { SkillcertError } from '../core/errors.js';
import type { Profile } from '../core/profile.js';
import { EMPTY_JOB, ID_TYPES, type IdTypeCode, type LevelCode } from '../core/record.js';
import type { AuditCheckOptions, AuditEntry, AuditFilter, AuditVerification } from './audit.js';
import { maskId } from '../core/privacy.js';
import type { StatusPurpose } from '../status/credential.js';

export type {
  AuditAction,
  AuditBreak,
  AuditBreakKind,
  AuditChange,
  AuditCheckOptions,
  AuditEntry,
  AuditFilter,
  AuditHead,
  AuditVerification,
} from './audit.js';
export { AUDIT_ACTIONS, canonicalEntry, ChainChecker, entryHash, GENESIS_HASH } from './audit.js';

/**
 * numbered: has its number, no PDF yet; issued: signed PDF recorded; revoked: withdrawn (第十八条), kept, never
 * deleted. Suspension (第二十条) is not a status of its own here but a mark on an issued certificate
 * (CertificateRecord.suspendedAt) that can be lifted: the certificate keeps its status and history underneath.
 */
export type CertificateStatus = 'numbered' | 'issued' | 'revoked';

/**
 * What a verifier is told (the page's query, `skillcert verify`): revoked wins, then suspended, then the latest of
 * reissued / corrected, else issued.
 */
export type VerifierStatus = 'issued' | 'corrected' | 'reissued' | 'revoked' | 'suspended';
export const VERIFIER_STATUSES: readonly VerifierStatus[] = ['issued', 'corrected', 'reissued', 'revoked', 'suspended'];

export type { StatusPurpose } from '../status/credential.js';
/** Every PDF a certificate was issued with is kept: the latest is current, earlier ones superseded (第十七条 corrections). */
export type DigestState = 'current' | 'superseded';

/** Who a certificate is for: 证件类型 + 证件号码. */
export interface PersonId {
  readonly idType: IdTypeCode;
  readonly idNo: string;
}

/** What a certificate certifies. `job` is '' (or ——) when the occupation has no 工种/职业方向. */
export interface Qualification {
  readonly occupation: string;
  readonly job: string;
  readonly level: LevelCode;
}

/** The part of a profile the registry numbers with: its id, positions 1-13 of the number, and its blank stock. */
export type RegistryIssuer = Pick<Profile, 'id' | 'category' | 'orgCode' | 'numbering' | 'stock'>;

export interface IssueRequest {
  readonly issuer: RegistryIssuer;
  readonly person: PersonId;
  readonly qualification: Qualification;
  /** 证书核发年份: the year of the issue date (positions 14-15). */
  readonly year: number;
  /** The batch (run) that asks; recorded on a new certificate, and reported back on an existing one. */
  readonly batchId: string;
  /** What is printed and filed for this certificate (第十二条 fields), kept as given. Must be JSON. */
  readonly printed: Readonly<Record<string, unknown>>;
  /** The run's clock (Context.now); the registry never reads the clock itself. */
  readonly at: Date;
  /** Who asks (Context.operator), for the audit entry (第二十条); defaults to OpenOptions.operator. */
  readonly operator?: string;
}

export interface CertificateRecord {
  /** 证书编号. */
  readonly number: string;
  /** Numbering rule id (beijing, competition). */
  readonly rule: string;
  /** Everything before the serial: one serial sequence per organisation, year and level. */
  readonly prefix: string;
  readonly serial: number;
  /** The blank-stock "No." printed top right (流水号), formatted with profile.stock.digits. */
  readonly stockSerial: string;
  readonly status: CertificateStatus;
  /** The profile (organisation or competition) that numbered it. */
  readonly profileId: string;
  /** The batch that numbered it. */
  readonly batchId: string;
  readonly year: number;
  /** sha256 of "idType|ID NUMBER": a lookup key, not a secret (ID numbers are few enough to enumerate). */
  readonly personKey: string;
  readonly idType: IdTypeCode;
  /** The full ID number, as the system of record holds it. Never log it: mask with maskId. */
  readonly idNo: string;
  readonly occupation: string;
  /** '' when the occupation has no job (printed as ——). */
  readonly job: string;
  readonly level: LevelCode;
  readonly printed: Readonly<Record<string, unknown>>;
  /** ISO 8601 times from the callers' clocks. */
  readonly numberedAt: string;
  readonly issuedAt?: string;
  readonly revokedAt?: string;
  readonly revokeReason?: string;
  /** 第二十条: queries of this certificate are suspended since then (lifted: the mark is gone, the audit keeps it). */
  readonly suspendedAt?: string;
  readonly suspendReason?: string;
  /** The organisation code (profile.orgCode) whose status lists carry this certificate. */
  readonly orgCode?: string;
  /**
   * The certificate's bit in its organisation's status lists (QR claim 8): allocated when it is numbered, unique
   * per organisation code, never reused. Undefined for certificates numbered before status lists existed.
   */
  readonly statusIndex?: number;
  /** The current PDF, once issued. */
  readonly file?: string;
  readonly sha256?: string;
  /** 第十七条: at least one correction was recorded (the original values are in corrections()). */
  readonly corrected?: true;
  /**
   * A correction or reissue was recorded and no PDF made after it yet: re-render, re-sign and record the PDF
   * (pendingRender() says what to print). Never set on a revoked certificate.
   */
  readonly pendingRender?: true;
}

export interface IssueResult {
  /** false: the person already held a live certificate for this qualification, which is returned unchanged. */
  readonly created: boolean;
  readonly certificate: CertificateRecord;
}

/** A signed PDF: its file name (as written to the batch folder) and the SHA-256 of its bytes, lower-case hex. */
export interface PdfDigest {
  readonly file: string;
  readonly sha256: string;
}

/** One certificate's first signed PDF, for markIssuedMany. */
export interface IssuedPdf {
  readonly number: string;
  readonly pdf: PdfDigest;
}

export interface DigestRecord {
  readonly number: string;
  /** 1 for the first PDF, then 2, 3 … for each re-rendering. */
  readonly version: number;
  readonly sha256: string;
  readonly file: string;
  readonly state: DigestState;
  readonly recordedAt: string;
  /** Why this PDF was made (a correction's reason); undefined for the first one. */
  readonly reason?: string;
  readonly supersededAt?: string;
  readonly supersededReason?: string;
}

/** What a verifier learns about a number (and, when given, a PDF digest). */
export interface StatusReport {
  readonly number: string;
  /** 'unknown': the registry has no certificate with this number. */
  readonly status: CertificateStatus | 'unknown';
  /** Only when a digest was asked about: is that PDF the current one, an earlier one, or not one of ours. */
  readonly digest?: DigestState | 'unknown';
  /** The current PDF's digest, to tell the verifier what it should have. */
  readonly currentSha256?: string;
  readonly revokedAt?: string;
  readonly revokeReason?: string;
  /** 第二十条: suspended since then, for this reason (until lifted). */
  readonly suspendedAt?: string;
  readonly suspendReason?: string;
  readonly orgCode?: string;
  readonly statusIndex?: number;
  /** 第十七条: the certificate data was corrected at least once (a PDF from before may be superseded). */
  readonly corrected?: true;
  /** A correction or reissue is recorded but its new PDF is not yet: the current PDF is about to be superseded. */
  readonly pendingRender?: true;
  /** 第二十二条: the latest reissue (补发 lost / 换发 damaged) and its date. */
  readonly lastReissue?: ReissueInfo;
}

/** Who makes a change, for its audit entry (第二十条). Defaults to OpenOptions.operator. */
export interface WriteOptions {
  readonly operator?: string;
}

export interface RecordDigestOptions extends WriteOptions {
  /**
   * PendingRender.revision of the job this PDF was rendered from: the corrections and reissues up to that audit
   * entry are applied by this PDF, any recorded later stay pending (someone corrected again while it rendered).
   * Without it every pending change counts as applied.
   */
  readonly through?: number;
}

/** 第十七条: the only fields a correction may change. Name and ID number never both, on one certificate, ever. */
export interface CorrectionChange {
  readonly name?: string;
  readonly idNo?: string;
  /** The photo is replaced; the new photo goes to the renderer, the registry only records that it changed. */
  readonly photo?: true;
}

export type CorrectedField = 'name' | 'idNo' | 'photo';

/**
 * One recorded correction (第十七条), with the values before and after, kept for the office forms (附件4) and
 * the trail (第二十条). Since a correction changes the name or the ID number, not both, both snapshots are whole.
 * The ID numbers are full (the forms need 原证件号码 as the national query system has it); mask before showing.
 */
export interface Correction {
  readonly number: string;
  /** 1, 2 … per certificate. */
  readonly seq: number;
  /** The audit entry that records it. */
  readonly auditSeq: number;
  readonly fields: readonly CorrectedField[];
  /** undefined when the printed data held no name (it is then set by a name correction). */
  readonly nameBefore?: string;
  readonly nameAfter?: string;
  readonly idType: IdTypeCode;
  readonly idNoBefore: string;
  readonly idNoAfter: string;
  /** The written reason (第十七条), with any full ID number in it masked. */
  readonly reason: string;
  readonly at: string;
  readonly operator: string;
  /** The PDF that was current when the correction was recorded (superseded by the re-rendered one). */
  readonly supersedesSha256?: string;
  /** The PDF that carries the correction; undefined while the re-rendering is pending. */
  readonly appliedSha256?: string;
  readonly appliedAt?: string;
}

export interface CorrectionWithCertificate extends Correction {
  /** The certificate as it is now (for the forms: occupation, level, batch, printed issue date and employer). */
  readonly certificate: CertificateRecord;
}

export interface CorrectionFilter {
  readonly number?: string;
  readonly profileId?: string;
  /** Recorded at or after. */
  readonly from?: Date;
  /** Recorded before (exclusive). */
  readonly to?: Date;
}

/** 第二十二条: 补发 for a lost certificate, 换发 for a damaged one. */
export type ReissueKind = 'lost' | 'damaged';

/** What the renderer needs to print 补发/换发日期 (same shape as render's Reissue). */
export interface ReissueInfo {
  readonly kind: ReissueKind;
  /** YYYY-MM-DD, Beijing time. */
  readonly date: string;
}

export interface ReissueRecord extends ReissueInfo {
  readonly number: string;
  readonly seq: number;
  readonly auditSeq: number;
  readonly reason?: string;
  readonly at: string;
  readonly operator: string;
  readonly supersedesSha256?: string;
  readonly appliedSha256?: string;
  readonly appliedAt?: string;
}

/**
 * What the caller needs to re-render a certificate after a correction or reissue, and then to record the PDF:
 *
 *   const job = await registry.correct(number, { name: '李钢' }, reason, ctx.now, ctx.operator);
 *   const pdf = await renderAndSign(job.printed, job.reissue);           // same number, new PDF
 *   await registry[job.next](number, pdf, ctx.now, job.reason, { operator: ctx.operator, through: job.revision });
 *
 * A crash between the steps leaves the correction recorded and the certificate marked pendingRender, its old PDF
 * still current; pendingRenders() lists every such certificate with the same job, so `skillcert correct --resume`
 * (or the next batch) finishes them. Nothing is lost and nothing is applied twice.
 */
export interface PendingRender {
  readonly number: string;
  /** The certificate now; `sha256` is the PDF that the new one supersedes. */
  readonly certificate: CertificateRecord;
  /** What to print: the stored printed data with the corrections applied (keys `name`, `idNo`). */
  readonly printed: Readonly<Record<string, unknown>>;
  /** 第二十二条: print 补发/换发日期 — the latest pending reissue. */
  readonly reissue?: ReissueInfo;
  /** True when a pending correction replaced the photo: render with the new photo. */
  readonly photoChanged: boolean;
  readonly corrections: readonly Correction[];
  readonly reissues: readonly ReissueRecord[];
  /** The audit seq of the latest pending change; pass as RecordDigestOptions.through. */
  readonly revision: number;
  /** A reason for recordDigest naming what the new PDF carries. */
  readonly reason: string;
  /** recordDigest for an issued certificate; markIssued when it never had a PDF (corrected while numbered). */
  readonly next: 'recordDigest' | 'markIssued';
}

/** An export to record (第二十条: 传输 must be traceable): a file that carried registry data out. */
export interface ExportRecord {
  /** The file name as handed over. */
  readonly file: string;
  readonly sha256: string;
  /** What it is and which period or batch, e.g. 职业技能等级数据修改信息表 2025-07-01..2025-07-31. */
  readonly what: string;
  /** The certificates it carries data of, when few (forms); omitted for whole-batch filings. */
  readonly numbers?: readonly string[];
}

/** The bits of one organisation's status list, read in one snapshot, for signing. */
export interface StatusListBits {
  readonly orgCode: string;
  readonly purpose: StatusPurpose;
  /** The indexes whose bit is set: revoked certificates, or suspended ones (not revoked). */
  readonly indexes: readonly number[];
  /** The highest index the organisation has allocated (the list must reach it); undefined when none yet. */
  readonly highest?: number;
  /**
   * The audit head seq the bits were read at. putStatusList keeps the list of the highest revision, so two
   * commands that publish at once never leave the older list in place.
   */
  readonly revision: number;
}

export interface StoredStatusList {
  readonly orgCode: string;
  readonly purpose: StatusPurpose;
  /** The compact JWS, as served at /status/<orgCode>-<purpose>.jwt. */
  readonly jws: string;
}

export interface Registry {
  /** Where the registry is, for messages: a file path, or a database URL with its credentials removed. */
  readonly target: string;

  /**
   * Numbers one certificate, exactly once, in one transaction: when the person already holds a live (not revoked)
   * certificate for the same occupation, job and level, from any organisation or batch, that certificate is
   * returned with created: false; otherwise the next serial of (organisation, year, level) and the next blank-stock
   * serial are taken and the certificate is recorded as `numbered`, together, so that a crash leaves either
   * everything or nothing. Errors: E_REGISTRY when the serials or the blank stock are used up, E_PROFILE when the
   * profile cannot make a valid number, E_USAGE for a malformed request.
   */
  issue(request: IssueRequest): Promise<IssueResult>;

  /**
   * issue() for several requests in ONE transaction, in the given order: all are numbered or, when any fails,
   * none is (the error is the first failure's). A batch numbers a group of rows with one commit instead of one each.
   */
  issueMany(requests: readonly IssueRequest[]): Promise<IssueResult[]>;

  /**
   * Records the signed PDF of a numbered certificate (status `issued`, digest version 1 current). Repeating it with
   * the same digest is a no-op. Corrections recorded while it was only numbered count as applied by this PDF.
   */
  markIssued(number: string, pdf: PdfDigest, at: Date, options?: RecordDigestOptions): Promise<CertificateRecord>;

  /**
   * markIssued() for several certificates in ONE transaction: all are recorded or, when any fails, none is. A batch
   * records its signed files in groups; a crash before a group commits only leaves those certificates numbered,
   * and the rerun renders them again.
   */
  markIssuedMany(issued: readonly IssuedPdf[], at: Date, options?: WriteOptions): Promise<CertificateRecord[]>;

  /**
   * Records a re-rendered PDF of an issued certificate (第十七条 correction, 第二十二条 reissue): it becomes current,
   * the previous one superseded, and the pending corrections and reissues (up to `options.through`) applied.
   */
  recordDigest(number: string, pdf: PdfDigest, at: Date, reason: string, options?: RecordDigestOptions): Promise<CertificateRecord>;

  /** Marks one PDF of a certificate superseded without a replacement (e.g. withdrawn pending correction). */
  supersedeDigest(number: string, sha256: string, at: Date, reason: string, options?: WriteOptions): Promise<void>;

  /**
   * 第十八条: revokes logically; the certificate and its PDFs stay on record. The person may then be numbered again.
   * A suspension in force ends with it (recorded in the same audit entry): revoked is final.
   */
  revoke(number: string, reason: string, at: Date, options?: WriteOptions): Promise<CertificateRecord>;

  /**
   * 第二十条 (the centre may suspend queries of a suspicious certificate): marks an issued certificate suspended,
   * with a written reason and an audit entry; verifiers then report it suspended until the suspension is lifted.
   * Refused for a revoked, a never-issued or an already suspended certificate.
   */
  suspend(number: string, reason: string, at: Date, options?: WriteOptions): Promise<CertificateRecord>;

  /** Lifts a suspension (with a written reason and an audit entry): the certificate is as before it. */
  liftSuspension(number: string, reason: string, at: Date, options?: WriteOptions): Promise<CertificateRecord>;

  /** The bits of an organisation's revocation or suspension list as they are now (sign them, then putStatusList). */
  statusListBits(orgCode: string, purpose: StatusPurpose): Promise<StatusListBits>;

  /**
   * Stores an organisation's signed status list (the JWS the service serves at /status/<orgCode>-<purpose>.jwt).
   * With `revision` (StatusListBits.revision) an older list never replaces a newer one.
   */
  putStatusList(orgCode: string, purpose: StatusPurpose, jws: string, revision?: number): Promise<void>;

  /** The signed status list stored for an organisation and purpose, or undefined when none was published yet. */
  statusList(orgCode: string, purpose: StatusPurpose): Promise<string | undefined>;

  /** Every stored status list, by organisation code and purpose (for a service or a static copy that serves them all). */
  statusLists(): Promise<StoredStatusList[]>;

  /**
   * 第十七条: corrects the name, the ID number and/or the photo of a certificate under its number. Refused (nothing
   * recorded) when: no field or an unchanged value is given; name and ID number are both given, or the other one of
   * the two was corrected before; the reason is empty; the number is unknown or revoked; a new ID number would give
   * the person two live certificates for one qualification. An ID correction moves the person key with it. The
   * correction, the new printed data and its audit entry are one transaction; the certificate is then
   * pendingRender until its new PDF is recorded (PendingRender.next).
   */
  correct(number: string, change: CorrectionChange, reason: string, at: Date, operator: string): Promise<PendingRender>;

  /**
   * 第二十二条: records the reissue of a lost (补发) or damaged (换发) issued certificate under its original number,
   * printed data unchanged, reissue date = `at` in Beijing time. The certificate is then pendingRender.
   */
  reissue(number: string, kind: ReissueKind, at: Date, operator: string, reason?: string): Promise<PendingRender>;

  /** The re-rendering a certificate waits for, or undefined when none (or when it is revoked). */
  pendingRender(number: string): Promise<PendingRender | undefined>;

  /** Every certificate waiting for a re-rendered PDF, by number: what `skillcert correct --resume` works through. */
  pendingRenders(): Promise<PendingRender[]>;

  /** Recorded corrections, oldest first, with each certificate as it is now (for the 附件4 forms). */
  corrections(filter?: CorrectionFilter): Promise<CorrectionWithCertificate[]>;

  /** Recorded reissues of a certificate, oldest first. */
  reissues(number: string): Promise<ReissueRecord[]>;

  /** 第二十条: records that a file carried registry data out (a form, a filing bundle). */
  recordExport(exported: ExportRecord, at: Date, operator: string): Promise<AuditEntry>;

  /** The audit entries, by seq; `from` inclusive, `to` exclusive. ID numbers in them are masked. */
  audit(filter?: AuditFilter): Promise<AuditEntry[]>;

  /**
   * Recomputes the hash chain and returns the first broken entry (edited, deleted, reordered, cut off at the end,
   * or not matching `options.anchor`), or ok with the head to record elsewhere.
   */
  verifyAudit(options?: AuditCheckOptions): Promise<AuditVerification>;

  getByNumber(number: string): Promise<CertificateRecord | undefined>;

  /** The person's live (not revoked) certificate for this qualification, if any. */
  findByPerson(person: PersonId, qualification: Qualification): Promise<CertificateRecord | undefined>;

  /** The certificates a batch numbered, by number. */
  listBatch(batchId: string): Promise<CertificateRecord[]>;

  /** Every PDF a certificate was issued with, oldest first. */
  digests(number: string): Promise<DigestRecord[]>;

  /** For verifiers: the certificate's status and, given a PDF digest, whether it is current, superseded or unknown. */
  status(number: string, sha256?: string): Promise<StatusReport>;

  close(): Promise<void>;
}

export interface OpenOptions {
  /** How long to wait for another writer before giving up (default 10 s). */
  readonly busyTimeoutMs?: number;
  /** Time recorded for schema migrations; defaults to the clock at open. */
  readonly now?: Date;
  /**
   * Who is working (Context.operator), recorded in the audit entry of every change unless a call names someone
   * else (第二十条). Defaults to "unknown", like makeContext.
   */
  readonly operator?: string;
}

/**
 * The URL as it may be shown: scheme, user, host, port and database; query parameters dropped (they may carry
 * credentials too). Refuses a URL that carries a password.
 */
export function registryUrlTarget(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SkillcertError('E_USAGE', 'the registry URL cannot be read; write it as postgres://user@host:5432/database', { field: 'registry' });
  }
  if (u.password || u.searchParams.has('password')) {
    throw new SkillcertError(
      'E_USAGE',
      `the registry URL for ${u.username || 'its user'}@${u.host} carries a password; remove it and give it in PGPASSWORD or ~/.pgpass instead: a password on a command line is visible to every user of the machine`,
      { field: 'registry' },
    );
  }
  return `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname}`;
}

/**
 * The one word a verifier is told for a registry status; undefined when there is no certificate to speak of
 * (unknown number, or numbered but never issued).
 */
export function verifierStatus(report: Pick<StatusReport, 'status' | 'suspendedAt' | 'corrected' | 'lastReissue'>): VerifierStatus | undefined {
  if (report.status === 'revoked') return 'revoked';
  if (report.status !== 'issued') return undefined;
  if (report.suspendedAt) return 'suspended';
  if (report.lastReissue) return 'reissued';
  return report.corrected ? 'corrected' : 'issued';
}

/**
 * The person key: sha256 of "idType|ID NUMBER" (trimmed, upper case, so 11010119900307451x and …X are one person).
 * It lets lookups and indexes avoid the plain number; it is not a privacy measure, so it is not logged either.
 */
export function personKey(person: PersonId): string {
  return createHash('sha256').update(`${person.idType}|${person.idNo.trim().toUpperCase()}`, 'utf8').digest('hex');
}

/** The qualification as the registry compares it: trimmed, and —— (第九条, printed for "no job") stored as ''. */
export function normaliseQualification(q: Qualification): Qualification {
  const job = q.job.trim();
  return { occupation: q.occupation.trim(), job: job === EMPTY_JOB ? '' : job, level: q.level };
}

const ID_TYPE_CODES = new Set<string>(ID_TYPES.map((t) => t.code));

/** Checks a request before any transaction; messages never carry the ID number (第十九条). */
export function checkIssueRequest(r: IssueRequest): void {
  const bad = (field: string, message: string): never => {
    throw new SkillcertError('E_USAGE', `cannot number a certificate: ${message}`, { field });
  };
  if (!r.batchId.trim()) bad('batchId', 'the batch id is empty; give each run an id');
  if (!ID_TYPE_CODES.has(r.person.idType)) bad('idType', `ID type ${String(r.person.idType)} is not a code of seed 002 (201, 227, 210 …)`);
  if (!r.person.idNo.trim()) bad('idNo', 'the ID number is empty');
  if (!r.qualification.occupation.trim()) bad('occupation', 'the occupation is empty');
  if (![1, 2, 3, 4, 5].includes(r.qualification.level)) bad('level', `level ${String(r.qualification.level)} is not 1-5 (表 6)`);
  if (!Number.isInteger(r.year)) bad('year', `year ${String(r.year)} is not a whole year`);
  if (Number.isNaN(r.at.getTime())) bad('at', 'the time of the request is not a valid date');
  if (typeof r.printed !== 'object' || r.printed === null || Array.isArray(r.printed)) bad('printed', 'the printed data must be an object');
}

/** SHA-256 as 64 lower-case hex digits; anything else is refused rather than stored. */
export function checkSha256(sha256: string): string {
  const s = sha256.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(s)) {
    throw new SkillcertError('E_USAGE', `expected a SHA-256 digest as 64 hex digits but received ${sha256.length} characters`, { field: 'sha256' });
  }
  return s;
}

/** The operator when nobody was named: the same word makeContext uses. */
export const UNKNOWN_OPERATOR = 'unknown';

/** 第二十条: every change names who made it. */
export function checkOperator(operator: string | undefined, fallback: string): string {
  const who = (operator ?? fallback).trim();
  if (!who) throw new SkillcertError('E_USAGE', 'the operator (who makes the change, 第二十条) is empty; pass Context.operator or set SKILLCERT_OPERATOR', { field: 'operator' });
  return who;
}

/**
 * The calendar date in Beijing (UTC+8; China has kept no daylight saving since 1991) of an instant, YYYY-MM-DD:
 * the date printed as 补发/换发日期 and filled in on the forms.
 */
export function beijingDate(at: Date): string {
  if (Number.isNaN(at.getTime())) throw new SkillcertError('E_USAGE', 'the time given is not a valid date', { field: 'at' });
  return new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
}

/** A correction as checked before any transaction: trimmed values, the reason required. */
export interface CheckedCorrection {
  readonly name?: string;
  readonly idNo?: string;
  readonly photo: boolean;
  readonly reason: string;
  readonly operator: string;
}

const RULE_17 = '第十七条';
// Control characters (C0, DEL, C1) never belong in a printed name.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * 第十七条, the parts that need no registry: only name, ID number, photo; not name and ID number together; a
 * written reason. Messages never carry the ID number (第十九条).
 */
export function checkCorrection(number: string, change: CorrectionChange, reason: string, at: Date, operator: string): CheckedCorrection {
  const refuse = (field: string, message: string): never => {
    throw new SkillcertError('E_USAGE', `cannot correct certificate ${number}: ${message}`, { number, field, rule: RULE_17 });
  };
  const allowed = new Set(['name', 'idNo', 'photo']);
  const other = Object.keys(change).filter((k) => !allowed.has(k));
  if (other.length) refuse(other[0] as string, `${other.join(', ')} cannot be corrected; ${RULE_17} allows only the name, the ID number and the photo`);
  const name = change.name?.trim();
  const idNo = change.idNo?.trim().toUpperCase();
  const photo = change.photo === true;
  if (change.photo !== undefined && change.photo !== true) refuse('photo', 'photo must be true (the new photo goes to the renderer)');
  if (name === undefined && idNo === undefined && !photo) refuse('change', `nothing to correct; give the new name, the new ID number or photo (${RULE_17})`);
  if (name !== undefined && idNo !== undefined) {
    refuse('change', `${RULE_17}: the name and the ID number can never both be corrected on one certificate; correct one of them`);
  }
  if (name !== undefined && (!name || CONTROL.test(name))) refuse('name', 'the new name is empty or holds control characters; give the name as printed');
  if (idNo !== undefined && !/^[0-9A-Z]{5,32}$/.test(idNo)) {
    refuse('idNo', `the new ID number (${idNo ? maskId(idNo) : 'empty'}) must be 5-32 letters and digits with no spaces or punctuation`);
  }
  const why = reason.trim();
  if (!why) refuse('reason', `${RULE_17} requires a written reason for every correction; give it with the request`);
  if (Number.isNaN(at.getTime())) refuse('at', 'the time of the correction is not a valid date');
  const who = checkOperator(operator, '');
  return { ...(name !== undefined && { name }), ...(idNo !== undefined && { idNo }), photo, reason: why, operator: who };
}
