/**
 * The embedded registry: one SQLite file per organisation (SPEC §9), safe for several processes at once.
 *
 * - WAL, so readers (verifiers, reports) never block the writer and the writer never blocks them;
 * - every write is one `BEGIN IMMEDIATE` transaction: it takes the write lock before it reads, so two runs
 *   cannot both read "last serial = 41" and both hand out 42; the loser waits (busy_timeout) and then reads 42;
 * - synchronous = FULL: a number that reached a printed PDF must never vanish from the registry on power loss,
 *   or a rerun would hand it out again;
 * - the schema is a list of migrations applied in order and recorded in schema_migrations, so the audit
 *   table (SPEC §8, append-only and hash-chained) is one more entry in MIGRATIONS; every write goes through
 *   #write, the one place where an audit entry can join the same transaction as the change it records.
 */
import Database from 'better-sqlite3';
import { SkillcertError } from '../errors.js';
import { ruleFor } from '../number/index.js';
import type { IdTypeCode, LevelCode } from '../record.js';
import {
  checkIssueRequest,
  checkSha256,
  normaliseQualification,
  personKey,
  type CertificateRecord,
  type CertificateStatus,
  type DigestRecord,
  type DigestState,
  type IssueRequest,
  type IssueResult,
  type OpenOptions,
  type PdfDigest,
  type PersonId,
  type Qualification,
  type Registry,
  type RegistryIssuer,
  type StatusReport,
} from './index.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * The schema, oldest first. Never edit an applied migration: add one. Version 2 is meant to be the audit log
 * (SPEC §8: who, when, what, why, previous hash, hash; with triggers refusing UPDATE and DELETE).
 */
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
  SELECT c.*, d.file AS file, d.sha256 AS sha256
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
  };
}

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
  return new SqliteRegistry(db, path, busyTimeoutMs, options.faults ?? {});
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

/** Made by openSqliteRegistry (or openRegistry), which opens, configures and migrates the file first. */
export class SqliteRegistry implements Registry {
  #db: Database.Database;
  #open = true;
  readonly #busyTimeoutMs: number;
  readonly #faults: NonNullable<SqliteOptions['faults']>;
  readonly #q;

  constructor(db: Database.Database, readonly target: string, busyTimeoutMs: number, faults: NonNullable<SqliteOptions['faults']>) {
    this.#db = db;
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#faults = faults;
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
    };
  }

  async issue(request: IssueRequest): Promise<IssueResult> {
    checkIssueRequest(request);
    const { issuer, person, year, batchId, at } = request;
    const qualification = normaliseQualification(request.qualification);
    const rule = ruleFor(issuer);
    // Built before the transaction: a profile that cannot make a valid number fails without touching the file.
    const prefix = rule.prefix(issuer, year, qualification.level);
    const key = personKey(person);
    const printed = JSON.stringify(request.printed);
    checkStockRange(issuer);

    return this.#write('numbering a certificate', () => {
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
      return { created: true, certificate: toRecord(this.#q.byNumber.get(number) as CertRow) };
    });
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

  async markIssued(number: string, pdf: PdfDigest, at: Date): Promise<CertificateRecord> {
    const sha256 = checkSha256(pdf.sha256);
    return this.#write('recording an issued certificate', () => {
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
      return toRecord(this.#mustGet(number));
    });
  }

  async recordDigest(number: string, pdf: PdfDigest, at: Date, reason: string): Promise<CertificateRecord> {
    const sha256 = checkSha256(pdf.sha256);
    const why = requireReason(reason, 'a re-rendered PDF');
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
      return toRecord(this.#mustGet(number));
    });
  }

  async supersedeDigest(number: string, sha256: string, at: Date, reason: string): Promise<void> {
    const digest = checkSha256(sha256);
    const why = requireReason(reason, 'superseding a PDF');
    this.#write('superseding a PDF', () => {
      this.#mustGet(number);
      const known = this.#q.digest.get(number, digest);
      if (!known) {
        throw new SkillcertError('E_REGISTRY', `certificate ${number} was never issued with a PDF of sha256 ${digest.slice(0, 12)}…; check the file`, { number });
      }
      if (known.state === 'current') this.#q.supersede.run(at.toISOString(), why, number, digest);
    });
  }

  async revoke(number: string, reason: string, at: Date): Promise<CertificateRecord> {
    const why = requireReason(reason, 'a revocation (第十八条)');
    return this.#write('revoking a certificate', () => {
      const cert = this.#mustGet(number);
      if (cert.status === 'revoked') {
        throw new SkillcertError('E_REGISTRY', `certificate ${number} was already revoked on ${cert.revoked_at ?? '?'}; a revocation is recorded once`, { number });
      }
      this.#q.revoke.run(at.toISOString(), why, number);
      return toRecord(this.#mustGet(number));
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
      return {
        number,
        status: cert.status,
        ...(digest !== undefined && { digest: known?.state ?? 'unknown' }),
        ...(cert.sha256 !== null && { currentSha256: cert.sha256 }),
        ...(cert.revoked_at !== null && { revokedAt: cert.revoked_at }),
        ...(cert.revoke_reason !== null && { revokeReason: cert.revoke_reason }),
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
