/**
 * The embedded registry: one SQLite file per organisation (SPEC §9), safe for several processes at once. The
 * registry's rules are in sql.ts, shared with PostgreSQL; this is how they run on SQLite:
 *
 * - WAL, so readers (verifiers, reports) never block the writer and the writer never blocks them;
 * - every write is one `BEGIN IMMEDIATE` transaction: it takes the write lock before it reads; a second process
 *   waits (busy_timeout) and then reads what the first committed;
 * - synchronous = FULL: a number that reached a printed PDF must never vanish from the registry on power loss,
 *   or a rerun would hand it out again;
 * - the schema is a list of migrations applied in order and recorded in schema_migrations; version 2 adds the
 *   audit trail (第二十条, append-only and hash-chained, audit.ts), corrections (第十七条) and reissues (第二十二条);
 *   the audit's AUTOINCREMENT makes sqlite_sequence remember the highest seq ever written.
 */
import Database from 'better-sqlite3';
import { SkillcertError } from '../core/errors.js';
import type { OpenOptions } from './contract.js';
import { auditTable, type Migration, V1, V2_AFTER_ISSUE_TABLES, V2_AUDIT_ACTIONS, V2_NAME, V3_AUDIT_ACTIONS, V3_NAME, V3_STATUS_TABLES } from './schema.js';

export type { Migration } from './schema.js';
import { SqlRegistry, type SqlDriver, type SqlRegistryOptions, type SqlTx, type SqlValue } from './sql.js';

/** A SQLite migration: its SQL, and what SQL cannot say (run in the same transaction, after it). */
interface SqliteMigration extends Migration {
  readonly after?: (db: Database.Database) => void;
  /** The step edits the schema text itself (PRAGMA writable_schema), which better-sqlite3 allows only in unsafe mode. */
  readonly editsSchema?: true;
}

/**
 * SQLite cannot ALTER a CHECK constraint. Its documented way for a change that leaves every stored row valid
 * (https://sqlite.org/lang_altertable.html#otheralter, "removing CHECK … constraints") is to edit the table's
 * text in sqlite_schema and bump schema_version; widening the list of actions is such a change. Rebuilding the
 * table instead would fight its own append-only triggers, the corrections' and reissues' foreign keys and
 * sqlite_sequence (the highest audit seq ever written), all of which must survive untouched.
 */
function widenAuditActions(db: Database.Database): void {
  const before = `CHECK (action IN (${V2_AUDIT_ACTIONS}))`;
  const after = `CHECK (action IN (${V3_AUDIT_ACTIONS}))`;
  const version = db.pragma('schema_version', { simple: true }) as number;
  db.pragma('writable_schema = ON');
  try {
    const { changes } = db.prepare(`UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'audit' AND instr(sql, ?) > 0`).run(before, after, before);
    if (changes !== 1) throw new Error('the audit table does not have the CHECK of schema version 2; it was changed behind the registry\'s back');
    db.pragma(`schema_version = ${version + 1}`);
  } finally {
    db.pragma('writable_schema = OFF');
  }
}

/** The schema, oldest first. Never edit an applied migration: add one. */
export const MIGRATIONS: readonly SqliteMigration[] = [
  V1,
  {
    version: 2,
    name: V2_NAME,
    sql: `
      -- seq is AUTOINCREMENT so that sqlite_sequence remembers the highest seq ever written: an entry cut off the
      -- end is then a gap that verifyAudit reports, even after later entries were appended.
      ${auditTable('INTEGER PRIMARY KEY AUTOINCREMENT')}
      -- Append-only in the file too. This stops mistakes and casual edits; it does not stop someone who drops
      -- the triggers, which is what the hash chain is for.
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
      BEGIN SELECT RAISE(ABORT, 'audit entries are append-only (第二十条): an entry is never changed; record a new entry instead'); END;
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
      BEGIN SELECT RAISE(ABORT, 'audit entries are append-only (第二十条): an entry is never deleted'); END;

      ${V2_AFTER_ISSUE_TABLES}
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
  { version: 3, name: V3_NAME, sql: V3_STATUS_TABLES, after: widenAuditActions, editsSchema: true },
];

export const SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

export interface SqliteOptions extends OpenOptions {
  readonly faults?: SqlRegistryOptions['faults'];
}

/** The registry over a SQLite file (the name tests and tools know it by). */
export type SqliteRegistry = SqlRegistry;

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
    // A damaged file must stop the run, not turn the rows stored on a bad page into rejected rows of a batch that
    // then "succeeds": quick_check reads every page (tens of ms for a nightly registry), integrity_check is slower.
    if (path !== ':memory:') {
      const found = (db.pragma('quick_check(5)') as { quick_check: string }[]).map((r) => r.quick_check);
      if (found.join() !== 'ok') {
        throw new SkillcertError('E_REGISTRY', `the registry ${path} is damaged (SQLite quick_check: ${found.join('; ').slice(0, 300)}); nothing was changed — restore it from the last backup, and keep the damaged file for inspection`, { path });
      }
    }
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
  return new SqlRegistry(new SqliteDriver(db, path, busyTimeoutMs), { ...(options.faults && { faults: options.faults }), ...(options.operator !== undefined && { operator: options.operator }) });
}

/** Applies the migrations not yet applied, under the write lock so that two processes opening a new file agree. */
function migrate(db: Database.Database, now: Date): void {
  const applied = db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'`).get()
    ? (db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number }).v
    : 0;
  const unsafe = MIGRATIONS.some((m) => m.editsSchema && m.version > applied);
  if (unsafe) db.unsafeMode(true);
  try {
    migrateSteps(db, now);
  } finally {
    if (unsafe) db.unsafeMode(false);
  }
}

function migrateSteps(db: Database.Database, now: Date): void {
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
      m.after?.(db);
      record.run(m.version, m.name, now.toISOString());
    }
  }).immediate();
}

/** A statement of sql.ts ($1, $2 … placeholders) prepared for better-sqlite3 (plain ?, a parameter repeated as often as it is used). */
interface Prepared {
  readonly statement: Database.Statement;
  /** For each ? in order, the index of its $n parameter. */
  readonly order: readonly number[];
}

/** better-sqlite3 is synchronous: each statement has run by the time its promise is made. */
class SqliteDriver implements SqlDriver {
  readonly auditWrittenSql = `SELECT seq FROM sqlite_sequence WHERE name = 'audit'`;
  readonly #statements = new Map<string, Prepared>();
  readonly beginWrite = ['BEGIN IMMEDIATE'] as const;
  // A deferred transaction reads one snapshot of the WAL from its first read on.
  readonly beginSnapshot = 'BEGIN DEFERRED';
  readonly tx: SqlTx = {
    get: async <R>(sql: string, params: readonly SqlValue[] = []) => this.#bind(sql, params, (s, p) => s.get(...p)) as R | undefined,
    all: async <R>(sql: string, params: readonly SqlValue[] = []) => this.#bind(sql, params, (s, p) => s.all(...p)) as R[],
    run: async (sql: string, params: readonly SqlValue[] = []) => void this.#bind(sql, params, (s, p) => s.run(...p)),
  };

  constructor(
    private readonly db: Database.Database,
    readonly target: string,
    private readonly busyTimeoutMs: number,
  ) {}

  describe(what: string, err: unknown): SkillcertError {
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_BUSY')) {
      return new SkillcertError(
        'E_REGISTRY',
        `the registry ${this.target} stayed locked by another run for more than ${this.busyTimeoutMs} ms while ${what}; run again when the other run has finished`,
        { code },
        { cause: err },
      );
    }
    // SQLite's own messages name tables and columns, never the values, so no personal data passes through here.
    return new SkillcertError('E_REGISTRY', `registry ${this.target}: ${what} failed: ${(err as Error).message}`, { code }, { cause: err });
  }

  async close(): Promise<void> {
    this.db.close();
  }

  #bind<T>(sql: string, params: readonly SqlValue[], call: (s: Database.Statement, p: SqlValue[]) => T): T {
    let prepared = this.#statements.get(sql);
    if (!prepared) {
      const order: number[] = [];
      const text = sql.replace(/\$(\d+)/g, (_, n: string) => (order.push(Number(n) - 1), '?'));
      prepared = { statement: this.db.prepare(text), order };
      this.#statements.set(sql, prepared);
    }
    return call(prepared.statement, prepared.order.map((i) => params[i] ?? null));
  }
}
