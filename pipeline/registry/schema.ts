/**
 * The registry's tables, the same in SQLite and PostgreSQL (both read this SQL): each dialect's migration of the
 * same version runs them, and adds what only it can say (SQLite's AUTOINCREMENT audit and RAISE triggers,
 * PostgreSQL's BIGINT audit, counter table and plpgsql triggers). Never edit a version that has been applied: add one.
 */

/** One schema version of a dialect: applied once, in order, and recorded in schema_migrations. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Version 1: certificates, serial and stock counters, PDF digests. */
const V1_TABLES = `
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
`;

/**
 * Version 2's audit table (第二十条): one entry per change, written in the transaction of the change; seq and prev_hash
 * are set by the writer (they are part of the hash), under the write lock. `seq` is the dialect's key type: SQLite's
 * AUTOINCREMENT (sqlite_sequence then remembers the highest seq ever written), PostgreSQL's BIGINT (its counter is
 * a table of its own).
 */
const V2_AUDIT_ACTIONS_TEXT = `'issue', 'sign', 'correct', 'reissue', 'revoke', 'export', 'supersede'`;
export const auditTable = (seq: string): string => `
      CREATE TABLE audit (
        seq           ${seq},
        at            TEXT NOT NULL,
        operator      TEXT NOT NULL,
        action        TEXT NOT NULL CHECK (action IN (${V2_AUDIT_ACTIONS_TEXT})),
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
`;

/** Version 2, after the audit table: corrections (第十七条) and reissues (第二十二条), each pointing at its audit entry. */
export const V2_AFTER_ISSUE_TABLES = `
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
`;

/** Version 1, the same migration in both dialects. */
export const V1: Migration = { version: 1, name: 'certificates, serial and stock counters, PDF digests', sql: V1_TABLES };

/** Version 2's name in both dialects. */
export const V2_NAME = 'audit trail (hash-chained, append-only), corrections, reissues, no physical deletion';

/**
 * Version 3 (issue 14): status lists. Each certificate gets its organisation's code and a status list index when
 * it is numbered (one counter per organisation code, never reused: a revoked certificate keeps its bit); a
 * suspension (第二十条) is a mark of its own, so lifting it leaves the certificate exactly as it was; the signed
 * lists are kept to be served. Certificates numbered before keep no index (their QR codes carry none).
 * The audit's action CHECK gains 'suspend' and 'lift': each dialect widens it its own way (V3_AUDIT_ACTIONS).
 */
export const V3_STATUS_TABLES = `
      ALTER TABLE certificates ADD COLUMN org_code TEXT;
      ALTER TABLE certificates ADD COLUMN status_index INTEGER CHECK (status_index >= 0);
      ALTER TABLE certificates ADD COLUMN suspended_at TEXT;
      ALTER TABLE certificates ADD COLUMN suspend_reason TEXT;
      CREATE UNIQUE INDEX certificates_status_index ON certificates (org_code, status_index) WHERE status_index IS NOT NULL;
      CREATE INDEX certificates_suspended ON certificates (org_code) WHERE suspended_at IS NOT NULL;
      CREATE INDEX certificates_revoked ON certificates (org_code) WHERE status = 'revoked';

      -- The last status list index of each organisation; taken in the numbering transaction, like the serials.
      CREATE TABLE status_index_counters (
        org_code   TEXT PRIMARY KEY,
        last_index INTEGER NOT NULL CHECK (last_index >= 0)
      );

      -- The signed lists (compact JWS), one per organisation and purpose; revision = the audit head they were read at.
      CREATE TABLE status_lists (
        org_code   TEXT NOT NULL,
        purpose    TEXT NOT NULL CHECK (purpose IN ('revocation', 'suspension')),
        jws        TEXT NOT NULL,
        revision   INTEGER NOT NULL,
        PRIMARY KEY (org_code, purpose)
      );
`;

/** The audit actions up to version 2, and from version 3 on, as the CHECK lists them. */
export const V2_AUDIT_ACTIONS = V2_AUDIT_ACTIONS_TEXT;
export const V3_AUDIT_ACTIONS = `${V2_AUDIT_ACTIONS}, 'suspend', 'lift'`;

export const V3_NAME = 'status lists: organisation code and status list index per certificate, suspension, signed lists; audit actions suspend and lift';
