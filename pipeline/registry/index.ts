/**
 * The certificate registry (SPEC §4, §8, §9): the system of record that hands out certificate numbers exactly
 * once and remembers every certificate, its status and every PDF digest it was issued with.
 *
 * Callers see only this async interface, so the embedded SQLite registry (one machine, sqlite.ts) and the
 * PostgreSQL one (several machines, postgres.ts) are interchangeable; both run the same rules (sql.ts).
 *
 * Personal data: the registry stores the full ID number (it is the system of record) and hands it back in
 * CertificateRecord.idNo. It never logs it and never puts it in an error message; callers that log or report a
 * record mask it with maskId (第十九条).
 *
 * After issue (SPEC §8) is here too, because every change must commit together with its audit entry (第二十条):
 * corrections (第十七条, correct), reissues (第二十二条, reissue), logical revocation (第十八条, revoke), exports
 * (recordExport), and the hash-chained audit trail itself (audit, verifyAudit; entry format in audit.ts). A
 * correction or reissue leaves the certificate `pendingRender` until its re-rendered PDF is recorded: see
 * PendingRender for the correct → render → sign → recordDigest hand-over, and pipeline/after/ for helpers on top.
 */
import { join, resolve } from 'node:path';
import { SkillcertError } from '../core/errors.js';
import { type OpenOptions, type Registry, registryUrlTarget } from './contract.js';

export * from './contract.js';

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/** True when the registry is a PostgreSQL URL (several machines) rather than a SQLite file (one machine). */
export function isRegistryUrl(target: string): boolean {
  return POSTGRES_URL.test(target.trim());
}

/**
 * Where the registry of a command is: a PostgreSQL URL as given, a SQLite path resolved against the working
 * directory, or <out>/registry.sqlite when none is given.
 */
export function registryLocation(given: string | undefined, out: string): string {
  if (given !== undefined && isRegistryUrl(given)) {
    registryUrlTarget(given.trim());
    return given.trim();
  }
  return resolve(given ?? join(out, 'registry.sqlite'));
}

/**
 * Opens the registry at `target`: a SQLite file path (created with its schema when missing) or a PostgreSQL URL
 * postgres://user@host:port/database (SPEC §9; the password from PGPASSWORD or ~/.pgpass, never in the URL).
 */
export async function openRegistry(target: string, options: OpenOptions = {}): Promise<Registry> {
  if (!target.trim()) throw new SkillcertError('E_USAGE', 'no registry given: pass a SQLite file path (e.g. output/registry.sqlite) or a postgres:// URL', { field: 'registry' });
  if (isRegistryUrl(target)) {
    const { openPostgresRegistry } = await import('./postgres.js');
    return openPostgresRegistry(target.trim(), options);
  }
  const { openSqliteRegistry } = await import('./sqlite.js');
  return openSqliteRegistry(target, options);
}

