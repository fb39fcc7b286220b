/**
 * Issue 14, part 3: status list indexes, suspension and lifting, and the stored signed lists — the same scenarios
 * on the embedded SQLite registry and on a real PostgreSQL server (started by this file on loopback), plus the
 * migration of a registry written by schema version 2 on both.
 */
import test, { type ExecutionContext } from 'ava';
import Database from 'better-sqlite3';
import { SkillcertError } from '../../pipeline/core/errors.js';
import { openRegistry, verifierStatus, type Registry, type RegistryIssuer } from '../../pipeline/registry/index.js';
import { PG_MIGRATIONS } from '../../pipeline/registry/postgres.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../pipeline/registry/sqlite.js';
import { startPostgres, type PgServer } from '../helpers/postgres.js';
import { issuedCertificate, PEOPLE, sqlError } from '../helpers/registry-after.js';
import { AT, HAIDIAN, personRequest } from '../helpers/registry-fixtures.js';
import { tempRegistryPath } from '../helpers/registry-processes.js';

const OTHER_ORG: RegistryIssuer = { ...HAIDIAN, id: 'chaoyang-skills', orgCode: '0001', numbering: { rule: 'beijing', district: '05', serial: '2001' } };
const T_SUSPEND = new Date('2025-08-01T01:00:00.000Z');
const T_LIFT = new Date('2025-08-02T01:00:00.000Z');
const T_REVOKE = new Date('2025-08-03T01:00:00.000Z');

let server: PgServer;
test.before(async () => {
  server = await startPostgres();
});
test.after.always(async () => {
  await server?.stop();
});

type Backend = 'sqlite' | 'postgres';
const BACKENDS: readonly Backend[] = ['sqlite', 'postgres'];

async function open(backend: Backend, operator = 'clerk-li'): Promise<{ target: string; registry: Registry }> {
  const target = backend === 'sqlite' ? tempRegistryPath() : await server.createDatabase();
  return { target, registry: await openRegistry(target, { operator }) };
}

const bits = async (r: Registry, purpose: 'revocation' | 'suspension', orgCode = '0000') => (await r.statusListBits(orgCode, purpose)).indexes;

for (const backend of BACKENDS) {
  test(`${backend}: status list indexes are allocated per organisation code from 0, unique, and stable across reruns`, async (t) => {
    const { target, registry } = await open(backend);
    const first = await registry.issueMany([0, 1, 2, 3].map((i) => personRequest(i, 'b1')));
    t.deepEqual(first.map((r) => r.certificate.statusIndex), [0, 1, 2, 3]);
    t.true(first.every((r) => r.certificate.orgCode === '0000'));
    // Another organisation has its own list, starting at 0.
    const other = await registry.issue(personRequest(10, 'b1', OTHER_ORG));
    t.is(other.certificate.statusIndex, 0);
    t.is(other.certificate.orgCode, '0001');
    // The rerun of the batch (another process, the registry opened again) gets the same certificates and indexes.
    await registry.close();
    const again = await openRegistry(target);
    const rerun = await again.issueMany([0, 1, 2, 3, 4].map((i) => personRequest(i, 'b1')));
    t.deepEqual(rerun.map((r) => [r.created, r.certificate.statusIndex]), [[false, 0], [false, 1], [false, 2], [false, 3], [true, 4]]);
    // Revoked and numbered anew: the new certificate gets a new index; the old one keeps its bit (never reused).
    await again.revoke(first[1]!.certificate.number, '第十八条: 取消认定结果', AT);
    const anew = await again.issue(personRequest(1, 'b2'));
    t.true(anew.created);
    t.is(anew.certificate.statusIndex, 5);
    t.is((await again.getByNumber(first[1]!.certificate.number))?.statusIndex, 1);
    const report = await again.status(anew.certificate.number);
    t.like(report, { statusIndex: 5, orgCode: '0000' });
    t.like(await again.statusListBits('0000', 'revocation'), { indexes: [1], highest: 5 });
    t.like(await again.statusListBits('0001', 'revocation'), { indexes: [], highest: 0 });
    t.is((await again.statusListBits('0002', 'revocation')).highest, undefined);
    // The audit entry of the numbering records the index.
    const [issueEntry] = await again.audit({ number: anew.certificate.number });
    t.deepEqual(issueEntry?.changes.find((c) => c.field === 'statusIndex'), { field: 'statusIndex', before: null, after: '5' });
    await again.close();
  });

  test(`${backend}: suspend, lift and revoke each write an audit entry, keep the chain intact and set the list bits`, async (t) => {
    const { registry } = await open(backend);
    const a = await issuedCertificate(registry, PEOPLE.li);
    const b = await issuedCertificate(registry, PEOPLE.wu);
    const ia = (await registry.getByNumber(a.number))!.statusIndex!;
    const ib = (await registry.getByNumber(b.number))!.statusIndex!;
    t.deepEqual([await bits(registry, 'revocation'), await bits(registry, 'suspension')], [[], []]);
    t.is(verifierStatus(await registry.status(a.number)), 'issued');

    const suspended = await registry.suspend(a.number, '第二十条: 筛查预警, 数据可疑', T_SUSPEND);
    t.like(suspended, { status: 'issued', suspendedAt: T_SUSPEND.toISOString(), suspendReason: '第二十条: 筛查预警, 数据可疑' });
    t.deepEqual([await bits(registry, 'revocation'), await bits(registry, 'suspension')], [[], [ia]]);
    t.like(await registry.status(a.number), { status: 'issued', suspendedAt: T_SUSPEND.toISOString() });
    t.is(verifierStatus(await registry.status(a.number)), 'suspended');

    await registry.liftSuspension(a.number, '核查无误', T_LIFT, { operator: 'auditor-zhao' });
    const lifted = await registry.getByNumber(a.number);
    t.is(lifted?.suspendedAt, undefined);
    t.is(lifted?.status, 'issued');
    t.deepEqual(await bits(registry, 'suspension'), []);
    t.is(verifierStatus(await registry.status(a.number)), 'issued');

    // Suspended again, then revoked: revoked is final and ends the suspension (in the same entry).
    await registry.suspend(a.number, '再次预警', T_SUSPEND);
    await registry.suspend(b.number, '再次预警', T_SUSPEND);
    const revoked = await registry.revoke(a.number, '第十八条: 取消认定结果', T_REVOKE);
    t.is(revoked.suspendedAt, undefined);
    t.deepEqual([await bits(registry, 'revocation'), await bits(registry, 'suspension')], [[ia], [ib]]);
    t.is(verifierStatus(await registry.status(a.number)), 'revoked');

    const entries = (await registry.audit({ number: a.number })).map((e) => ({ action: e.action, operator: e.operator, changes: e.changes, reason: e.reason }));
    t.deepEqual(entries.slice(2), [
      { action: 'suspend', operator: 'clerk-li', changes: [{ field: 'suspended', before: null, after: T_SUSPEND.toISOString() }], reason: '第二十条: 筛查预警, 数据可疑' },
      { action: 'lift', operator: 'auditor-zhao', changes: [{ field: 'suspended', before: T_SUSPEND.toISOString(), after: null }], reason: '核查无误' },
      { action: 'suspend', operator: 'clerk-li', changes: [{ field: 'suspended', before: null, after: T_SUSPEND.toISOString() }], reason: '再次预警' },
      {
        action: 'revoke',
        operator: 'clerk-li',
        changes: [{ field: 'status', before: 'issued', after: 'revoked' }, { field: 'suspended', before: T_SUSPEND.toISOString(), after: null }],
        reason: '第十八条: 取消认定结果',
      },
    ]);
    t.like(await registry.verifyAudit(), { ok: true });
    await registry.close();
  });

  test(`${backend}: a suspension is refused without a reason, twice, on a revoked or never-issued certificate; lifting one that is not suspended too`, async (t) => {
    const { registry } = await open(backend);
    const a = await issuedCertificate(registry, PEOPLE.li);
    const numbered = (await registry.issue(personRequest(0, 'b1'))).certificate.number;
    const refused = (message: RegExp) => ({ instanceOf: SkillcertError, message });
    await t.throwsAsync(registry.suspend(a.number, '  ', T_SUSPEND), refused(/needs a written reason/));
    await t.throwsAsync(registry.liftSuspension(a.number, '核查', T_LIFT), refused(/is not suspended/));
    await t.throwsAsync(registry.suspend(numbered, '预警', T_SUSPEND), refused(/never issued/));
    await registry.suspend(a.number, '预警', T_SUSPEND);
    await t.throwsAsync(registry.suspend(a.number, '预警', T_SUSPEND), refused(/already suspended since/));
    await t.throwsAsync(registry.liftSuspension(a.number, '', T_LIFT), refused(/needs a written reason/));
    await registry.revoke(a.number, '第十八条', T_REVOKE);
    await t.throwsAsync(registry.suspend(a.number, '预警', T_SUSPEND), refused(/revoked .* cannot be suspended/));
    await t.throwsAsync(registry.liftSuspension(a.number, '核查', T_LIFT), refused(/it is revoked, which is final/));
    await t.throwsAsync(registry.suspend('S000000000000000000000', '预警', T_SUSPEND), refused(/no certificate numbered/));
    // Refusals wrote nothing.
    t.deepEqual((await registry.audit({ number: a.number })).map((e) => e.action), ['issue', 'sign', 'suspend', 'revoke']);
    await registry.close();
  });

  test(`${backend}: the signed lists are stored per organisation and purpose, and an older revision never replaces a newer one`, async (t) => {
    const { registry } = await open(backend);
    t.is(await registry.statusList('0000', 'revocation'), undefined);
    await registry.putStatusList('0000', 'revocation', 'aaa.bbb.ccc', 5);
    await registry.putStatusList('0000', 'suspension', 'ddd.eee.fff', 5);
    await registry.putStatusList('0000', 'revocation', 'old.old.old', 4);
    t.is(await registry.statusList('0000', 'revocation'), 'aaa.bbb.ccc');
    await registry.putStatusList('0000', 'revocation', 'new.new.new', 6);
    t.is(await registry.statusList('0000', 'revocation'), 'new.new.new');
    t.is(await registry.statusList('0000', 'suspension'), 'ddd.eee.fff');
    t.is(await registry.statusList('0001', 'revocation'), undefined);
    await registry.putStatusList('0001', 'revocation', 'ggg.hhh.iii');
    t.deepEqual(await registry.statusLists(), [
      { orgCode: '0000', purpose: 'revocation', jws: 'new.new.new' },
      { orgCode: '0000', purpose: 'suspension', jws: 'ddd.eee.fff' },
      { orgCode: '0001', purpose: 'revocation', jws: 'ggg.hhh.iii' },
    ]);
    await t.throwsAsync(registry.putStatusList('0000', 'revocation', 'not a jws'), { instanceOf: SkillcertError, message: /not a compact JWS/ });
    await t.throwsAsync(registry.statusList('0000', 'refresh' as 'revocation'), { instanceOf: SkillcertError, message: /revocation or suspension/ });
    await registry.close();
  });
}

/** A certificate row as schema version 2 stored it (no organisation code, no index). */
const V2_CERT = `INSERT INTO certificates (number, rule, prefix, serial, stock_serial, status, profile_id, batch_id, year, person_key,
  id_type, id_no, occupation, job, level, printed, numbered_at, issued_at)
  VALUES ('S000011082003255000001', 'beijing', 'S00001108200325', 1, '00000001', 'issued', 'haidian-skills', 'old', 2025, 'k',
  '227', 'E00000099', '电工', '', 5, '{"name":"旧证"}', '2025-06-30T20:00:00.000Z', '2025-06-30T20:00:00.000Z')`;
const V2_COUNTERS = [
  `INSERT INTO serial_counters (prefix, rule, last_serial) VALUES ('S00001108200325', 'beijing', 1)`,
  `INSERT INTO stock_counters (profile_id, last_stock) VALUES ('haidian-skills', 1)`,
];

async function migratedOldRegistry(t: ExecutionContext, registry: Registry): Promise<void> {
  const old = await registry.getByNumber('S000011082003255000001');
  t.is(old?.statusIndex, undefined, 'a certificate numbered before status lists has no index');
  t.is(old?.orgCode, undefined);
  // The widened audit CHECK: suspend and lift are recorded on the migrated registry.
  await registry.suspend('S000011082003255000001', '第二十条', T_SUSPEND);
  await registry.liftSuspension('S000011082003255000001', '核查无误', T_LIFT);
  const next = await registry.issue(personRequest(7, 'new'));
  t.is(next.certificate.statusIndex, 0);
  t.like(await registry.verifyAudit(), { ok: true });
}

test('sqlite: a registry file of schema version 2 is migrated to version 3 and keeps its certificates', async (t) => {
  const path = tempRegistryPath();
  const db = new Database(path);
  db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  for (const m of MIGRATIONS.slice(0, 2)) {
    db.exec(m.sql);
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, AT.toISOString());
  }
  db.exec(V2_CERT);
  for (const sql of V2_COUNTERS) db.exec(sql);
  db.close();

  const registry = await openRegistry(path, { operator: 'clerk-li', now: T_SUSPEND });
  await migratedOldRegistry(t, registry);
  await registry.close();
  const check = new Database(path, { readonly: true });
  t.deepEqual(check.prepare('SELECT version FROM schema_migrations ORDER BY version').all(), [{ version: 1 }, { version: 2 }, { version: 3 }]);
  t.is(SCHEMA_VERSION, 3);
  t.deepEqual(check.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
  check.close();
  // Still a CHECK: an action nobody knows is refused by the file itself, and the append-only trigger is still there.
  const raw = new Database(path);
  t.regex(sqlError(() => raw.exec(`INSERT INTO audit (at, operator, action, changes, prev_hash, hash) VALUES ('x', 'x', 'erase', '[]', 'x', 'x')`)), /CHECK constraint failed/);
  t.regex(sqlError(() => raw.exec(`UPDATE audit SET reason = 'x'`)), /append-only/);
  raw.close();
});

test('postgres: a database of schema version 2 is migrated to version 3 and keeps its certificates', async (t) => {
  const url = await server.createDatabase();
  const c = await server.client(url);
  await c.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  for (const m of PG_MIGRATIONS.slice(0, 2)) {
    await c.query(m.sql);
    await c.query('INSERT INTO schema_migrations VALUES ($1, $2, $3)', [m.version, m.name, AT.toISOString()]);
  }
  await c.query(V2_CERT);
  for (const sql of V2_COUNTERS) await c.query(sql);
  const registry = await openRegistry(url, { operator: 'clerk-li', now: T_SUSPEND });
  await migratedOldRegistry(t, registry);
  await registry.close();
  t.deepEqual((await c.query('SELECT version FROM schema_migrations ORDER BY version')).rows, [{ version: 1 }, { version: 2 }, { version: 3 }]);
  const err = await c.query(`INSERT INTO audit (seq, at, operator, action, changes, prev_hash, hash) VALUES (99, 'x', 'x', 'erase', '[]', 'x', 'x')`).then(() => 'no error', (e: Error) => e.message);
  t.regex(err, /audit_action_check/);
  await c.end();
});

test('the verifier is told one word: revoked, then suspended, then reissued or corrected, else issued; nothing for unknown or numbered', (t) => {
  const issued = { status: 'issued' as const };
  t.is(verifierStatus(issued), 'issued');
  t.is(verifierStatus({ ...issued, corrected: true }), 'corrected');
  t.is(verifierStatus({ ...issued, corrected: true, lastReissue: { kind: 'lost', date: '2025-08-01' } }), 'reissued');
  t.is(verifierStatus({ ...issued, corrected: true, suspendedAt: '2025-08-01T00:00:00Z' }), 'suspended');
  t.is(verifierStatus({ status: 'revoked', suspendedAt: '2025-08-01T00:00:00Z' }), 'revoked');
  t.is(verifierStatus({ status: 'numbered' }), undefined);
  t.is(verifierStatus({ status: 'unknown' }), undefined);
});
