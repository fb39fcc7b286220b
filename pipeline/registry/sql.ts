/**
 * The registry's rules, once, over SQL: numbering exactly once, recording PDFs, corrections, reissues, revocation
 * and the audit trail (index.ts documents each call). The embedded SQLite registry (sqlite.ts, one machine) and the
 * PostgreSQL one (postgres.ts, several machines sharing a database, SPEC §9) differ only in their SqlDriver: how a
 * statement runs, how a write transaction takes the one write lock, how the schema is made, which errors mean
 * "locked too long". Everything a certificate's life depends on is here, in the same statements for both.
 *
 * - Every write is one transaction that holds the registry's write lock before it reads (SQLite BEGIN IMMEDIATE,
 *   PostgreSQL a transaction-level advisory lock), so two runs, on one machine or on several, cannot both read
 *   "last serial = 41" and both hand out 42; the loser waits and then reads 42.
 * - Every change appends its audit entry (#append) inside that same transaction: the change and its entry commit
 *   together or not at all, and the entry's seq and prev_hash are read under the write lock, so the chain never forks.
 * - Calls on one registry object run one at a time (#exclusive): a transaction's statements never interleave with
 *   another call's on the same connection.
 * - Statements are written once with $1, $2 … placeholders and SQL both databases read (IS DISTINCT FROM, CAST for
 *   the type of an optional parameter, qualified columns in ON CONFLICT … DO UPDATE).
 */
import { SkillcertError } from '../core/errors.js';
import { ruleFor } from '../number/index.js';
import type { IdTypeCode, LevelCode } from '../core/record.js';
import {
  AUDIT_ACTIONS,
  ChainChecker,
  checkAnchor,
  entryHash,
  GENESIS_HASH,
  type AuditAction,
  type AuditChange,
  type AuditCheckOptions,
  type AuditDraft,
  type AuditEntry,
  type AuditFilter,
  type AuditVerification,
} from './audit.js';
import {
  beijingDate,
  checkCorrection,
  checkIssueRequest,
  checkOperator,
  checkSha256,
  normaliseQualification,
  personKey,
  UNKNOWN_OPERATOR,
  type CertificateRecord,
  type CertificateStatus,
  type CorrectedField,
  type Correction,
  type CorrectionChange,
  type CorrectionFilter,
  type CorrectionWithCertificate,
  type DigestRecord,
  type DigestState,
  type ExportRecord,
  type IssueRequest,
  type IssueResult,
  type IssuedPdf,
  type PdfDigest,
  type PendingRender,
  type PersonId,
  type Qualification,
  type RecordDigestOptions,
  type Registry,
  type RegistryIssuer,
  type ReissueKind,
  type ReissueRecord,
  type StatusListBits,
  type StatusPurpose,
  type StatusReport,
  type StoredStatusList,
  type WriteOptions,
} from './contract.js';
import { STATUS_PURPOSES } from '../status/credential.js';
import { hasValidCheckDigit } from '../core/gb11643.js';
import { maskId, scrubIds } from '../core/privacy.js';

export type SqlValue = string | number | null;

/** Statements inside one transaction (or, for SqlDriver.read, one statement on its own). */
export interface SqlTx {
  get<R>(sql: string, params?: readonly SqlValue[]): Promise<R | undefined>;
  all<R>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
  run(sql: string, params?: readonly SqlValue[]): Promise<void>;
}

/** What a database gives the shared registry. The registry calls it one call at a time. */
export interface SqlDriver {
  /** Where the registry is, for messages: a file path, or a URL without its password. */
  readonly target: string;
  /**
   * A statement returning `seq`, the highest audit seq ever written (SQLite's sqlite_sequence, a counter table in
   * PostgreSQL), or no row: entries cut off the end leave it above the last entry, and verifyAudit says so.
   */
  readonly auditWrittenSql: string;
  /**
   * Statements that open a write transaction holding the registry's write lock from its start (SQLite's BEGIN
   * IMMEDIATE; PostgreSQL's BEGIN and its advisory lock).
   */
  readonly beginWrite: readonly [string, ...string[]];
  /** The statement that opens a transaction whose reads see one consistent state. */
  readonly beginSnapshot: string;
  /** Statements, on their own or inside a transaction opened with the above (COMMIT and ROLLBACK close it). */
  readonly tx: SqlTx;
  /**
   * A database error as the registry's error: "locked by another run for more than …" for a lock wait that timed
   * out, else what failed. Never with values from the statement (they may be ID numbers).
   */
  describe(what: string, err: unknown): SkillcertError;
  close(): Promise<void>;
}

export interface SqlRegistryOptions {
  /** Who is working, recorded in every change's audit entry unless a call names someone else. */
  readonly operator?: string;
  /**
   * Fault injection for the exactly-once tests: called inside the numbering transaction after the serial was
   * taken and before the certificate is recorded, where a crash must leave no trace.
   */
  readonly faults?: { readonly afterSerial?: (number: string) => void };
}

interface CertRow {
  number: string;
  rule: string;
  prefix: string;
  serial: number;
  stock_serial: string;
  status: CertificateStatus;
  profile_id: string;
  batch_id: string;
  year: number;
  person_key: string;
  id_type: string;
  id_no: string;
  occupation: string;
  job: string;
  level: number;
  printed: string;
  numbered_at: string;
  issued_at: string | null;
  revoked_at: string | null;
  revoke_reason: string | null;
  org_code: string | null;
  /** BIGINT-free INTEGER in both. */
  status_index: number | null;
  suspended_at: string | null;
  suspend_reason: string | null;
  file: string | null;
  sha256: string | null;
  /** 0/1 from SQLite, a boolean from PostgreSQL. */
  corrected: number | boolean;
  pending_render: number | boolean;
}

interface AuditRow {
  seq: number;
  at: string;
  operator: string;
  action: string;
  number: string | null;
  before_sha256: string | null;
  after_sha256: string | null;
  changes: string;
  reason: string | null;
  prev_hash: string;
  hash: string;
}

interface CorrectionRow {
  number: string;
  seq: number;
  audit_seq: number;
  name_changed: 0 | 1;
  id_changed: 0 | 1;
  photo_changed: 0 | 1;
  name_before: string | null;
  name_after: string | null;
  id_type: string;
  id_no_before: string;
  id_no_after: string;
  reason: string;
  at: string;
  operator: string;
  supersedes_sha256: string | null;
  applied_sha256: string | null;
  applied_at: string | null;
}

interface ReissueRow {
  number: string;
  seq: number;
  audit_seq: number;
  kind: ReissueKind;
  reissue_date: string;
  reason: string | null;
  at: string;
  operator: string;
  supersedes_sha256: string | null;
  applied_sha256: string | null;
  applied_at: string | null;
}

interface DigestRow {
  number: string;
  version: number;
  sha256: string;
  file: string;
  state: DigestState;
  recorded_at: string;
  reason: string | null;
  superseded_at: string | null;
  superseded_reason: string | null;
}

const CERT_SELECT = `
  SELECT c.*, d.file AS file, d.sha256 AS sha256,
         EXISTS (SELECT 1 FROM corrections x WHERE x.number = c.number) AS corrected,
         (c.status <> 'revoked' AND (EXISTS (SELECT 1 FROM corrections x WHERE x.number = c.number AND x.applied_sha256 IS NULL)
                                  OR EXISTS (SELECT 1 FROM reissues r WHERE r.number = c.number AND r.applied_sha256 IS NULL))) AS pending_render
    FROM certificates c
    LEFT JOIN certificate_digests d ON d.number = c.number AND d.state = 'current'`;

function toRecord(r: CertRow): CertificateRecord {
  return {
    number: r.number,
    rule: r.rule,
    prefix: r.prefix,
    serial: r.serial,
    stockSerial: r.stock_serial,
    status: r.status,
    profileId: r.profile_id,
    batchId: r.batch_id,
    year: r.year,
    personKey: r.person_key,
    idType: r.id_type as IdTypeCode,
    idNo: r.id_no,
    occupation: r.occupation,
    job: r.job,
    level: r.level as LevelCode,
    printed: JSON.parse(r.printed) as Record<string, unknown>,
    numberedAt: r.numbered_at,
    ...(r.issued_at !== null && { issuedAt: r.issued_at }),
    ...(r.revoked_at !== null && { revokedAt: r.revoked_at }),
    ...(r.revoke_reason !== null && { revokeReason: r.revoke_reason }),
    ...(r.suspended_at !== null && { suspendedAt: r.suspended_at }),
    ...(r.suspend_reason !== null && { suspendReason: r.suspend_reason }),
    ...(r.org_code !== null && { orgCode: r.org_code }),
    ...(r.status_index !== null && { statusIndex: Number(r.status_index) }),
    ...(r.file !== null && { file: r.file }),
    ...(r.sha256 !== null && { sha256: r.sha256 }),
    ...(r.corrected ? { corrected: true as const } : {}),
    ...(r.pending_render ? { pendingRender: true as const } : {}),
  };
}

function fieldsOf(r: CorrectionRow): CorrectedField[] {
  return [...(r.name_changed ? ['name' as const] : []), ...(r.id_changed ? ['idNo' as const] : []), ...(r.photo_changed ? ['photo' as const] : [])];
}

function toCorrection(r: CorrectionRow): Correction {
  return {
    number: r.number,
    seq: r.seq,
    auditSeq: r.audit_seq,
    fields: fieldsOf(r),
    ...(r.name_before !== null && { nameBefore: r.name_before }),
    ...(r.name_after !== null && { nameAfter: r.name_after }),
    idType: r.id_type as IdTypeCode,
    idNoBefore: r.id_no_before,
    idNoAfter: r.id_no_after,
    reason: r.reason,
    at: r.at,
    operator: r.operator,
    ...(r.supersedes_sha256 !== null && { supersedesSha256: r.supersedes_sha256 }),
    ...(r.applied_sha256 !== null && { appliedSha256: r.applied_sha256 }),
    ...(r.applied_at !== null && { appliedAt: r.applied_at }),
  };
}

function toReissue(r: ReissueRow): ReissueRecord {
  return {
    number: r.number,
    seq: r.seq,
    auditSeq: r.audit_seq,
    kind: r.kind,
    date: r.reissue_date,
    ...(r.reason !== null && { reason: r.reason }),
    at: r.at,
    operator: r.operator,
    ...(r.supersedes_sha256 !== null && { supersedesSha256: r.supersedes_sha256 }),
    ...(r.applied_sha256 !== null && { appliedSha256: r.applied_sha256 }),
    ...(r.applied_at !== null && { appliedAt: r.applied_at }),
  };
}

const ACTIONS = new Set<string>(AUDIT_ACTIONS);

/** A stored audit row as an entry, or why it cannot be one (a row edited into nonsense is reported, not thrown). */
function decodeAudit(r: AuditRow): AuditEntry | { seq: number; malformed: string } {
  if (!ACTIONS.has(r.action)) return { seq: r.seq, malformed: `unknown action "${r.action}"` };
  let changes: unknown;
  try {
    changes = JSON.parse(r.changes);
  } catch {
    return { seq: r.seq, malformed: 'its changes are not JSON' };
  }
  const ok = Array.isArray(changes) && changes.every((c) => {
    const x = c as Record<string, unknown>;
    return typeof c === 'object' && c !== null && typeof x.field === 'string' && (x.before === null || typeof x.before === 'string') && (x.after === null || typeof x.after === 'string');
  });
  if (!ok) return { seq: r.seq, malformed: 'its changes are not a list of {field, before, after}' };
  return {
    seq: r.seq,
    at: r.at,
    operator: r.operator,
    action: r.action as AuditAction,
    number: r.number,
    beforeSha256: r.before_sha256,
    afterSha256: r.after_sha256,
    changes: (changes as AuditChange[]).map((c) => ({ field: c.field, before: c.before, after: c.after })),
    reason: r.reason,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

const REISSUE_ZH: Record<ReissueKind, string> = { lost: '补发', damaged: '换发' };

function toDigest(r: DigestRow): DigestRecord {
  return {
    number: r.number,
    version: r.version,
    sha256: r.sha256,
    file: r.file,
    state: r.state,
    recordedAt: r.recorded_at,
    ...(r.reason !== null && { reason: r.reason }),
    ...(r.superseded_at !== null && { supersededAt: r.superseded_at }),
    ...(r.superseded_reason !== null && { supersededReason: r.superseded_reason }),
  };
}

/** The registry's statements, one text for both databases. */
const Q = {
  byNumber: `${CERT_SELECT} WHERE c.number = $1`,
  live: `${CERT_SELECT} WHERE c.person_key = $1 AND c.occupation = $2 AND c.job = $3 AND c.level = $4 AND c.status <> 'revoked'`,
  batch: `${CERT_SELECT} WHERE c.batch_id = $1 ORDER BY c.prefix, c.serial`,
  nextSerial: `INSERT INTO serial_counters (prefix, rule, last_serial) VALUES ($1, $2, 1)
               ON CONFLICT (prefix) DO UPDATE SET last_serial = serial_counters.last_serial + 1
               RETURNING last_serial`,
  lastStock: 'SELECT last_stock FROM stock_counters WHERE profile_id = $1',
  setStock: `INSERT INTO stock_counters (profile_id, last_stock) VALUES ($1, $2)
             ON CONFLICT (profile_id) DO UPDATE SET last_stock = excluded.last_stock`,
  insert: `INSERT INTO certificates (number, rule, prefix, serial, stock_serial, status, profile_id, batch_id, year,
                                     person_key, id_type, id_no, occupation, job, level, printed, numbered_at, org_code, status_index)
           VALUES ($1, $2, $3, $4, $5, 'numbered', $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
  // Index 0 first; one counter per organisation code, like the serials: taken and recorded in one transaction.
  nextStatusIndex: `INSERT INTO status_index_counters (org_code, last_index) VALUES ($1, 0)
                    ON CONFLICT (org_code) DO UPDATE SET last_index = status_index_counters.last_index + 1
                    RETURNING last_index`,
  lastStatusIndex: 'SELECT last_index FROM status_index_counters WHERE org_code = $1',
  revokedIndexes: `SELECT status_index FROM certificates WHERE org_code = $1 AND status = 'revoked' AND status_index IS NOT NULL ORDER BY status_index`,
  suspendedIndexes: `SELECT status_index FROM certificates WHERE org_code = $1 AND suspended_at IS NOT NULL AND status <> 'revoked' AND status_index IS NOT NULL ORDER BY status_index`,
  suspend: 'UPDATE certificates SET suspended_at = $1, suspend_reason = $2 WHERE number = $3',
  putStatusList: `INSERT INTO status_lists (org_code, purpose, jws, revision) VALUES ($1, $2, $3, $4)
                  ON CONFLICT (org_code, purpose) DO UPDATE SET jws = excluded.jws, revision = excluded.revision
                  WHERE status_lists.revision <= excluded.revision`,
  statusList: 'SELECT jws FROM status_lists WHERE org_code = $1 AND purpose = $2',
  allStatusLists: 'SELECT org_code, purpose, jws FROM status_lists ORDER BY org_code, purpose',
  setIssued: `UPDATE certificates SET status = 'issued', issued_at = $1 WHERE number = $2 AND status = 'numbered'`,
  // Revoked is final: a suspension in force ends with it (the revoke entry records that).
  revoke: `UPDATE certificates SET status = 'revoked', revoked_at = $1, revoke_reason = $2, suspended_at = NULL, suspend_reason = NULL WHERE number = $3`,
  digests: 'SELECT * FROM certificate_digests WHERE number = $1 ORDER BY version',
  digest: 'SELECT * FROM certificate_digests WHERE number = $1 AND sha256 = $2',
  nextVersion: 'SELECT coalesce(max(version), 0) + 1 AS v FROM certificate_digests WHERE number = $1',
  addDigest: `INSERT INTO certificate_digests (number, version, sha256, file, state, recorded_at, reason) VALUES ($1, $2, $3, $4, 'current', $5, $6)`,
  supersede: `UPDATE certificate_digests SET state = 'superseded', superseded_at = $1, superseded_reason = $2 WHERE number = $3 AND sha256 = $4 AND state = 'current'`,
  supersedeCurrent: `UPDATE certificate_digests SET state = 'superseded', superseded_at = $1, superseded_reason = $2 WHERE number = $3 AND state = 'current'`,

  auditLast: 'SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1',
  auditInsert: `INSERT INTO audit (seq, at, operator, action, number, before_sha256, after_sha256, changes, reason, prev_hash, hash)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
  /** A page of the chain, for verifyAudit: a provincial registry holds millions of entries. */
  auditPage: `SELECT * FROM audit WHERE seq > $1 ORDER BY seq LIMIT ${500}`,
  auditOne: 'SELECT * FROM audit WHERE seq = $1',
  auditFiltered: `SELECT * FROM audit
                   WHERE (CAST($1 AS TEXT) IS NULL OR number = $1) AND (CAST($2 AS TEXT) IS NULL OR at >= $2) AND (CAST($3 AS TEXT) IS NULL OR at < $3)
                   ORDER BY seq`,
  // A correction or reissue whose audit entry is gone or is about something else.
  danglingRefs: `SELECT x.audit_seq, 'correction' AS what, x.number FROM corrections x LEFT JOIN audit a ON a.seq = x.audit_seq
                  WHERE a.seq IS NULL OR a.action <> 'correct' OR a.number IS DISTINCT FROM x.number
                 UNION ALL
                 SELECT r.audit_seq, 'reissue' AS what, r.number FROM reissues r LEFT JOIN audit a ON a.seq = r.audit_seq
                  WHERE a.seq IS NULL OR a.action <> 'reissue' OR a.number IS DISTINCT FROM r.number
                 ORDER BY 1 LIMIT 1`,

  correctionFlags: `SELECT count(*) AS n, coalesce(sum(name_changed), 0) AS names, coalesce(sum(id_changed), 0) AS ids,
                           min(CASE WHEN name_changed = 1 THEN seq END) AS first_name, min(CASE WHEN id_changed = 1 THEN seq END) AS first_id
                      FROM corrections WHERE number = $1`,
  correctionInsert: `INSERT INTO corrections (number, seq, audit_seq, name_changed, id_changed, photo_changed, name_before, name_after,
                                              id_type, id_no_before, id_no_after, reason, at, operator, supersedes_sha256)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
  correctCertificate: 'UPDATE certificates SET printed = $1, id_no = $2, person_key = $3 WHERE number = $4',
  correctionsFiltered: `SELECT x.* FROM corrections x JOIN certificates c ON c.number = x.number
                         WHERE (CAST($1 AS TEXT) IS NULL OR x.number = $1) AND (CAST($2 AS TEXT) IS NULL OR c.profile_id = $2)
                           AND (CAST($3 AS TEXT) IS NULL OR x.at >= $3) AND (CAST($4 AS TEXT) IS NULL OR x.at < $4)
                         ORDER BY x.at, x.audit_seq`,
  pendingCorrections: 'SELECT * FROM corrections WHERE number = $1 AND applied_sha256 IS NULL ORDER BY seq',
  applyCorrections: `UPDATE corrections SET applied_sha256 = $2, applied_at = $3
                      WHERE number = $1 AND applied_sha256 IS NULL AND (CAST($4 AS INTEGER) IS NULL OR audit_seq <= $4)`,

  reissueCount: 'SELECT count(*) AS n FROM reissues WHERE number = $1',
  reissueInsert: `INSERT INTO reissues (number, seq, audit_seq, kind, reissue_date, reason, at, operator, supersedes_sha256)
                  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
  reissuesOf: 'SELECT * FROM reissues WHERE number = $1 ORDER BY seq',
  lastReissue: 'SELECT * FROM reissues WHERE number = $1 ORDER BY seq DESC LIMIT 1',
  pendingReissues: 'SELECT * FROM reissues WHERE number = $1 AND applied_sha256 IS NULL ORDER BY seq',
  applyReissues: `UPDATE reissues SET applied_sha256 = $2, applied_at = $3
                   WHERE number = $1 AND applied_sha256 IS NULL AND (CAST($4 AS INTEGER) IS NULL OR audit_seq <= $4)`,
  pendingNumbers: `SELECT number FROM corrections WHERE applied_sha256 IS NULL
                   UNION SELECT number FROM reissues WHERE applied_sha256 IS NULL
                   ORDER BY number`,
} as const;

/** An issue request checked, with its number prefix and person key, ready for the numbering transaction. */
interface PreparedIssue {
  readonly request: IssueRequest;
  readonly qualification: Qualification;
  readonly rule: ReturnType<typeof ruleFor>;
  readonly prefix: string;
  readonly key: string;
  readonly printed: string;
  readonly operator: string;
}

interface CorrectionFlags {
  n: number;
  names: number;
  ids: number;
  first_name: number | null;
  first_id: number | null;
}

/** Made by openRegistry (openSqliteRegistry, openPostgresRegistry), which opens, configures and migrates the database first. */
export class SqlRegistry implements Registry {
  readonly #db: SqlDriver;
  #open = true;
  #tail: Promise<unknown> = Promise.resolve();
  readonly #faults: NonNullable<SqlRegistryOptions['faults']>;
  readonly #operator: string;

  constructor(db: SqlDriver, options: SqlRegistryOptions = {}) {
    this.#db = db;
    this.#faults = options.faults ?? {};
    this.#operator = checkOperator(options.operator, UNKNOWN_OPERATOR);
  }

  get target(): string {
    return this.#db.target;
  }

  async issue(request: IssueRequest): Promise<IssueResult> {
    const prepared = this.#prepareIssue(request);
    return this.#write('numbering a certificate', (tx) => this.#issueOne(tx, prepared));
  }

  async issueMany(requests: readonly IssueRequest[]): Promise<IssueResult[]> {
    if (requests.length === 0) return [];
    const prepared = requests.map((r) => this.#prepareIssue(r));
    return this.#write(`numbering ${requests.length} certificates`, async (tx) => {
      const out: IssueResult[] = [];
      for (const p of prepared) out.push(await this.#issueOne(tx, p));
      return out;
    });
  }

  /** Checks a request and builds what numbering needs before any transaction: a bad profile fails without touching the database. */
  #prepareIssue(request: IssueRequest): PreparedIssue {
    checkIssueRequest(request);
    const { issuer, person, year } = request;
    const qualification = normaliseQualification(request.qualification);
    const rule = ruleFor(issuer);
    const prefix = rule.prefix(issuer, year, qualification.level);
    const key = personKey(person);
    const printed = JSON.stringify(request.printed);
    const operator = checkOperator(request.operator, this.#operator);
    checkStockRange(issuer);
    return { request, qualification, rule, prefix, key, printed, operator };
  }

  /** Numbers one prepared request; runs inside a write transaction (one certificate's, or a group's). */
  async #issueOne(tx: SqlTx, p: PreparedIssue): Promise<IssueResult> {
    const { request: { issuer, person, year, batchId, at }, qualification, rule, prefix, key, printed, operator } = p;
    const existing = await tx.get<CertRow>(Q.live, [key, qualification.occupation, qualification.job, qualification.level]);
    if (existing) return { created: false, certificate: toRecord(existing) };

    const { last_serial: serial } = (await tx.get<{ last_serial: number }>(Q.nextSerial, [prefix, rule.id])) as { last_serial: number };
    // Past the rule's maximum this throws, and the transaction rolls the counter back with it.
    const number = rule.withSerial(prefix, serial);
    this.#faults.afterSerial?.(number);
    const stockSerial = await this.#takeStock(tx, issuer);
    const { last_index: statusIndex } = (await tx.get<{ last_index: number }>(Q.nextStatusIndex, [issuer.orgCode])) as { last_index: number };
    await tx.run(Q.insert, [
      number, rule.id, prefix, serial, stockSerial, issuer.id, batchId, year, key, person.idType, person.idNo.trim(),
      qualification.occupation, qualification.job, qualification.level, printed, at.toISOString(), issuer.orgCode, Number(statusIndex),
    ]);
    await this.#append(tx, {
      at: at.toISOString(),
      operator,
      action: 'issue',
      number,
      beforeSha256: null,
      afterSha256: null,
      changes: [
        { field: 'status', before: null, after: 'numbered' },
        { field: 'stockSerial', before: null, after: stockSerial },
        { field: 'statusIndex', before: null, after: String(statusIndex) },
      ],
      reason: `batch ${batchId}`,
    });
    return { created: true, certificate: toRecord(await this.#mustGet(tx, number)) };
  }

  /** The next blank-stock serial of the profile; runs inside the numbering transaction. */
  async #takeStock(tx: SqlTx, issuer: RegistryIssuer): Promise<string> {
    const { from, to, digits } = issuer.stock;
    const last = (await tx.get<{ last_stock: number }>(Q.lastStock, [issuer.id]))?.last_stock;
    const next = last === undefined ? from : Math.max(last + 1, from);
    if (next > to) {
      throw new SkillcertError(
        'E_REGISTRY',
        `the blank stock of profile ${issuer.id} is used up: serials ${from}-${to} are all taken (last ${last ?? 'none'}); ` +
          'add the range of the next stock delivery to "stock" in the profile',
        { field: 'stock', profileId: issuer.id },
      );
    }
    await tx.run(Q.setStock, [issuer.id, next]);
    return String(next).padStart(digits, '0');
  }

  async markIssued(number: string, pdf: PdfDigest, at: Date, options: RecordDigestOptions = {}): Promise<CertificateRecord> {
    const sha256 = checkSha256(pdf.sha256);
    const operator = checkOperator(options.operator, this.#operator);
    return this.#write('recording an issued certificate', (tx) => this.#markIssuedOne(tx, number, { file: pdf.file, sha256 }, at, operator, options.through));
  }

  async markIssuedMany(issued: readonly IssuedPdf[], at: Date, options: WriteOptions = {}): Promise<CertificateRecord[]> {
    if (issued.length === 0) return [];
    const checked = issued.map((i) => ({ number: i.number, pdf: { file: i.pdf.file, sha256: checkSha256(i.pdf.sha256) } }));
    const operator = checkOperator(options.operator, this.#operator);
    return this.#write(`recording ${issued.length} issued certificates`, async (tx) => {
      const out: CertificateRecord[] = [];
      for (const i of checked) out.push(await this.#markIssuedOne(tx, i.number, i.pdf, at, operator, undefined));
      return out;
    });
  }

  /** Records the first PDF of one certificate; runs inside a write transaction. */
  async #markIssuedOne(tx: SqlTx, number: string, pdf: PdfDigest, at: Date, operator: string, through: number | undefined): Promise<CertificateRecord> {
    const { sha256 } = pdf;
    const cert = await this.#mustGet(tx, number);
    if (cert.status === 'revoked') throw revokedError(cert, 'issued');
    if (cert.status === 'issued') {
      if (cert.sha256 === sha256) return toRecord(cert);
      throw new SkillcertError(
        'E_REGISTRY',
        `certificate ${number} is already issued with another PDF (sha256 ${cert.sha256?.slice(0, 12) ?? 'none'}…); ` +
          'record a re-rendered PDF with recordDigest and the reason for it (第十七条)',
        { number },
      );
    }
    await tx.run(Q.setIssued, [at.toISOString(), number]);
    await tx.run(Q.addDigest, [number, 1, sha256, pdf.file, at.toISOString(), null]);
    await this.#append(tx, {
      at: at.toISOString(),
      operator,
      action: 'sign',
      number,
      beforeSha256: null,
      afterSha256: sha256,
      changes: [
        { field: 'status', before: 'numbered', after: 'issued' },
        { field: 'file', before: null, after: pdf.file },
      ],
      reason: null,
    });
    // Corrections recorded while the certificate was only numbered are carried by its first PDF.
    await this.#applyPending(tx, number, sha256, at, through);
    return toRecord(await this.#mustGet(tx, number));
  }

  async recordDigest(number: string, pdf: PdfDigest, at: Date, reason: string, options: RecordDigestOptions = {}): Promise<CertificateRecord> {
    const sha256 = checkSha256(pdf.sha256);
    const why = requireReason(reason, 'a re-rendered PDF');
    const operator = checkOperator(options.operator, this.#operator);
    return this.#write('recording a re-rendered PDF', async (tx) => {
      const cert = await this.#mustGet(tx, number);
      if (cert.status === 'revoked') throw revokedError(cert, 'given a new PDF');
      if (cert.status === 'numbered') {
        throw new SkillcertError('E_REGISTRY', `certificate ${number} has no PDF yet; record its first PDF with markIssued`, { number });
      }
      const known = await tx.get<DigestRow>(Q.digest, [number, sha256]);
      if (known?.state === 'current') return toRecord(cert);
      if (known) {
        throw new SkillcertError(
          'E_REGISTRY',
          `this PDF of certificate ${number} was superseded on ${known.superseded_at ?? '?'}; a superseded PDF does not become current again: render and sign a new one`,
          { number },
        );
      }
      await tx.run(Q.supersedeCurrent, [at.toISOString(), why, number]);
      const { v } = (await tx.get<{ v: number }>(Q.nextVersion, [number])) as { v: number };
      await tx.run(Q.addDigest, [number, v, sha256, pdf.file, at.toISOString(), why]);
      await this.#append(tx, {
        at: at.toISOString(),
        operator,
        action: 'sign',
        number,
        beforeSha256: cert.sha256,
        afterSha256: sha256,
        changes: [{ field: 'file', before: cert.file, after: pdf.file }],
        reason: why,
      });
      // 第十七条 / 第二十二条: this PDF carries the pending corrections and reissues (up to the job it was rendered from).
      await this.#applyPending(tx, number, sha256, at, options.through);
      return toRecord(await this.#mustGet(tx, number));
    });
  }

  async supersedeDigest(number: string, sha256: string, at: Date, reason: string, options: WriteOptions = {}): Promise<void> {
    const digest = checkSha256(sha256);
    const why = requireReason(reason, 'superseding a PDF');
    const operator = checkOperator(options.operator, this.#operator);
    await this.#write('superseding a PDF', async (tx) => {
      await this.#mustGet(tx, number);
      const known = await tx.get<DigestRow>(Q.digest, [number, digest]);
      if (!known) {
        throw new SkillcertError('E_REGISTRY', `certificate ${number} was never issued with a PDF of sha256 ${digest.slice(0, 12)}…; check the file`, { number });
      }
      if (known.state !== 'current') return;
      await tx.run(Q.supersede, [at.toISOString(), why, number, digest]);
      await this.#append(tx, {
        at: at.toISOString(),
        operator,
        action: 'supersede',
        number,
        beforeSha256: digest,
        afterSha256: null,
        changes: [{ field: 'digest', before: 'current', after: 'superseded' }],
        reason: why,
      });
    });
  }

  async revoke(number: string, reason: string, at: Date, options: WriteOptions = {}): Promise<CertificateRecord> {
    const why = requireReason(reason, 'a revocation (第十八条)');
    const operator = checkOperator(options.operator, this.#operator);
    return this.#write('revoking a certificate', async (tx) => {
      const cert = await this.#mustGet(tx, number);
      if (cert.status === 'revoked') {
        throw new SkillcertError('E_REGISTRY', `certificate ${number} was already revoked on ${cert.revoked_at ?? '?'}; a revocation is recorded once`, { number });
      }
      // 第十八条: logical only — a status and its reason; the row, its PDFs and its history stay.
      await tx.run(Q.revoke, [at.toISOString(), why, number]);
      await this.#append(tx, {
        at: at.toISOString(),
        operator,
        action: 'revoke',
        number,
        beforeSha256: cert.sha256,
        afterSha256: null,
        changes: [
          { field: 'status', before: cert.status, after: 'revoked' },
          ...(cert.suspended_at !== null ? [{ field: 'suspended', before: cert.suspended_at, after: null }] : []),
        ],
        reason: why,
      });
      return toRecord(await this.#mustGet(tx, number));
    });
  }

  async suspend(number: string, reason: string, at: Date, options: WriteOptions = {}): Promise<CertificateRecord> {
    const why = requireReason(reason, 'a suspension (第二十条)');
    const operator = checkOperator(options.operator, this.#operator);
    if (Number.isNaN(at.getTime())) throw new SkillcertError('E_USAGE', 'the time of the suspension is not a valid date', { field: 'at' });
    return this.#write('suspending a certificate', async (tx) => {
      const cert = await this.#mustGet(tx, number);
      if (cert.status === 'revoked') throw revokedError(cert, 'suspended (a revocation is final)');
      if (cert.status !== 'issued') {
        throw new SkillcertError('E_REGISTRY', `certificate ${number} was never issued (no signed PDF recorded), so there is nothing a verifier could be shown; finish or revoke its batch instead`, { number });
      }
      if (cert.suspended_at !== null) {
        throw new SkillcertError('E_REGISTRY', `certificate ${number} is already suspended since ${cert.suspended_at}; lift the suspension first to suspend it anew`, { number });
      }
      // 第二十条: 对可疑证书数据暂停备案和查询服务 — a mark with its reason; lifting it restores the certificate as it was.
      await tx.run(Q.suspend, [at.toISOString(), why, number]);
      await this.#append(tx, {
        at: at.toISOString(),
        operator,
        action: 'suspend',
        number,
        beforeSha256: cert.sha256,
        afterSha256: null,
        changes: [{ field: 'suspended', before: null, after: at.toISOString() }],
        reason: why,
      });
      return toRecord(await this.#mustGet(tx, number));
    });
  }

  async liftSuspension(number: string, reason: string, at: Date, options: WriteOptions = {}): Promise<CertificateRecord> {
    const why = requireReason(reason, 'lifting a suspension (第二十条)');
    const operator = checkOperator(options.operator, this.#operator);
    if (Number.isNaN(at.getTime())) throw new SkillcertError('E_USAGE', 'the time of the lifting is not a valid date', { field: 'at' });
    return this.#write('lifting a suspension', async (tx) => {
      const cert = await this.#mustGet(tx, number);
      if (cert.suspended_at === null) {
        throw new SkillcertError('E_REGISTRY', `certificate ${number} is not suspended${cert.status === 'revoked' ? ' (it is revoked, which is final)' : ''}; there is no suspension to lift`, { number });
      }
      await tx.run(Q.suspend, [null, null, number]);
      await this.#append(tx, {
        at: at.toISOString(),
        operator,
        action: 'lift',
        number,
        beforeSha256: cert.sha256,
        afterSha256: null,
        changes: [{ field: 'suspended', before: cert.suspended_at, after: null }],
        reason: why,
      });
      return toRecord(await this.#mustGet(tx, number));
    });
  }

  async statusListBits(orgCode: string, purpose: StatusPurpose): Promise<StatusListBits> {
    checkStatusList(orgCode, purpose);
    return this.#snapshot(async (tx) => {
      const rows = await tx.all<{ status_index: number }>(purpose === 'revocation' ? Q.revokedIndexes : Q.suspendedIndexes, [orgCode]);
      const last = (await tx.get<{ last_index: number }>(Q.lastStatusIndex, [orgCode]))?.last_index;
      const revision = (await tx.get<{ seq: number }>(Q.auditLast))?.seq ?? 0;
      return { orgCode, purpose, indexes: rows.map((r) => Number(r.status_index)), ...(last !== undefined && { highest: Number(last) }), revision: Number(revision) };
    });
  }

  async putStatusList(orgCode: string, purpose: StatusPurpose, jws: string, revision?: number): Promise<void> {
    checkStatusList(orgCode, purpose);
    const text = jws.trim();
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(text)) {
      throw new SkillcertError('E_USAGE', `the ${purpose} list of organisation ${orgCode} is not a compact JWS; sign it with signStatusList`, { field: 'jws' });
    }
    if (revision !== undefined && !(Number.isSafeInteger(revision) && revision >= 0)) {
      throw new SkillcertError('E_USAGE', `Expected the status list revision as a non-negative integer but received ${String(revision)}`, { field: 'revision' });
    }
    await this.#write('storing a status list', async (tx) => {
      const rev = revision ?? (await tx.get<{ seq: number }>(Q.auditLast))?.seq ?? 0;
      await tx.run(Q.putStatusList, [orgCode, purpose, text, rev]);
    });
  }

  async statusList(orgCode: string, purpose: StatusPurpose): Promise<string | undefined> {
    checkStatusList(orgCode, purpose);
    return (await this.#read((tx) => tx.get<{ jws: string }>(Q.statusList, [orgCode, purpose])))?.jws;
  }

  async statusLists(): Promise<StoredStatusList[]> {
    const rows = await this.#read((tx) => tx.all<{ org_code: string; purpose: StatusPurpose; jws: string }>(Q.allStatusLists));
    return rows.map((r) => ({ orgCode: r.org_code, purpose: r.purpose, jws: r.jws }));
  }

  async correct(number: string, change: CorrectionChange, reason: string, at: Date, operator: string): Promise<PendingRender> {
    const c = checkCorrection(number, change, reason, at, operator);
    return this.#write('recording a correction', async (tx) => {
      const cert = await this.#mustGet(tx, number);
      if (cert.status === 'revoked') throw revokedError(cert, 'corrected (第十八条: a revoked certificate stays as it was revoked)');
      const refuse = (field: string, message: string): never => {
        throw new SkillcertError('E_REGISTRY', `cannot correct certificate ${number}: ${message}`, { number, field, rule: '第十七条' });
      };

      // 第十七条: 姓名和证件号码，只能更正其中一项 — over the certificate's whole life, not only per request.
      const prior = (await tx.get<CorrectionFlags>(Q.correctionFlags, [number])) as CorrectionFlags;
      if (c.name !== undefined && prior.ids > 0) {
        refuse('name', `第十七条: its ID number was already corrected (correction ${prior.first_id ?? '?'}), and the name and the ID number can never both be corrected on one certificate; correct the photo only, or revoke it (第十八条) and issue anew`);
      }
      if (c.idNo !== undefined && prior.names > 0) {
        refuse('idNo', `第十七条: its name was already corrected (correction ${prior.first_name ?? '?'}), and the name and the ID number can never both be corrected on one certificate; correct the photo only, or revoke it (第十八条) and issue anew`);
      }

      const printed = JSON.parse(cert.printed) as Record<string, unknown>;
      const nameBefore = typeof printed.name === 'string' ? printed.name : undefined;
      const idNoBefore = cert.id_no;
      if (c.name !== undefined && c.name === nameBefore) refuse('name', 'the new name is the name already on record; give the corrected name');

      let key = cert.person_key;
      if (c.idNo !== undefined) {
        if (c.idNo === idNoBefore) refuse('idNo', `the new ID number is the one already on record (${maskId(idNoBefore)}); give the corrected ID number`);
        if (cert.id_type === '201' && !hasValidCheckDigit(c.idNo)) {
          refuse('idNo', `the new 居民身份证 number ${maskId(c.idNo)} fails the GB 11643 check digit; check the number on the ID card`);
        }
        key = personKey({ idType: cert.id_type as IdTypeCode, idNo: c.idNo });
        // SPEC §3/§4: one live certificate per person and qualification — also after the person's ID number moves.
        const clash = await tx.get<CertRow>(Q.live, [key, cert.occupation, cert.job, cert.level]);
        if (clash && clash.number !== number) {
          refuse('idNo', `the person with ID number ${maskId(c.idNo)} already holds live certificate ${clash.number} for ${cert.occupation} level ${cert.level}; a person holds one live certificate per qualification — check the ID number, or revoke one of the two (第十八条)`);
        }
      }

      const idNoAfter = c.idNo ?? idNoBefore;
      // 第十九条: the reason goes on forms and into the trail; an ID number typed into it is masked.
      const why = scrubIds(c.reason, [idNoBefore, idNoAfter]);
      const nextPrinted = { ...printed, ...(c.name !== undefined && { name: c.name }), ...(c.idNo !== undefined && { idNo: c.idNo }) };
      await tx.run(Q.correctCertificate, [JSON.stringify(nextPrinted), idNoAfter, key, number]);

      const changes: AuditChange[] = [
        ...(c.name !== undefined ? [{ field: 'name', before: nameBefore ?? null, after: c.name }] : []),
        ...(c.idNo !== undefined ? [{ field: 'idNo', before: maskId(idNoBefore), after: maskId(c.idNo) }] : []),
        ...(c.photo ? [{ field: 'photo', before: null, after: null }] : []),
      ];
      const entry = await this.#append(tx, {
        at: at.toISOString(),
        operator: c.operator,
        action: 'correct',
        number,
        beforeSha256: cert.sha256,
        afterSha256: null,
        changes,
        reason: why,
      });
      await tx.run(Q.correctionInsert, [
        number, prior.n + 1, entry.seq, c.name !== undefined ? 1 : 0, c.idNo !== undefined ? 1 : 0, c.photo ? 1 : 0,
        nameBefore ?? null, c.name ?? nameBefore ?? null, cert.id_type, idNoBefore, idNoAfter, why, at.toISOString(), c.operator, cert.sha256,
      ]);
      return (await this.#pending(tx, number)) as PendingRender;
    });
  }

  async reissue(number: string, kind: ReissueKind, at: Date, operator: string, reason?: string): Promise<PendingRender> {
    if (kind !== 'lost' && kind !== 'damaged') {
      throw new SkillcertError('E_USAGE', `Expected the reissue kind lost (补发) or damaged (换发) but received ${String(kind)}`, { field: 'kind' });
    }
    const who = checkOperator(operator, '');
    const date = beijingDate(at);
    const why = reason?.trim() || undefined;
    return this.#write('recording a reissue', async (tx) => {
      const cert = await this.#mustGet(tx, number);
      if (cert.status === 'revoked') throw revokedError(cert, 'reissued');
      if (cert.status !== 'issued') {
        throw new SkillcertError('E_REGISTRY', `certificate ${number} was never issued (no signed PDF recorded), so there is nothing to reissue (第二十二条); finish its batch instead`, { number });
      }
      const entry = await this.#append(tx, {
        at: at.toISOString(),
        operator: who,
        action: 'reissue',
        number,
        beforeSha256: cert.sha256,
        afterSha256: null,
        changes: [{ field: 'reissue', before: null, after: `${REISSUE_ZH[kind]} ${date}` }],
        reason: why ?? `第二十二条: ${kind === 'lost' ? '补发, the paper certificate was lost' : '换发, the paper certificate was damaged'}`,
      });
      const { n } = (await tx.get<{ n: number }>(Q.reissueCount, [number])) as { n: number };
      await tx.run(Q.reissueInsert, [number, n + 1, entry.seq, kind, date, why ?? null, at.toISOString(), who, cert.sha256]);
      return (await this.#pending(tx, number)) as PendingRender;
    });
  }

  async pendingRender(number: string): Promise<PendingRender | undefined> {
    return this.#snapshot((tx) => this.#pending(tx, number));
  }

  async pendingRenders(): Promise<PendingRender[]> {
    return this.#snapshot(async (tx) => {
      const out: PendingRender[] = [];
      for (const { number } of await tx.all<{ number: string }>(Q.pendingNumbers)) {
        const p = await this.#pending(tx, number);
        if (p) out.push(p);
      }
      return out;
    });
  }

  async corrections(filter: CorrectionFilter = {}): Promise<CorrectionWithCertificate[]> {
    return this.#snapshot(async (tx) => {
      const rows = await tx.all<CorrectionRow>(Q.correctionsFiltered, [
        filter.number ?? null,
        filter.profileId ?? null,
        filter.from?.toISOString() ?? null,
        filter.to?.toISOString() ?? null,
      ]);
      const certs = new Map<string, CertificateRecord>();
      const out: CorrectionWithCertificate[] = [];
      for (const r of rows) {
        let certificate = certs.get(r.number);
        if (!certificate) certs.set(r.number, (certificate = toRecord(await this.#mustGet(tx, r.number))));
        out.push({ ...toCorrection(r), certificate });
      }
      return out;
    });
  }

  async reissues(number: string): Promise<ReissueRecord[]> {
    return (await this.#read((tx) => tx.all<ReissueRow>(Q.reissuesOf, [number]))).map(toReissue);
  }

  async recordExport(exported: ExportRecord, at: Date, operator: string): Promise<AuditEntry> {
    const sha256 = checkSha256(exported.sha256);
    const who = checkOperator(operator, '');
    const file = exported.file.trim();
    const what = exported.what.trim();
    if (!file || !what) throw new SkillcertError('E_USAGE', 'an export needs the file name and what it is, for the audit trail (第二十条)', { field: file ? 'what' : 'file' });
    return this.#write('recording an export', (tx) =>
      this.#append(tx, {
        at: at.toISOString(),
        operator: who,
        action: 'export',
        number: exported.numbers?.length === 1 ? (exported.numbers[0] as string) : null,
        beforeSha256: null,
        afterSha256: sha256,
        changes: [
          { field: 'file', before: null, after: file },
          ...(exported.numbers && exported.numbers.length > 1 ? [{ field: 'numbers', before: null, after: exported.numbers.join(',') }] : []),
        ],
        reason: what,
      }),
    );
  }

  async audit(filter: AuditFilter = {}): Promise<AuditEntry[]> {
    const rows = await this.#read((tx) =>
      tx.all<AuditRow>(Q.auditFiltered, [filter.number ?? null, filter.from?.toISOString() ?? null, filter.to?.toISOString() ?? null]),
    );
    return rows.map((row) => {
      const e = decodeAudit(row);
      if ('malformed' in e) {
        throw new SkillcertError('E_REGISTRY', `audit entry ${e.seq} in ${this.target} cannot be read (${e.malformed}); run \`skillcert audit --verify\` and restore the registry from a backup`, { seq: e.seq });
      }
      return e;
    });
  }

  async verifyAudit(options: AuditCheckOptions = {}): Promise<AuditVerification> {
    return this.#snapshot(async (tx) => {
      const checker = new ChainChecker();
      // Page by page: a provincial registry holds millions of entries.
      let after = 0;
      for (let page = await tx.all<AuditRow>(Q.auditPage, [after]); page.length; page = await tx.all<AuditRow>(Q.auditPage, [after])) {
        if (page.some((row) => checker.push(decodeAudit(row)))) break;
        after = (page[page.length - 1] as AuditRow).seq;
      }
      if (checker.broken) return checker.result();
      const head = checker.head;
      // The highest seq ever written: entries cut off the end leave it above the head.
      const written = (await tx.get<{ seq: number }>(this.#db.auditWrittenSql))?.seq ?? 0;
      if (written > (head?.seq ?? 0)) {
        const from = (head?.seq ?? 0) + 1;
        checker.fail({
          seq: from,
          kind: 'missing-entry',
          message: `audit entries ${from}${written > from ? `-${written}` : ''} are missing: ${written} entries were written but the log ends at ${head?.seq ?? 0}; the end of the log was deleted behind the registry's back — restore the registry from a backup`,
        });
        return checker.result();
      }
      if (options.anchor) {
        const row = await tx.get<AuditRow>(Q.auditOne, [options.anchor.seq]);
        const decoded = row && decodeAudit(row);
        const problem = checkAnchor(options.anchor, decoded && !('malformed' in decoded) ? decoded : undefined);
        if (problem) {
          checker.fail(problem);
          return checker.result();
        }
      }
      const dangling = await tx.get<{ audit_seq: number; what: string; number: string }>(Q.danglingRefs);
      if (dangling) {
        checker.fail({
          seq: dangling.audit_seq,
          kind: 'dangling-reference',
          message: `the ${dangling.what} of certificate ${dangling.number} points at audit entry ${dangling.audit_seq}, which does not record it; the registry was changed behind its back — restore it from a backup`,
        });
      }
      return checker.result();
    });
  }

  async getByNumber(number: string): Promise<CertificateRecord | undefined> {
    const row = await this.#read((tx) => tx.get<CertRow>(Q.byNumber, [number]));
    return row && toRecord(row);
  }

  async findByPerson(person: PersonId, qualification: Qualification): Promise<CertificateRecord | undefined> {
    const q = normaliseQualification(qualification);
    const row = await this.#read((tx) => tx.get<CertRow>(Q.live, [personKey(person), q.occupation, q.job, q.level]));
    return row && toRecord(row);
  }

  async listBatch(batchId: string): Promise<CertificateRecord[]> {
    return (await this.#read((tx) => tx.all<CertRow>(Q.batch, [batchId]))).map(toRecord);
  }

  async digests(number: string): Promise<DigestRecord[]> {
    return (await this.#read((tx) => tx.all<DigestRow>(Q.digests, [number]))).map(toDigest);
  }

  async status(number: string, sha256?: string): Promise<StatusReport> {
    const digest = sha256 === undefined ? undefined : checkSha256(sha256);
    return this.#snapshot(async (tx) => {
      const cert = await tx.get<CertRow>(Q.byNumber, [number]);
      if (!cert) return { number, status: 'unknown', ...(digest !== undefined && { digest: 'unknown' }) };
      const known = digest === undefined ? undefined : await tx.get<DigestRow>(Q.digest, [number, digest]);
      const reissue = await tx.get<ReissueRow>(Q.lastReissue, [number]);
      return {
        number,
        status: cert.status,
        ...(digest !== undefined && { digest: known?.state ?? 'unknown' }),
        ...(cert.sha256 !== null && { currentSha256: cert.sha256 }),
        ...(cert.revoked_at !== null && { revokedAt: cert.revoked_at }),
        ...(cert.revoke_reason !== null && { revokeReason: cert.revoke_reason }),
        ...(cert.suspended_at !== null && { suspendedAt: cert.suspended_at }),
        ...(cert.suspend_reason !== null && { suspendReason: cert.suspend_reason }),
        ...(cert.org_code !== null && { orgCode: cert.org_code }),
        ...(cert.status_index !== null && { statusIndex: Number(cert.status_index) }),
        ...(cert.corrected ? { corrected: true as const } : {}),
        ...(cert.pending_render ? { pendingRender: true as const } : {}),
        ...(reissue && { lastReissue: { kind: reissue.kind, date: reissue.reissue_date } }),
      };
    });
  }

  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    // After the calls already queued, so that none of them finds the connection gone.
    await this.#exclusive(() => this.#db.close());
  }

  async #mustGet(tx: SqlTx, number: string): Promise<CertRow> {
    const row = await tx.get<CertRow>(Q.byNumber, [number]);
    if (!row) throw new SkillcertError('E_REGISTRY', `no certificate numbered ${number} in the registry ${this.target}; check the number`, { number });
    return row;
  }

  /**
   * Appends one audit entry; only ever called with a write transaction, so the entry commits with the change it
   * records. seq continues from the highest seq ever written, so entries cut off the end stay a gap.
   */
  async #append(tx: SqlTx, draft: AuditDraft): Promise<AuditEntry> {
    const last = await tx.get<{ seq: number; hash: string }>(Q.auditLast);
    const written = (await tx.get<{ seq: number }>(this.#db.auditWrittenSql))?.seq ?? 0;
    const unhashed = { ...draft, seq: Math.max(written, last?.seq ?? 0) + 1, prevHash: last?.hash ?? GENESIS_HASH };
    const e: AuditEntry = { ...unhashed, hash: entryHash(unhashed) };
    await tx.run(Q.auditInsert, [e.seq, e.at, e.operator, e.action, e.number, e.beforeSha256, e.afterSha256, JSON.stringify(e.changes), e.reason, e.prevHash, e.hash]);
    return e;
  }

  /** Marks the pending corrections and reissues of a certificate (up to audit seq `through`) as carried by a PDF. */
  async #applyPending(tx: SqlTx, number: string, sha256: string, at: Date, through: number | undefined): Promise<void> {
    const args = [number, sha256, at.toISOString(), through ?? null];
    await tx.run(Q.applyCorrections, args);
    await tx.run(Q.applyReissues, args);
  }

  /** The re-rendering job of a certificate, from what is recorded now; undefined when nothing waits. */
  async #pending(tx: SqlTx, number: string): Promise<PendingRender | undefined> {
    const cert = await tx.get<CertRow>(Q.byNumber, [number]);
    if (!cert || cert.status === 'revoked') return undefined;
    const corrections = (await tx.all<CorrectionRow>(Q.pendingCorrections, [number])).map(toCorrection);
    const reissues = (await tx.all<ReissueRow>(Q.pendingReissues, [number])).map(toReissue);
    if (!corrections.length && !reissues.length) return undefined;
    const latest = reissues[reissues.length - 1];
    const record = toRecord(cert);
    const reasons = [
      ...corrections.map((c) => `第十七条 correction ${c.seq} (${c.fields.join(', ')}): ${c.reason}`),
      ...reissues.map((r) => `第二十二条 ${REISSUE_ZH[r.kind]} ${r.date}${r.reason ? `: ${r.reason}` : ''}`),
    ];
    return {
      number,
      certificate: record,
      printed: record.printed,
      ...(latest && { reissue: { kind: latest.kind, date: latest.date } }),
      photoChanged: corrections.some((c) => c.fields.includes('photo')),
      corrections,
      reissues,
      revision: Math.max(...corrections.map((c) => c.auditSeq), ...reissues.map((r) => r.auditSeq)),
      reason: reasons.join('; '),
      next: cert.status === 'issued' ? 'recordDigest' : 'markIssued',
    };
  }

  /** Several reads that must agree: one snapshot. */
  #snapshot<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.#call('reading', () => this.#transaction([this.#db.beginSnapshot], fn));
  }

  #read<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.#call('reading', () => fn(this.#db.tx));
  }

  /** One write = one transaction holding the write lock: all of it commits or none of it does. */
  #write<T>(what: string, fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.#call(what, () => this.#transaction(this.#db.beginWrite, fn));
  }

  /** Opens a transaction with `begin`, commits when fn resolves, rolls back when anything in it throws. */
  async #transaction<T>([open, ...then]: readonly [string, ...string[]], fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    const { tx } = this.#db;
    await tx.run(open);
    try {
      for (const sql of then) await tx.run(sql);
      const result = await fn(tx);
      await tx.run('COMMIT');
      return result;
    } catch (err) {
      // (After a failed COMMIT the database may have ended the transaction itself: nothing left to roll back.)
      await tx.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (!this.#open) throw new SkillcertError('E_REGISTRY', `the registry ${this.target} is closed; open it again with openRegistry`);
    try {
      return await this.#exclusive(fn);
    } catch (err) {
      throw err instanceof SkillcertError ? err : this.#db.describe(what, err);
    }
  }

  /** Runs fn after every call already queued on this registry has ended. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}

function checkStockRange(issuer: RegistryIssuer): void {
  const { from, to, digits } = issuer.stock;
  if (from > to) {
    throw new SkillcertError('E_PROFILE', `profile ${issuer.id}: the blank-stock range ${from}-${to} is empty; set "stock.from" at most "stock.to"`, { field: 'stock' });
  }
  if (String(to).length > digits) {
    throw new SkillcertError(
      'E_PROFILE',
      `profile ${issuer.id}: the blank-stock serial ${to} has ${String(to).length} digits but "stock.digits" is ${digits}; raise "stock.digits" to print it whole`,
      { field: 'stock.digits' },
    );
  }
}

function checkStatusList(orgCode: string, purpose: StatusPurpose): void {
  if (typeof orgCode !== 'string' || !/^[0-9A-Z]{1,16}$/.test(orgCode)) {
    throw new SkillcertError('E_USAGE', `Expected an organisation code (profile.orgCode, e.g. 0000) but received ${JSON.stringify(orgCode)}`, { field: 'orgCode' });
  }
  if (!(STATUS_PURPOSES as readonly string[]).includes(purpose)) {
    throw new SkillcertError('E_USAGE', `Expected the status purpose revocation or suspension but received ${JSON.stringify(purpose)}`, { field: 'purpose' });
  }
}

function requireReason(reason: string, what: string): string {
  const why = reason.trim();
  if (!why) throw new SkillcertError('E_USAGE', `${what} needs a written reason`, { field: 'reason' });
  return why;
}

function revokedError(cert: CertRow, what: string): SkillcertError {
  return new SkillcertError('E_REGISTRY', `certificate ${cert.number} was revoked on ${cert.revoked_at ?? '?'} and cannot be ${what}`, { number: cert.number });
}
