/**
 * The shared registry: one PostgreSQL database for several machines (SPEC §9: a provincial centre's batch runs on
 * several machines, numbering stays exactly-once). The registry's rules are in sql.ts, the same as SQLite's;
 * this is how they run on PostgreSQL:
 *
 * - every write transaction first takes one transaction-level advisory lock (REGISTRY_LOCK), the counterpart of
 *   SQLite's BEGIN IMMEDIATE: writers from every machine take turns, so "last serial = 41" is read and 42 written
 *   under the same lock, and the audit chain never forks; readers are never blocked;
 * - a writer waits at most busyTimeoutMs for the lock (lock_timeout), then fails with "locked by another run";
 * - a connection that dies (a machine killed mid-batch) ends its transaction with it: nothing half-numbered stays;
 * - the schema is the same list of versions as SQLite's, written in PostgreSQL's dialect, applied under the lock;
 *   append-only and logical-delete rules are triggers, TRUNCATE included; the highest audit seq ever written is
 *   kept in audit_written by a trigger, in the writing transaction (a sequence would not roll back).
 *
 * Credentials: the URL names host, port, database and user, never the password (a command line is visible to
 * every user of the machine). The password comes from PGPASSWORD or ~/.pgpass, as for psql.
 */
import pg from 'pg';
import { SkillcertError } from '../core/errors.js';
import { registryUrlTarget, type OpenOptions } from './contract.js';
import { auditTable, type Migration, V1, V2_AFTER_ISSUE_TABLES, V2_NAME, V3_AUDIT_ACTIONS, V3_NAME, V3_STATUS_TABLES } from './schema.js';
import { SqlRegistry, type SqlDriver, type SqlRegistryOptions, type SqlTx, type SqlValue } from './sql.js';

export interface PostgresOptions extends OpenOptions {
  readonly faults?: SqlRegistryOptions['faults'];
}

/**
 * The schema, oldest first, version for version the same tables (schema.ts) and rules as sqlite.ts's MIGRATIONS.
 * Never edit an applied migration: add one (to both).
 */
export const PG_MIGRATIONS: readonly Migration[] = [
  V1,
  {
    version: 2,
    name: V2_NAME,
    sql: `
      ${auditTable('BIGINT PRIMARY KEY')}

      -- The highest seq ever written (SQLite's sqlite_sequence): entries cut off the end stay a gap.
      CREATE TABLE audit_written (
        one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
        seq BIGINT NOT NULL
      );
      INSERT INTO audit_written (one, seq) VALUES (TRUE, 0);
      CREATE FUNCTION skillcert_audit_written() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE audit_written SET seq = greatest(seq, NEW.seq);
        RETURN NEW;
      END $$;
      CREATE TRIGGER audit_written AFTER INSERT ON audit FOR EACH ROW EXECUTE FUNCTION skillcert_audit_written();

      -- One refusal for every rule below; the message is the trigger's argument.
      CREATE FUNCTION skillcert_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION USING MESSAGE = TG_ARGV[0], ERRCODE = 'integrity_constraint_violation';
      END $$;
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit FOR EACH ROW
        EXECUTE FUNCTION skillcert_refuse('audit entries are append-only (第二十条): an entry is never changed; record a new entry instead');
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit FOR EACH ROW
        EXECUTE FUNCTION skillcert_refuse('audit entries are append-only (第二十条): an entry is never deleted');
      CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT
        EXECUTE FUNCTION skillcert_refuse('audit entries are append-only (第二十条): an entry is never deleted');
      CREATE TRIGGER audit_written_fixed BEFORE UPDATE OF one ON audit_written FOR EACH ROW
        EXECUTE FUNCTION skillcert_refuse('the audit counter is kept by the registry');
      CREATE TRIGGER audit_written_no_delete BEFORE DELETE ON audit_written FOR EACH ROW
        EXECUTE FUNCTION skillcert_refuse('the audit counter is kept by the registry');

      ${V2_AFTER_ISSUE_TABLES}
      CREATE TRIGGER corrections_fixed BEFORE UPDATE OF number, seq, audit_seq, name_changed, id_changed, photo_changed,
        name_before, name_after, id_type, id_no_before, id_no_after, reason, at, operator, supersedes_sha256 ON corrections FOR EACH ROW
        EXECUTE FUNCTION skillcert_refuse('a recorded correction is never changed (第二十条); record a new correction instead');
      CREATE TRIGGER corrections_applied_once BEFORE UPDATE OF applied_sha256, applied_at ON corrections FOR EACH ROW
        WHEN (OLD.applied_sha256 IS NOT NULL)
        EXECUTE FUNCTION skillcert_refuse('a correction already carried by a PDF stays with that PDF');
      CREATE TRIGGER corrections_no_delete BEFORE DELETE ON corrections FOR EACH ROW
        EXECUTE FUNCTION skillcert_refuse('a recorded correction is never deleted (第二十条)');
      CREATE TRIGGER reissues_fixed BEFORE UPDATE OF number, seq, audit_seq, kind, reissue_date, reason, at, operator, supersedes_sha256 ON reissues FOR EACH ROW
        EXECUTE FUNCTION skillcert_refuse('a recorded reissue is never changed (第二十条)');
      CREATE TRIGGER reissues_applied_once BEFORE UPDATE OF applied_sha256, applied_at ON reissues FOR EACH ROW
        WHEN (OLD.applied_sha256 IS NOT NULL)
        EXECUTE FUNCTION skillcert_refuse('a reissue already carried by a PDF stays with that PDF');
      CREATE TRIGGER reissues_no_delete BEFORE DELETE ON reissues FOR EACH ROW
        EXECUTE FUNCTION skillcert_refuse('a recorded reissue is never deleted (第二十条)');

      CREATE TRIGGER certificates_no_delete BEFORE DELETE ON certificates FOR EACH ROW
        EXECUTE FUNCTION skillcert_refuse('certificate data may only be deleted logically (第十八条): revoke the certificate instead');
      CREATE TRIGGER certificate_digests_no_delete BEFORE DELETE ON certificate_digests FOR EACH ROW
        EXECUTE FUNCTION skillcert_refuse('a PDF digest is never deleted (第十八条); supersede it instead');
      CREATE TRIGGER certificates_no_truncate BEFORE TRUNCATE ON certificates FOR EACH STATEMENT
        EXECUTE FUNCTION skillcert_refuse('certificate data may only be deleted logically (第十八条): revoke the certificate instead');
      CREATE TRIGGER certificate_digests_no_truncate BEFORE TRUNCATE ON certificate_digests FOR EACH STATEMENT
        EXECUTE FUNCTION skillcert_refuse('a PDF digest is never deleted (第十八条); supersede it instead');
      CREATE TRIGGER corrections_no_truncate BEFORE TRUNCATE ON corrections FOR EACH STATEMENT
        EXECUTE FUNCTION skillcert_refuse('a recorded correction is never deleted (第二十条)');
      CREATE TRIGGER reissues_no_truncate BEFORE TRUNCATE ON reissues FOR EACH STATEMENT
        EXECUTE FUNCTION skillcert_refuse('a recorded reissue is never deleted (第二十条)');
    `,
  },
  {
    version: 3,
    name: V3_NAME,
    sql: `
      ${V3_STATUS_TABLES}
      -- The CHECK PostgreSQL named when version 2 made the table.
      ALTER TABLE audit DROP CONSTRAINT audit_action_check;
      ALTER TABLE audit ADD CONSTRAINT audit_action_check CHECK (action IN (${V3_AUDIT_ACTIONS}));
    `,
  },
];

export const PG_SCHEMA_VERSION: number = PG_MIGRATIONS[PG_MIGRATIONS.length - 1]?.version ?? 0;

/** The advisory lock every write transaction holds: one key for the registry, whatever machine writes ('skcr'). */
export const REGISTRY_LOCK = 0x736b6372;

const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

/** BIGINT (audit seq, count(*), sum()) as a JS number: the registry's counts stay far below 2^53. */
const TYPES = new pg.TypeOverrides();
TYPES.setTypeParser(pg.types.builtins.INT8, (text: string) => Number(text));

/** Opens (and creates or migrates the schema of) a PostgreSQL registry. */
export async function openPostgresRegistry(url: string, options: PostgresOptions = {}): Promise<SqlRegistry> {
  const target = registryUrlTarget(url);
  const busyTimeoutMs = Math.max(1, Math.floor(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS));
  const client = new pg.Client({ connectionString: url, types: TYPES, application_name: 'skillcert', connectionTimeoutMillis: 30_000 });
  // A server that goes away between calls fails the next call, not the process.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query(`SET lock_timeout = ${busyTimeoutMs}`);
    await migrate(client, target, options.now ?? new Date());
  } catch (err) {
    await client.end().catch(() => {});
    if (err instanceof SkillcertError) throw err;
    throw new SkillcertError(
      'E_REGISTRY',
      `cannot open the registry ${target}: ${(err as Error).message}; check that the server runs and accepts this user, that the database exists, and the password in PGPASSWORD or ~/.pgpass`,
      { code: (err as { code?: string }).code ?? '' },
    );
  }
  return new SqlRegistry(new PostgresDriver(client, target, busyTimeoutMs), {
    ...(options.faults && { faults: options.faults }),
    ...(options.operator !== undefined && { operator: options.operator }),
  });
}

/** Applies the migrations not yet applied, under the registry lock so that two machines opening a new database agree. */
async function migrate(client: pg.Client, target: string, now: Date): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [REGISTRY_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at TEXT NOT NULL
    )`);
    const v = Number((await client.query<{ v: number }>('SELECT coalesce(max(version), 0) AS v FROM schema_migrations')).rows[0]?.v ?? 0);
    if (v > PG_SCHEMA_VERSION) {
      throw new SkillcertError(
        'E_REGISTRY',
        `the registry ${target} has schema version ${v} but this skillcert knows versions up to ${PG_SCHEMA_VERSION}; use the newer skillcert that wrote it`,
        { field: 'registry' },
      );
    }
    for (const m of PG_MIGRATIONS) {
      if (m.version <= v) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, now.toISOString()]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

/** One connection per registry object; SqlRegistry runs its calls one at a time on it. */
class PostgresDriver implements SqlDriver {
  readonly auditWrittenSql = 'SELECT seq FROM audit_written';
  readonly beginWrite = ['BEGIN', `SELECT pg_advisory_xact_lock(${REGISTRY_LOCK})`] as const;
  readonly beginSnapshot = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';
  readonly tx: SqlTx = {
    get: async <R>(sql: string, params: readonly SqlValue[] = []) => (await this.client.query(sql, params as SqlValue[])).rows[0] as R | undefined,
    all: async <R>(sql: string, params: readonly SqlValue[] = []) => (await this.client.query(sql, params as SqlValue[])).rows as R[],
    run: async (sql: string, params: readonly SqlValue[] = []) => void (await this.client.query(sql, params as SqlValue[])),
  };

  constructor(
    private readonly client: pg.Client,
    readonly target: string,
    private readonly busyTimeoutMs: number,
  ) {}

  describe(what: string, err: unknown): SkillcertError {
    const e = err as { code?: string; message?: string; constraint?: string };
    const code = e.code ?? '';
    if (code === '55P03') {
      return new SkillcertError(
        'E_REGISTRY',
        `the registry ${this.target} stayed locked by another run for more than ${this.busyTimeoutMs} ms while ${what}; run again when the other run has finished`,
        { code },
      );
    }
    // PostgreSQL's messages name constraints, never values; its `detail` may quote a value (an ID number), so the
    // driver's error is not kept as the cause.
    return new SkillcertError('E_REGISTRY', `registry ${this.target}: ${what} failed: ${e.message ?? String(err)}`, {
      code,
      ...(e.constraint && { constraint: e.constraint }),
    });
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}
