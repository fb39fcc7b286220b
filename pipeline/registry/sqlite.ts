/**
 * The embedded registry: one SQLite file per organisation (SPEC §9), safe for several processes at once.
 *
 * - WAL, so readers (verifiers, reports) never block the writer and the writer never blocks them;
 * - every write is one `BEGIN IMMEDIATE` transaction: it takes the write lock before it reads, so two runs
 *   cannot both read "last serial = 41" and both hand out 42; the loser waits (busy_timeout) and then reads 42;
 * - synchronous = FULL: a number that reached a printed PDF must never vanish from the registry on power loss,
 *   or a rerun would hand it out again;
 * - the schema is a list of migrations applied in order and recorded in schema_migrations; version 2 adds the
 *   audit trail (第二十条, append-only and hash-chained, audit.ts), corrections (第十七条) and reissues (第二十二条);
 * - every write goes through #write, and every change appends its audit entry (#append) inside that same
 *   transaction: the change and its entry commit together or not at all, and the entry's seq and prev_hash are
 *   read under the write lock, so two processes can never fork the chain.
 */
import Database from 'better-sqlite3';
import { maskId, SkillcertError } from '../errors.js';
import { ruleFor } from '../number/index.js';
import type { IdTypeCode, LevelCode } from '../record.js';
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
  gb11643CheckOk,
  normaliseQualification,
  personKey,
  scrubIds,
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
  type OpenOptions,
  type PdfDigest,
  type PendingRender,
  type PersonId,
  type Qualification,
  type RecordDigestOptions,
  type Registry,
  type RegistryIssuer,
  type ReissueKind,
  type ReissueRecord,
  type StatusReport,
  type WriteOptions,
} from './index.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** The schema, oldest first. Never edit an applied migration: add one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'certificates, serial and stock counters, PDF digests',
    sql: `
      -- One row per number space: a prefix is organisation + year + level (二(七)), so a serial sequence is
      -- "per organisation, per year, per level" by construction. Taking a serial and recording its certificate
      -- happen in one transaction, so last_serial always equals the highest recorded serial: no gap.
      CREATE TABLE serial_counters (
        prefix      TEXT PRIMARY KEY,
        rule        TEXT NOT NULL,
        last_serial INTEGER NOT NULL CHECK (last_serial >= 1)
      );

      -- Blank stock (流水号) is the organisation's paper: one sequence per profile; a new range in the profile
      -- continues from the higher of its start and the last serial used, so no sheet is numbered twice.
      CREATE TABLE stock_counters (
        profile_id TEXT PRIMARY KEY,
        last_stock INTEGER NOT NULL
      );

      CREATE TABLE certificates (
        number        TEXT PRIMARY KEY,
        rule          TEXT NOT NULL,
        prefix        TEXT NOT NULL,
        serial        INTEGER NOT NULL CHECK (serial >= 1),
        stock_serial  TEXT NOT NULL,
        status        TEXT NOT NULL CHECK (status IN ('numbered', 'issued', 'revoked')),
        profile_id    TEXT NOT NULL,
        batch_id      TEXT NOT NULL,
        year          INTEGER NOT NULL,
        person_key    TEXT NOT NULL,
        id_type       TEXT NOT NULL,
        id_no         TEXT NOT NULL,
        occupation    TEXT NOT NULL,
        job           TEXT NOT NULL,
        level         INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
        printed       TEXT NOT NULL,
        numbered_at   TEXT NOT NULL,
        issued_at     TEXT,
        revoked_at    TEXT,
        revoke_reason TEXT,
        UNIQUE (prefix, serial),
        UNIQUE (profile_id, stock_serial)
      );
      -- One live certificate per person and qualification (SPEC §3, §4); a revoked one (第十八条) stays on
      -- record and no longer blocks a new one.
      CREATE UNIQUE INDEX certificates_live_qualification
        ON certificates (person_key, occupation, job, level) WHERE status <> 'revoked';
      CREATE INDEX certificates_batch ON certificates (batch_id);

      -- Every PDF a certificate was issued with (第十七条: a corrected certificate is re-rendered and the old PDF
      -- marked superseded), so a verifier can tell a current PDF from a superseded one and from a forgery.
      CREATE TABLE certificate_digests (
        number            TEXT NOT NULL REFERENCES certificates (number),
        version           INTEGER NOT NULL CHECK (version >= 1),
        sha256            TEXT NOT NULL,
        file              TEXT NOT NULL,
        state             TEXT NOT NULL CHECK (state IN ('current', 'superseded')),
        recorded_at       TEXT NOT NULL,
        reason            TEXT,
        superseded_at     TEXT,
        superseded_reason TEXT,
        PRIMARY KEY (number, version),
        UNIQUE (number, sha256)
      );
      CREATE UNIQUE INDEX certificate_digests_one_current ON certificate_digests (number) WHERE state = 'current';
      CREATE INDEX certificate_digests_sha256 ON certificate_digests (sha256);
    `,
  },
  {
    version: 2,
    name: 'audit trail (hash-chained, append-only), corrections, reissues, no physical deletion',
    sql: `
      -- 第二十条: one entry per change, written in the transaction of the change. seq is AUTOINCREMENT so that
      -- sqlite_sequence remembers the highest seq ever written: an entry cut off the end is then a gap that
      -- verifyAudit reports, even after later entries were appended. seq and prev_hash are set by the writer
      -- (they are part of the hash), under the write lock.
      CREATE TABLE audit (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        at            TEXT NOT NULL,
        operator      TEXT NOT NULL,
        action        TEXT NOT NULL CHECK (action IN ('issue', 'sign', 'correct', 'reissue', 'revoke', 'export', 'supersede')),
        number        TEXT,
        before_sha256 TEXT,
        after_sha256  TEXT,
        -- JSON [{field, before, after}]; ID numbers masked (第十九条).
        changes       TEXT NOT NULL,
        reason        TEXT,
        prev_hash     TEXT NOT NULL,
        hash          TEXT NOT NULL
      );
      CREATE INDEX audit_number ON audit (number, seq);
      CREATE INDEX audit_at ON audit (at);
      -- Append-only in the file too. This stops mistakes and casual edits; it does not stop someone who drops
      -- the triggers, which is what the hash chain is for.
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
      BEGIN SELECT RAISE(ABORT, 'audit entries are append-only (第二十条): an entry is never changed; record a new entry instead'); END;
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
      BEGIN SELECT RAISE(ABORT, 'audit entries are append-only (第二十条): an entry is never deleted'); END;

      -- 第十七条: one row per correction, with the name and ID number before and after (whole snapshots, since
      -- one correction never changes both), kept for the office forms (附件4). applied_sha256 is the PDF that
      -- carries it; NULL = the certificate waits to be re-rendered (pending_render).
      CREATE TABLE corrections (
        number            TEXT NOT NULL REFERENCES certificates (number),
        seq               INTEGER NOT NULL CHECK (seq >= 1),
        audit_seq         INTEGER NOT NULL UNIQUE REFERENCES audit (seq),
        name_changed      INTEGER NOT NULL CHECK (name_changed IN (0, 1)),
        id_changed        INTEGER NOT NULL CHECK (id_changed IN (0, 1)),
        photo_changed     INTEGER NOT NULL CHECK (photo_changed IN (0, 1)),
        name_before       TEXT,
        name_after        TEXT,
        id_type           TEXT NOT NULL,
        id_no_before      TEXT NOT NULL,
        id_no_after       TEXT NOT NULL,
        reason            TEXT NOT NULL CHECK (length(trim(reason)) > 0),
        at                TEXT NOT NULL,
        operator          TEXT NOT NULL,
        supersedes_sha256 TEXT,
        applied_sha256    TEXT,
        applied_at        TEXT,
        PRIMARY KEY (number, seq),
        CHECK (name_changed + id_changed + photo_changed >= 1),
        -- 第十七条: 姓名和证件号码只能更正其中一项 (across rows it is enforced by correct()).
        CHECK (NOT (name_changed = 1 AND id_changed = 1))
      );
      CREATE INDEX corrections_at ON corrections (at);
      CREATE INDEX corrections_pending ON corrections (number) WHERE applied_sha256 IS NULL;

      -- 第二十二条: a reissue keeps the number and the printed data; the date is printed as 补发/换发日期.
      CREATE TABLE reissues (
        number            TEXT NOT NULL REFERENCES certificates (number),
        seq               INTEGER NOT NULL CHECK (seq >= 1),
        audit_seq         INTEGER NOT NULL UNIQUE REFERENCES audit (seq),
        kind              TEXT NOT NULL CHECK (kind IN ('lost', 'damaged')),
        reissue_date      TEXT NOT NULL,
        reason            TEXT,
        at                TEXT NOT NULL,
        operator          TEXT NOT NULL,
        supersedes_sha256 TEXT,
        applied_sha256    TEXT,
        applied_at        TEXT,
        PRIMARY KEY (number, seq)
      );
      CREATE INDEX reissues_pending ON reissues (number) WHERE applied_sha256 IS NULL;

      -- A recorded correction or reissue is history: only its "applied" mark is set, once.
      CREATE TRIGGER corrections_fixed BEFORE UPDATE OF number, seq, audit_seq, name_changed, id_changed, photo_changed,
        name_before, name_after, id_type, id_no_before, id_no_after, reason, at, operator, supersedes_sha256 ON corrections
      BEGIN SELECT RAISE(ABORT, 'a recorded correction is never changed (第二十条); record a new correction instead'); END;
      CREATE TRIGGER corrections_applied_once BEFORE UPDATE OF applied_sha256, applied_at ON corrections WHEN OLD.applied_sha256 IS NOT NULL
      BEGIN SELECT RAISE(ABORT, 'a correction already carried by a PDF stays with that PDF'); END;
      CREATE TRIGGER corrections_no_delete BEFORE DELETE ON corrections
      BEGIN SELECT RAISE(ABORT, 'a recorded correction is never deleted (第二十条)'); END;
      CREATE TRIGGER reissues_fixed BEFORE UPDATE OF number, seq, audit_seq, kind, reissue_date, reason, at, operator, supersedes_sha256 ON reissues
      BEGIN SELECT RAISE(ABORT, 'a recorded reissue is never changed (第二十条)'); END;
      CREATE TRIGGER reissues_applied_once BEFORE UPDATE OF applied_sha256, applied_at ON reissues WHEN OLD.applied_sha256 IS NOT NULL
      BEGIN SELECT RAISE(ABORT, 'a reissue already carried by a PDF stays with that PDF'); END;
      CREATE TRIGGER reissues_no_delete BEFORE DELETE ON reissues
      BEGIN SELECT RAISE(ABORT, 'a recorded reissue is never deleted (第二十条)'); END;

      -- 第十八条: 证书数据仅可逻辑删除，不可物理删除. Revocation is a status; rows are never deleted.
      CREATE TRIGGER certificates_no_delete BEFORE DELETE ON certificates
      BEGIN SELECT RAISE(ABORT, 'certificate data may only be deleted logically (第十八条): revoke the certificate instead'); END;
      CREATE TRIGGER certificate_digests_no_delete BEFORE DELETE ON certificate_digests
      BEGIN SELECT RAISE(ABORT, 'a PDF digest is never deleted (第十八条); supersede it instead'); END;
    `,
  },
];

export const SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

export interface SqliteOptions extends OpenOptions {
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
  file: string | null;
  sha256: string | null;
  corrected: 0 | 1;
  pending_render: 0 | 1;
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

const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

/** Opens (and creates or migrates) a SQLite registry file. `:memory:` works for throwaway use. */
export async function openSqliteRegistry(path: string, options: SqliteOptions = {}): Promise<SqliteRegistry> {
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: busyTimeoutMs });
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db, options.now ?? new Date());
  } catch (err) {
    db?.close();
    if (err instanceof SkillcertError) throw err;
    throw new SkillcertError(
      'E_REGISTRY',
      `cannot open the registry ${path}: ${(err as Error).message}; check that the folder exists, is writable, and that the file is a skillcert registry`,
      { path },
      { cause: err },
    );
  }
  return new SqliteRegistry(db, path, busyTimeoutMs, options.faults ?? {}, options.operator ?? UNKNOWN_OPERATOR);
}

/** Applies the migrations not yet applied, under the write lock so that two processes opening a new file agree. */
function migrate(db: Database.Database, now: Date): void {
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at TEXT NOT NULL
    )`);
    const { v } = db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number };
    if (v > SCHEMA_VERSION) {
      throw new SkillcertError(
        'E_REGISTRY',
        `the registry ${db.name} has schema version ${v} but this skillcert knows versions up to ${SCHEMA_VERSION}; use the newer skillcert that wrote it`,
        { path: db.name },
      );
    }
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of MIGRATIONS) {
      if (m.version <= v) continue;
      db.exec(m.sql);
      record.run(m.version, m.name, now.toISOString());
    }
  }).immediate();
}

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

/** Made by openSqliteRegistry (or openRegistry), which opens, configures and migrates the file first. */
export class SqliteRegistry implements Registry {
  #db: Database.Database;
  #open = true;
  readonly #busyTimeoutMs: number;
  readonly #faults: NonNullable<SqliteOptions['faults']>;
  readonly #operator: string;
  readonly #q;

  constructor(
    db: Database.Database,
    readonly target: string,
    busyTimeoutMs: number,
    faults: NonNullable<SqliteOptions['faults']>,
    operator: string = UNKNOWN_OPERATOR,
  ) {
    this.#db = db;
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#faults = faults;
    this.#operator = checkOperator(operator, UNKNOWN_OPERATOR);
    this.#q = {
      byNumber: db.prepare<[string], CertRow>(`${CERT_SELECT} WHERE c.number = ?`),
      live: db.prepare<[string, string, string, number], CertRow>(
        `${CERT_SELECT} WHERE c.person_key = ? AND c.occupation = ? AND c.job = ? AND c.level = ? AND c.status <> 'revoked'`,
      ),
      batch: db.prepare<[string], CertRow>(`${CERT_SELECT} WHERE c.batch_id = ? ORDER BY c.prefix, c.serial`),
      nextSerial: db.prepare<[string, string], { last_serial: number }>(
        `INSERT INTO serial_counters (prefix, rule, last_serial) VALUES (?, ?, 1)
         ON CONFLICT (prefix) DO UPDATE SET last_serial = last_serial + 1
         RETURNING last_serial`,
      ),
      lastStock: db.prepare<[string], { last_stock: number }>('SELECT last_stock FROM stock_counters WHERE profile_id = ?'),
      setStock: db.prepare<[string, number]>(
        `INSERT INTO stock_counters (profile_id, last_stock) VALUES (?, ?)
         ON CONFLICT (profile_id) DO UPDATE SET last_stock = excluded.last_stock`,
      ),
      insert: db.prepare(
        `INSERT INTO certificates (number, rule, prefix, serial, stock_serial, status, profile_id, batch_id, year,
                                   person_key, id_type, id_no, occupation, job, level, printed, numbered_at)
         VALUES (@number, @rule, @prefix, @serial, @stockSerial, 'numbered', @profileId, @batchId, @year,
                 @personKey, @idType, @idNo, @occupation, @job, @level, @printed, @numberedAt)`,
      ),
      setIssued: db.prepare<[string, string]>(`UPDATE certificates SET status = 'issued', issued_at = ? WHERE number = ? AND status = 'numbered'`),
      revoke: db.prepare<[string, string, string]>(`UPDATE certificates SET status = 'revoked', revoked_at = ?, revoke_reason = ? WHERE number = ?`),
      digests: db.prepare<[string], DigestRow>('SELECT * FROM certificate_digests WHERE number = ? ORDER BY version'),
      digest: db.prepare<[string, string], DigestRow>('SELECT * FROM certificate_digests WHERE number = ? AND sha256 = ?'),
      nextVersion: db.prepare<[string], { v: number }>('SELECT coalesce(max(version), 0) + 1 AS v FROM certificate_digests WHERE number = ?'),
      addDigest: db.prepare<[string, number, string, string, string, string | null]>(
        `INSERT INTO certificate_digests (number, version, sha256, file, state, recorded_at, reason) VALUES (?, ?, ?, ?, 'current', ?, ?)`,
      ),
      supersede: db.prepare<[string, string | null, string, string]>(
        `UPDATE certificate_digests SET state = 'superseded', superseded_at = ?, superseded_reason = ? WHERE number = ? AND sha256 = ? AND state = 'current'`,
      ),
      supersedeCurrent: db.prepare<[string, string | null, string]>(
        `UPDATE certificate_digests SET state = 'superseded', superseded_at = ?, superseded_reason = ? WHERE number = ? AND state = 'current'`,
      ),

      auditLast: db.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1'),
      auditCounter: db.prepare<[], { seq: number }>(`SELECT seq FROM sqlite_sequence WHERE name = 'audit'`),
      auditInsert: db.prepare(
        `INSERT INTO audit (seq, at, operator, action, number, before_sha256, after_sha256, changes, reason, prev_hash, hash)
         VALUES (@seq, @at, @operator, @action, @number, @beforeSha256, @afterSha256, @changes, @reason, @prevHash, @hash)`,
      ),
      auditAll: db.prepare<[], AuditRow>('SELECT * FROM audit ORDER BY seq'),
      auditOne: db.prepare<[number], AuditRow>('SELECT * FROM audit WHERE seq = ?'),
      auditFiltered: db.prepare<{ number: string | null; from: string | null; to: string | null }, AuditRow>(
        `SELECT * FROM audit
          WHERE (@number IS NULL OR number = @number) AND (@from IS NULL OR at >= @from) AND (@to IS NULL OR at < @to)
          ORDER BY seq`,
      ),
      // A correction or reissue whose audit entry is gone or is about something else.
      danglingRefs: db.prepare<[], { audit_seq: number; what: string; number: string }>(
        `SELECT x.audit_seq, 'correction' AS what, x.number FROM corrections x LEFT JOIN audit a ON a.seq = x.audit_seq
          WHERE a.seq IS NULL OR a.action <> 'correct' OR a.number IS NOT x.number
         UNION ALL
         SELECT r.audit_seq, 'reissue' AS what, r.number FROM reissues r LEFT JOIN audit a ON a.seq = r.audit_seq
          WHERE a.seq IS NULL OR a.action <> 'reissue' OR a.number IS NOT r.number
         ORDER BY 1 LIMIT 1`,
      ),

      correctionFlags: db.prepare<[string], { n: number; names: number; ids: number; first_name: number | null; first_id: number | null }>(
        `SELECT count(*) AS n, coalesce(sum(name_changed), 0) AS names, coalesce(sum(id_changed), 0) AS ids,
                min(CASE WHEN name_changed = 1 THEN seq END) AS first_name, min(CASE WHEN id_changed = 1 THEN seq END) AS first_id
           FROM corrections WHERE number = ?`,
      ),
      correctionInsert: db.prepare(
        `INSERT INTO corrections (number, seq, audit_seq, name_changed, id_changed, photo_changed, name_before, name_after,
                                  id_type, id_no_before, id_no_after, reason, at, operator, supersedes_sha256)
         VALUES (@number, @seq, @auditSeq, @nameChanged, @idChanged, @photoChanged, @nameBefore, @nameAfter,
                 @idType, @idNoBefore, @idNoAfter, @reason, @at, @operator, @supersedes)`,
      ),
      correctCertificate: db.prepare<[string, string, string, string]>('UPDATE certificates SET printed = ?, id_no = ?, person_key = ? WHERE number = ?'),
      correctionsOf: db.prepare<[string], CorrectionRow>('SELECT * FROM corrections WHERE number = ? ORDER BY seq'),
      correctionsFiltered: db.prepare<{ number: string | null; from: string | null; to: string | null; profileId: string | null }, CorrectionRow>(
        `SELECT x.* FROM corrections x JOIN certificates c ON c.number = x.number
          WHERE (@number IS NULL OR x.number = @number) AND (@profileId IS NULL OR c.profile_id = @profileId)
            AND (@from IS NULL OR x.at >= @from) AND (@to IS NULL OR x.at < @to)
          ORDER BY x.at, x.audit_seq`,
      ),
      pendingCorrections: db.prepare<[string], CorrectionRow>('SELECT * FROM corrections WHERE number = ? AND applied_sha256 IS NULL ORDER BY seq'),
      applyCorrections: db.prepare<{ number: string; sha256: string; at: string; through: number | null }>(
        `UPDATE corrections SET applied_sha256 = @sha256, applied_at = @at
          WHERE number = @number AND applied_sha256 IS NULL AND (@through IS NULL OR audit_seq <= @through)`,
      ),

      reissueCount: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM reissues WHERE number = ?'),
      reissueInsert: db.prepare(
        `INSERT INTO reissues (number, seq, audit_seq, kind, reissue_date, reason, at, operator, supersedes_sha256)
         VALUES (@number, @seq, @auditSeq, @kind, @date, @reason, @at, @operator, @supersedes)`,
      ),
      reissuesOf: db.prepare<[string], ReissueRow>('SELECT * FROM reissues WHERE number = ? ORDER BY seq'),
      lastReissue: db.prepare<[string], ReissueRow>('SELECT * FROM reissues WHERE number = ? ORDER BY seq DESC LIMIT 1'),
      pendingReissues: db.prepare<[string], ReissueRow>('SELECT * FROM reissues WHERE number = ? AND applied_sha256 IS NULL ORDER BY seq'),
      applyReissues: db.prepare<{ number: string; sha256: string; at: string; through: number | null }>(
        `UPDATE reissues SET applied_sha256 = @sha256, applied_at = @at
          WHERE number = @number AND applied_sha256 IS NULL AND (@through IS NULL OR audit_seq <= @through)`,
      ),
      pendingNumbers: db.prepare<[], { number: string }>(
        `SELECT number FROM corrections WHERE applied_sha256 IS NULL
         UNION SELECT number FROM reissues WHERE applied_sha256 IS NULL
         ORDER BY number`,
      ),
    };
  }

  async issue(request: IssueRequest): Promise<IssueResult> {
    const prepared = this.#prepareIssue(request);
    return this.#write('numbering a certificate', () => this.#issueOne(prepared));
  }

  async issueMany(requests: readonly IssueRequest[]): Promise<IssueResult[]> {
    if (requests.length === 0) return [];
    const prepared = requests.map((r) => this.#prepareIssue(r));
    return this.#write(`numbering ${requests.length} certificates`, () => prepared.map((p) => this.#issueOne(p)));
  }

  /** Checks a request and builds what numbering needs before any transaction: a bad profile fails without touching the file. */
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
  #issueOne(p: PreparedIssue): IssueResult {
    const { request: { issuer, person, year, batchId, at }, qualification, rule, prefix, key, printed, operator } = p;
    const existing = this.#q.live.get(key, qualification.occupation, qualification.job, qualification.level);
    if (existing) return { created: false, certificate: toRecord(existing) };

    const { last_serial: serial } = this.#q.nextSerial.get(prefix, rule.id) as { last_serial: number };
    // Past the rule's maximum this throws, and the transaction rolls the counter back with it.
    const number = rule.withSerial(prefix, serial);
    this.#faults.afterSerial?.(number);
    const stockSerial = this.#takeStock(issuer);
    this.#q.insert.run({
      number,
      rule: rule.id,
      prefix,
      serial,
      stockSerial,
      profileId: issuer.id,
      batchId,
      year,
      personKey: key,
      idType: person.idType,
      idNo: person.idNo.trim(),
      occupation: qualification.occupation,
      job: qualification.job,
      level: qualification.level,
      printed,
      numberedAt: at.toISOString(),
    });
    this.#append({
      at: at.toISOString(),
      operator,
      action: 'issue',
      number,
      beforeSha256: null,
      afterSha256: null,
      changes: [
        { field: 'status', before: null, after: 'numbered' },
        { field: 'stockSerial', before: null, after: stockSerial },
      ],
      reason: `batch ${batchId}`,
    });
    return { created: true, certificate: toRecord(this.#q.byNumber.get(number) as CertRow) };
  }

  /** The next blank-stock serial of the profile; runs inside the numbering transaction. */
  #takeStock(issuer: RegistryIssuer): string {
    const { from, to, digits } = issuer.stock;
    const last = this.#q.lastStock.get(issuer.id)?.last_stock;
    const next = last === undefined ? from : Math.max(last + 1, from);
    if (next > to) {
      throw new SkillcertError(
        'E_REGISTRY',
        `the blank stock of profile ${issuer.id} is used up: serials ${from}-${to} are all taken (last ${last ?? 'none'}); ` +
          'add the range of the next stock delivery to "stock" in the profile',
        { field: 'stock', profileId: issuer.id },
      );
    }
    this.#q.setStock.run(issuer.id, next);
    return String(next).padStart(digits, '0');
  }

  async markIssued(number: string, pdf: PdfDigest, at: Date, options: RecordDigestOptions = {}): Promise<CertificateRecord> {
    const sha256 = checkSha256(pdf.sha256);
    const operator = checkOperator(options.operator, this.#operator);
    return this.#write('recording an issued certificate', () => this.#markIssuedOne(number, { file: pdf.file, sha256 }, at, operator, options.through));
  }

  async markIssuedMany(issued: readonly IssuedPdf[], at: Date, options: WriteOptions = {}): Promise<CertificateRecord[]> {
    if (issued.length === 0) return [];
    const checked = issued.map((i) => ({ number: i.number, pdf: { file: i.pdf.file, sha256: checkSha256(i.pdf.sha256) } }));
    const operator = checkOperator(options.operator, this.#operator);
    return this.#write(`recording ${issued.length} issued certificates`, () => checked.map((i) => this.#markIssuedOne(i.number, i.pdf, at, operator, undefined)));
  }

  /** Records the first PDF of one certificate; runs inside a write transaction. */
  #markIssuedOne(number: string, pdf: PdfDigest, at: Date, operator: string, through: number | undefined): CertificateRecord {
    const { sha256 } = pdf;
    const cert = this.#mustGet(number);
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
    this.#q.setIssued.run(at.toISOString(), number);
    this.#q.addDigest.run(number, 1, sha256, pdf.file, at.toISOString(), null);
    this.#append({
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
    this.#applyPending(number, sha256, at, through);
    return toRecord(this.#mustGet(number));
  }

  async recordDigest(number: string, pdf: PdfDigest, at: Date, reason: string, options: RecordDigestOptions = {}): Promise<CertificateRecord> {
    const sha256 = checkSha256(pdf.sha256);
    const why = requireReason(reason, 'a re-rendered PDF');
    const operator = checkOperator(options.operator, this.#operator);
    return this.#write('recording a re-rendered PDF', () => {
      const cert = this.#mustGet(number);
      if (cert.status === 'revoked') throw revokedError(cert, 'given a new PDF');
      if (cert.status === 'numbered') {
        throw new SkillcertError('E_REGISTRY', `certificate ${number} has no PDF yet; record its first PDF with markIssued`, { number });
      }
      const known = this.#q.digest.get(number, sha256);
      if (known?.state === 'current') return toRecord(cert);
      if (known) {
        throw new SkillcertError(
          'E_REGISTRY',
          `this PDF of certificate ${number} was superseded on ${known.superseded_at ?? '?'}; a superseded PDF does not become current again: render and sign a new one`,
          { number },
        );
      }
      this.#q.supersedeCurrent.run(at.toISOString(), why, number);
      const { v } = this.#q.nextVersion.get(number) as { v: number };
      this.#q.addDigest.run(number, v, sha256, pdf.file, at.toISOString(), why);
      this.#append({
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
      this.#applyPending(number, sha256, at, options.through);
      return toRecord(this.#mustGet(number));
    });
  }

  async supersedeDigest(number: string, sha256: string, at: Date, reason: string, options: WriteOptions = {}): Promise<void> {
    const digest = checkSha256(sha256);
    const why = requireReason(reason, 'superseding a PDF');
    const operator = checkOperator(options.operator, this.#operator);
    this.#write('superseding a PDF', () => {
      this.#mustGet(number);
      const known = this.#q.digest.get(number, digest);
      if (!known) {
        throw new SkillcertError('E_REGISTRY', `certificate ${number} was never issued with a PDF of sha256 ${digest.slice(0, 12)}…; check the file`, { number });
      }
      if (known.state !== 'current') return;
      this.#q.supersede.run(at.toISOString(), why, number, digest);
      this.#append({
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
    return this.#write('revoking a certificate', () => {
      const cert = this.#mustGet(number);
      if (cert.status === 'revoked') {
        throw new SkillcertError('E_REGISTRY', `certificate ${number} was already revoked on ${cert.revoked_at ?? '?'}; a revocation is recorded once`, { number });
      }
      // 第十八条: logical only — a status and its reason; the row, its PDFs and its history stay.
      this.#q.revoke.run(at.toISOString(), why, number);
      this.#append({
        at: at.toISOString(),
        operator,
        action: 'revoke',
        number,
        beforeSha256: cert.sha256,
        afterSha256: null,
        changes: [{ field: 'status', before: cert.status, after: 'revoked' }],
        reason: why,
      });
      return toRecord(this.#mustGet(number));
    });
  }

  async correct(number: string, change: CorrectionChange, reason: string, at: Date, operator: string): Promise<PendingRender> {
    const c = checkCorrection(number, change, reason, at, operator);
    return this.#write('recording a correction', () => {
      const cert = this.#mustGet(number);
      if (cert.status === 'revoked') throw revokedError(cert, 'corrected (第十八条: a revoked certificate stays as it was revoked)');
      const refuse = (field: string, message: string): never => {
        throw new SkillcertError('E_REGISTRY', `cannot correct certificate ${number}: ${message}`, { number, field, rule: '第十七条' });
      };

      // 第十七条: 姓名和证件号码，只能更正其中一项 — over the certificate's whole life, not only per request.
      const prior = this.#q.correctionFlags.get(number) as { n: number; names: number; ids: number; first_name: number | null; first_id: number | null };
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
        if (cert.id_type === '201' && !gb11643CheckOk(c.idNo)) {
          refuse('idNo', `the new 居民身份证 number ${maskId(c.idNo)} fails the GB 11643 check digit; check the number on the ID card`);
        }
        key = personKey({ idType: cert.id_type as IdTypeCode, idNo: c.idNo });
        // SPEC §3/§4: one live certificate per person and qualification — also after the person's ID number moves.
        const clash = this.#q.live.get(key, cert.occupation, cert.job, cert.level);
        if (clash && clash.number !== number) {
          refuse('idNo', `the person with ID number ${maskId(c.idNo)} already holds live certificate ${clash.number} for ${cert.occupation} level ${cert.level}; a person holds one live certificate per qualification — check the ID number, or revoke one of the two (第十八条)`);
        }
      }

      const idNoAfter = c.idNo ?? idNoBefore;
      // 第十九条: the reason goes on forms and into the trail; an ID number typed into it is masked.
      const why = scrubIds(c.reason, [idNoBefore, idNoAfter]);
      const nextPrinted = { ...printed, ...(c.name !== undefined && { name: c.name }), ...(c.idNo !== undefined && { idNo: c.idNo }) };
      this.#q.correctCertificate.run(JSON.stringify(nextPrinted), idNoAfter, key, number);

      const changes: AuditChange[] = [
        ...(c.name !== undefined ? [{ field: 'name', before: nameBefore ?? null, after: c.name }] : []),
        ...(c.idNo !== undefined ? [{ field: 'idNo', before: maskId(idNoBefore), after: maskId(c.idNo) }] : []),
        ...(c.photo ? [{ field: 'photo', before: null, after: null }] : []),
      ];
      const entry = this.#append({
        at: at.toISOString(),
        operator: c.operator,
        action: 'correct',
        number,
        beforeSha256: cert.sha256,
        afterSha256: null,
        changes,
        reason: why,
      });
      this.#q.correctionInsert.run({
        number,
        seq: prior.n + 1,
        auditSeq: entry.seq,
        nameChanged: c.name !== undefined ? 1 : 0,
        idChanged: c.idNo !== undefined ? 1 : 0,
        photoChanged: c.photo ? 1 : 0,
        nameBefore: nameBefore ?? null,
        nameAfter: c.name ?? nameBefore ?? null,
        idType: cert.id_type,
        idNoBefore,
        idNoAfter,
        reason: why,
        at: at.toISOString(),
        operator: c.operator,
        supersedes: cert.sha256,
      });
      return this.#pending(number) as PendingRender;
    });
  }

  async reissue(number: string, kind: ReissueKind, at: Date, operator: string, reason?: string): Promise<PendingRender> {
    if (kind !== 'lost' && kind !== 'damaged') {
      throw new SkillcertError('E_USAGE', `Expected the reissue kind lost (补发) or damaged (换发) but received ${String(kind)}`, { field: 'kind' });
    }
    const who = checkOperator(operator, '');
    const date = beijingDate(at);
    const why = reason?.trim() || undefined;
    return this.#write('recording a reissue', () => {
      const cert = this.#mustGet(number);
      if (cert.status === 'revoked') throw revokedError(cert, 'reissued');
      if (cert.status !== 'issued') {
        throw new SkillcertError('E_REGISTRY', `certificate ${number} was never issued (no signed PDF recorded), so there is nothing to reissue (第二十二条); finish its batch instead`, { number });
      }
      const entry = this.#append({
        at: at.toISOString(),
        operator: who,
        action: 'reissue',
        number,
        beforeSha256: cert.sha256,
        afterSha256: null,
        changes: [{ field: 'reissue', before: null, after: `${REISSUE_ZH[kind]} ${date}` }],
        reason: why ?? `第二十二条: ${kind === 'lost' ? '补发, the paper certificate was lost' : '换发, the paper certificate was damaged'}`,
      });
      const { n } = this.#q.reissueCount.get(number) as { n: number };
      this.#q.reissueInsert.run({
        number,
        seq: n + 1,
        auditSeq: entry.seq,
        kind,
        date,
        reason: why ?? null,
        at: at.toISOString(),
        operator: who,
        supersedes: cert.sha256,
      });
      return this.#pending(number) as PendingRender;
    });
  }

  async pendingRender(number: string): Promise<PendingRender | undefined> {
    return this.#snapshot(() => this.#pending(number));
  }

  async pendingRenders(): Promise<PendingRender[]> {
    return this.#snapshot(() =>
      this.#q.pendingNumbers
        .all()
        .map((r) => this.#pending(r.number))
        .filter((p): p is PendingRender => p !== undefined),
    );
  }

  async corrections(filter: CorrectionFilter = {}): Promise<CorrectionWithCertificate[]> {
    return this.#snapshot(() => {
      const rows = this.#q.correctionsFiltered.all({
        number: filter.number ?? null,
        profileId: filter.profileId ?? null,
        from: filter.from?.toISOString() ?? null,
        to: filter.to?.toISOString() ?? null,
      });
      const certs = new Map<string, CertificateRecord>();
      return rows.map((r) => {
        let certificate = certs.get(r.number);
        if (!certificate) certs.set(r.number, (certificate = toRecord(this.#q.byNumber.get(r.number) as CertRow)));
        return { ...toCorrection(r), certificate };
      });
    });
  }

  async reissues(number: string): Promise<ReissueRecord[]> {
    return this.#read(() => this.#q.reissuesOf.all(number).map(toReissue));
  }

  async recordExport(exported: ExportRecord, at: Date, operator: string): Promise<AuditEntry> {
    const sha256 = checkSha256(exported.sha256);
    const who = checkOperator(operator, '');
    const file = exported.file.trim();
    const what = exported.what.trim();
    if (!file || !what) throw new SkillcertError('E_USAGE', 'an export needs the file name and what it is, for the audit trail (第二十条)', { field: file ? 'what' : 'file' });
    return this.#write('recording an export', () =>
      this.#append({
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
    return this.#read(() =>
      this.#q.auditFiltered
        .all({ number: filter.number ?? null, from: filter.from?.toISOString() ?? null, to: filter.to?.toISOString() ?? null })
        .map((row) => {
          const e = decodeAudit(row);
          if ('malformed' in e) {
            throw new SkillcertError('E_REGISTRY', `audit entry ${e.seq} in ${this.target} cannot be read (${e.malformed}); run \`skillcert audit --verify\` and restore the registry from a backup`, { seq: e.seq });
          }
          return e;
        }),
    );
  }

  async verifyAudit(options: AuditCheckOptions = {}): Promise<AuditVerification> {
    return this.#snapshot(() => {
      const checker = new ChainChecker();
      // Streamed: a provincial registry holds millions of entries.
      for (const row of this.#q.auditAll.iterate()) {
        if (checker.push(decodeAudit(row))) break;
      }
      if (checker.broken) return checker.result();
      const head = checker.head;
      // sqlite_sequence remembers the highest seq ever written: entries cut off the end leave it above the head.
      const written = this.#q.auditCounter.get()?.seq ?? 0;
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
        const row = this.#q.auditOne.get(options.anchor.seq);
        const decoded = row && decodeAudit(row);
        const problem = checkAnchor(options.anchor, decoded && !('malformed' in decoded) ? decoded : undefined);
        if (problem) {
          checker.fail(problem);
          return checker.result();
        }
      }
      const dangling = this.#q.danglingRefs.get();
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
    const row = this.#read(() => this.#q.byNumber.get(number));
    return row && toRecord(row);
  }

  async findByPerson(person: PersonId, qualification: Qualification): Promise<CertificateRecord | undefined> {
    const q = normaliseQualification(qualification);
    const row = this.#read(() => this.#q.live.get(personKey(person), q.occupation, q.job, q.level));
    return row && toRecord(row);
  }

  async listBatch(batchId: string): Promise<CertificateRecord[]> {
    return this.#read(() => this.#q.batch.all(batchId)).map(toRecord);
  }

  async digests(number: string): Promise<DigestRecord[]> {
    return this.#read(() => this.#q.digests.all(number)).map(toDigest);
  }

  async status(number: string, sha256?: string): Promise<StatusReport> {
    const digest = sha256 === undefined ? undefined : checkSha256(sha256);
    return this.#read(() => {
      const cert = this.#q.byNumber.get(number);
      if (!cert) return { number, status: 'unknown', ...(digest !== undefined && { digest: 'unknown' }) };
      const known = digest === undefined ? undefined : this.#q.digest.get(number, digest);
      const reissue = this.#q.lastReissue.get(number);
      return {
        number,
        status: cert.status,
        ...(digest !== undefined && { digest: known?.state ?? 'unknown' }),
        ...(cert.sha256 !== null && { currentSha256: cert.sha256 }),
        ...(cert.revoked_at !== null && { revokedAt: cert.revoked_at }),
        ...(cert.revoke_reason !== null && { revokeReason: cert.revoke_reason }),
        ...(cert.corrected ? { corrected: true as const } : {}),
        ...(cert.pending_render ? { pendingRender: true as const } : {}),
        ...(reissue && { lastReissue: { kind: reissue.kind, date: reissue.reissue_date } }),
      };
    });
  }

  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    this.#db.close();
  }

  #mustGet(number: string): CertRow {
    const row = this.#q.byNumber.get(number);
    if (!row) throw new SkillcertError('E_REGISTRY', `no certificate numbered ${number} in the registry ${this.target}; check the number`, { number });
    return row;
  }

  /**
   * Appends one audit entry; only ever called inside #write, so the entry commits with the change it records.
   * seq continues from the highest seq ever written (sqlite_sequence), so entries cut off the end stay a gap.
   */
  #append(draft: AuditDraft): AuditEntry {
    if (!this.#db.inTransaction) throw new Error('audit entries are written only inside the transaction of their change');
    const last = this.#q.auditLast.get();
    const written = this.#q.auditCounter.get()?.seq ?? 0;
    const unhashed = { ...draft, seq: Math.max(written, last?.seq ?? 0) + 1, prevHash: last?.hash ?? GENESIS_HASH };
    const entry: AuditEntry = { ...unhashed, hash: entryHash(unhashed) };
    this.#q.auditInsert.run({ ...entry, changes: JSON.stringify(entry.changes) });
    return entry;
  }

  /** Marks the pending corrections and reissues of a certificate (up to audit seq `through`) as carried by a PDF. */
  #applyPending(number: string, sha256: string, at: Date, through: number | undefined): void {
    const args = { number, sha256, at: at.toISOString(), through: through ?? null };
    this.#q.applyCorrections.run(args);
    this.#q.applyReissues.run(args);
  }

  /** The re-rendering job of a certificate, from what is recorded now; undefined when nothing waits. */
  #pending(number: string): PendingRender | undefined {
    const cert = this.#q.byNumber.get(number);
    if (!cert || cert.status === 'revoked') return undefined;
    const corrections = this.#q.pendingCorrections.all(number).map(toCorrection);
    const reissues = this.#q.pendingReissues.all(number).map(toReissue);
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

  /** Several reads that must agree (one snapshot of the WAL): a deferred read transaction. */
  #snapshot<T>(fn: () => T): T {
    return this.#read(() => this.#db.transaction(fn).deferred());
  }

  #read<T>(fn: () => T): T {
    this.#ensureOpen();
    try {
      return fn();
    } catch (err) {
      throw this.#wrap('reading', err);
    }
  }

  /** One write = one BEGIN IMMEDIATE transaction: all of it commits or none of it does. */
  #write<T>(what: string, fn: () => T): T {
    this.#ensureOpen();
    try {
      return this.#db.transaction(fn).immediate();
    } catch (err) {
      throw this.#wrap(what, err);
    }
  }

  #ensureOpen(): void {
    if (!this.#open) throw new SkillcertError('E_REGISTRY', `the registry ${this.target} is closed; open it again with openRegistry`);
  }

  #wrap(what: string, err: unknown): Error {
    if (err instanceof SkillcertError) return err;
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_BUSY')) {
      return new SkillcertError(
        'E_REGISTRY',
        `the registry ${this.target} stayed locked by another run for more than ${this.#busyTimeoutMs} ms while ${what}; run again when the other run has finished`,
        { code },
        { cause: err },
      );
    }
    // SQLite's own messages name tables and columns, never the values, so no personal data passes through here.
    return new SkillcertError('E_REGISTRY', `registry ${this.target}: ${what} failed: ${(err as Error).message}`, { code }, { cause: err });
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

function requireReason(reason: string, what: string): string {
  const why = reason.trim();
  if (!why) throw new SkillcertError('E_USAGE', `${what} needs a written reason`, { field: 'reason' });
  return why;
}

function revokedError(cert: CertRow, what: string): SkillcertError {
  return new SkillcertError('E_REGISTRY', `certificate ${cert.number} was revoked on ${cert.revoked_at ?? '?'} and cannot be ${what}`, { number: cert.number });
}
