/**
 * The certificate registry (SPEC §4, §8, §9): the system of record that hands out certificate numbers exactly
 * once and remembers every certificate, its status and every PDF digest it was issued with.
 *
 * Callers see only this async interface, so the embedded SQLite registry (one machine, sqlite.ts) and a
 * PostgreSQL one (several machines, postgres.ts, later) are interchangeable: nothing here names SQLite.
 *
 * Personal data: the registry stores the full ID number (it is the system of record) and hands it back in
 * CertificateRecord.idNo. It never logs it and never puts it in an error message; callers that log or report a
 * record mask it with maskId (第十九条).
 */
import { createHash } from 'node:crypto';
import { SkillcertError } from '../errors.js';
import type { Profile } from '../profile.js';
import { EMPTY_JOB, ID_TYPES, type IdTypeCode, type LevelCode } from '../record.js';

/** numbered: has its number, no PDF yet; issued: signed PDF recorded; revoked: withdrawn (第十八条), kept, never deleted. */
export type CertificateStatus = 'numbered' | 'issued' | 'revoked';
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
  /** The current PDF, once issued. */
  readonly file?: string;
  readonly sha256?: string;
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

  /** Records the signed PDF of a numbered certificate (status `issued`, digest version 1 current). Repeating it with the same digest is a no-op. */
  markIssued(number: string, pdf: PdfDigest, at: Date): Promise<CertificateRecord>;

  /** Records a re-rendered PDF of an issued certificate (第十七条 correction, 第二十二条 reissue): it becomes current, the previous one superseded. */
  recordDigest(number: string, pdf: PdfDigest, at: Date, reason: string): Promise<CertificateRecord>;

  /** Marks one PDF of a certificate superseded without a replacement (e.g. withdrawn pending correction). */
  supersedeDigest(number: string, sha256: string, at: Date, reason: string): Promise<void>;

  /** 第十八条: revokes logically; the certificate and its PDFs stay on record. The person may then be numbered again. */
  revoke(number: string, reason: string, at: Date): Promise<CertificateRecord>;

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
}

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/**
 * Opens the registry at `target`: a SQLite file path (created with its schema when missing) or, later, a
 * PostgreSQL URL (SPEC §9).
 */
export async function openRegistry(target: string, options: OpenOptions = {}): Promise<Registry> {
  if (!target.trim()) throw new SkillcertError('E_USAGE', 'no registry given: pass a SQLite file path (e.g. output/registry.sqlite)', { field: 'registry' });
  if (POSTGRES_URL.test(target)) {
    // The URL is not echoed: it may carry a password.
    throw new SkillcertError('E_REGISTRY', 'PostgreSQL registries are not implemented yet; use a SQLite file path for the registry for now', { field: 'registry' });
  }
  const { openSqliteRegistry } = await import('./sqlite.js');
  return openSqliteRegistry(target, options);
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
