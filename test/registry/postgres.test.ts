/**
 * The shared registry on a real PostgreSQL server (SPEC §9), started by this file on loopback: the same rules as
 * the SQLite registry (the statements are shared, sql.ts), checked here through every statement family that the
 * two databases could read differently — numbering and its counters, groups, PDFs and their states, corrections,
 * reissues, the audit chain and its tamper checks — plus what only PostgreSQL has: several processes (machines)
 * numbering at once through one server, a client killed mid-transaction, the advisory write lock's timeout, and
 * credentials kept off the command line.
 */
import test from 'ava';
import { SkillcertError } from '../../pipeline/core/errors.js';
import { competition } from '../../pipeline/number/index.js';
import { openRegistry, type Registry, type RegistryIssuer } from '../../pipeline/registry/index.js';
import { openPostgresRegistry, PG_MIGRATIONS, REGISTRY_LOCK } from '../../pipeline/registry/postgres.js';
import { startPostgres, type PgServer } from '../helpers/postgres.js';
import { HISTORY_TIMES, issuedCertificate, NEW_ID, PEOPLE, sha, writeHistory } from '../helpers/registry-after.js';
import { AT, HAIDIAN, personRequest } from '../helpers/registry-fixtures.js';
import { runTogether, runWorker, startWorker } from '../helpers/registry-processes.js';

const { T1, T2, T3 } = HISTORY_TIMES;
let server: PgServer;

test.before(async () => {
  server = await startPostgres();
});
test.after.always(async () => {
  await server?.stop();
});

async function fresh(operator = 'nightly-batch'): Promise<{ url: string; registry: Registry }> {
  const url = await server.createDatabase();
  return { url, registry: await openRegistry(url, { operator }) };
}

/** Runs statements on the database directly, with the registry's rules switched off: tampering behind its back. */
async function tamper(url: string, ...statements: string[]): Promise<void> {
  const c = await server.client(url);
  try {
    await c.query('SET session_replication_role = replica'); // no triggers, no foreign keys
    for (const sql of statements) await c.query(sql);
  } finally {
    await c.end();
  }
}

async function sqlError(url: string, sql: string): Promise<string> {
  const c = await server.client(url);
  try {
    await c.query(sql);
    return 'no error';
  } catch (err) {
    return (err as Error).message;
  } finally {
    await c.end();
  }
}

async function verifyAfter(url: string, anchor?: { seq: number; hash: string }) {
  const registry = await openRegistry(url);
  try {
    return await registry.verifyAudit(anchor ? { anchor } : {});
  } finally {
    await registry.close();
  }
}

test('numbers run per organisation, year and level; a live certificate is returned; competition numbers have J at 17', async (t) => {
  const { registry } = await fresh();
  const numbers = [];
  for (const r of [personRequest(0, 'b1'), personRequest(1, 'b1'), personRequest(3, 'b1'), { ...personRequest(6, 'b1'), year: 2026 }]) {
    numbers.push((await registry.issue(r)).certificate.number);
  }
  t.deepEqual(numbers, ['S000011082003253000001', 'S000011082003254000001', 'S000011082003253000002', 'S000011082003263000001']);
  const other: RegistryIssuer = { ...HAIDIAN, id: 'xicheng-union', numbering: { rule: 'beijing', district: '02', serial: '6001' } };
  const again = await registry.issue({ ...personRequest(0, 'b9', other), person: { idType: '227', idNo: 'e00000000' } });
  t.like(again, { created: false, certificate: { number: numbers[0], batchId: 'b1', profileId: 'haidian-skills' } });
  t.deepEqual((await registry.listBatch('b1')).map((c) => c.number), [...numbers].sort());

  const sichuan: RegistryIssuer = { id: 'sichuan-2025-final', category: 'S', orgCode: '0001', numbering: { rule: 'competition', province: '51', region: '00', issuer: '9999' }, stock: { from: 1, to: 100, digits: 6 } };
  const c = (await registry.issue(personRequest(30, 'c1', sichuan))).certificate;
  t.is(c.number, 'S000151009999253J00001');
  t.true(competition.validate(c.number).ok);
  t.is(c.stockSerial, '000001');
  await registry.close();
});

test('a group is numbered in one transaction: all of it or, when one request fails, none of it', async (t) => {
  const url = await server.createDatabase();
  const registry = await openPostgresRegistry(url, { faults: { afterSerial: (n) => { if (n.endsWith('000002')) throw new Error('disk full'); } } });
  await t.throwsAsync(registry.issueMany([0, 3, 6].map((i) => personRequest(i, 'b1'))), { message: /disk full/ });
  const c = await server.client(url);
  t.deepEqual((await c.query('SELECT count(*)::int AS n FROM certificates')).rows, [{ n: 0 }]);
  t.deepEqual((await c.query('SELECT count(*)::int AS n FROM serial_counters')).rows, [{ n: 0 }], 'the counter rolled back with the group');
  t.deepEqual((await c.query('SELECT count(*)::int AS n FROM audit')).rows, [{ n: 0 }]);
  await c.end();
  const ok = await registry.issueMany([0, 1, 2].map((i) => personRequest(i, 'b1'))); // three levels: serial 1 each
  t.deepEqual(ok.map((r) => r.certificate.number), ['S000011082003253000001', 'S000011082003254000001', 'S000011082003255000001']);
  await registry.close();
});

test('blank stock continues across ranges and a used-up stock or serial range is refused with nothing taken', async (t) => {
  const { registry } = await fresh();
  const small = { ...HAIDIAN, stock: { from: 5, to: 6, digits: 4 } };
  t.is((await registry.issue(personRequest(0, 'b1', small))).certificate.stockSerial, '0005');
  t.is((await registry.issue(personRequest(1, 'b1', small))).certificate.stockSerial, '0006');
  await t.throwsAsync(registry.issue(personRequest(2, 'b1', small)), { instanceOf: SkillcertError, message: /blank stock of profile haidian-skills is used up/ });
  t.is((await registry.issue(personRequest(2, 'b1', { ...small, stock: { from: 100, to: 200, digits: 4 } }))).certificate.stockSerial, '0100');
  await registry.close();
});

test('PDFs: markIssued, a re-rendered PDF superseding the old one, and the verifier\'s current / superseded / unknown', async (t) => {
  const { registry } = await fresh();
  const { number, sha256 } = await issuedCertificate(registry, PEOPLE.li);
  t.like(await registry.markIssued(number, { file: `${number}.pdf`, sha256 }, T1), { status: 'issued', sha256 }, 'repeating is a no-op');
  await t.throwsAsync(registry.markIssued(number, { file: 'x.pdf', sha256: sha('x') }, T1), { message: /already issued with another PDF/ });
  await registry.recordDigest(number, { file: `${number}-r2.pdf`, sha256: sha('v2') }, T1, 'reprint');
  t.like(await registry.status(number, sha256), { status: 'issued', digest: 'superseded', currentSha256: sha('v2') });
  t.like(await registry.status(number, sha('v2')), { digest: 'current' });
  t.like(await registry.status(number, sha('forged')), { digest: 'unknown' });
  t.like(await registry.status('S000011082003259999999'), { status: 'unknown' });
  await registry.supersedeDigest(number, sha('v2'), T2, 'withdrawn');
  t.deepEqual((await registry.digests(number)).map((d) => [d.version, d.state]), [[1, 'superseded'], [2, 'superseded']]);
  await registry.close();
});

test('corrections and reissues: 第十七条 across the certificate\'s life, the person key moving, pending renders after reopening', async (t) => {
  const { url, registry } = await fresh();
  const li = await issuedCertificate(registry, PEOPLE.li);
  const wu = await issuedCertificate(registry, PEOPLE.wu);
  const job = await registry.correct(li.number, { name: '李晓刚' }, '姓名录入错误', T1, 'clerk-wang');
  t.like(job, { next: 'recordDigest', printed: { name: '李晓刚' }, photoChanged: false });
  await t.throwsAsync(registry.correct(li.number, { idNo: NEW_ID }, 'x', T1, 'clerk'), { message: /its name was already corrected/ });
  await registry.correct(wu.number, { idNo: NEW_ID }, `原号码 ${PEOPLE.wu.idNo} 录入错误`, T2, 'clerk-li');
  t.is(await registry.findByPerson({ idType: '201', idNo: PEOPLE.wu.idNo }, { occupation: '电工', job: '', level: 4 }), undefined);
  t.like(await registry.findByPerson({ idType: '201', idNo: NEW_ID }, { occupation: '电工', job: '', level: 4 }), { number: wu.number });
  await registry.close();

  const again = await openRegistry(url);
  t.deepEqual((await again.pendingRenders()).map((p) => p.number), [li.number, wu.number].sort());
  const forms = await again.corrections({ from: T2, profileId: 'haidian-skills' });
  t.deepEqual(forms.map((c) => [c.number, c.fields]), [[wu.number, ['idNo']]]);
  t.false(forms[0]!.reason.includes(PEOPLE.wu.idNo), 'the ID number typed into the reason is masked');
  await again.recordDigest(li.number, { file: `${li.number}-r2.pdf`, sha256: sha('li v2') }, T2, job.reason, { through: job.revision });
  const reissue = await again.reissue(li.number, 'damaged', T3, 'clerk-wang');
  t.like(reissue, { reissue: { kind: 'damaged', date: '2025-08-02' }, next: 'recordDigest' });
  t.like(await again.status(li.number, sha('li v2')), { digest: 'current', corrected: true, pendingRender: true, lastReissue: { kind: 'damaged' } });
  await again.close();
});

test('a realistic history verifies, and audit() filters by number and period', async (t) => {
  const { url, registry } = await fresh();
  const { wu } = await writeHistory(registry);
  t.like(await registry.verifyAudit(), { ok: true, entries: 14 });
  const entries = await registry.audit();
  t.deepEqual(entries.map((e) => e.seq), entries.map((_, k) => k + 1));
  t.deepEqual((await registry.audit({ number: wu })).map((e) => e.action), ['issue', 'sign', 'correct', 'sign', 'revoke']);
  t.is((await registry.audit({ from: T2, to: T3 })).length, 4);
  await registry.close();
  t.true((await verifyAfter(url)).ok);
});

test('the database refuses UPDATE, DELETE and TRUNCATE of the audit and physical deletion of certificates', async (t) => {
  const { url, registry } = await fresh();
  await writeHistory(registry);
  await registry.close();
  t.regex(await sqlError(url, `UPDATE audit SET reason = 'nothing happened' WHERE seq = 7`), /append-only \(第二十条\): an entry is never changed/);
  t.regex(await sqlError(url, 'DELETE FROM audit WHERE seq = 7'), /an entry is never deleted/);
  t.regex(await sqlError(url, 'TRUNCATE audit CASCADE'), /never deleted/);
  t.regex(await sqlError(url, 'DELETE FROM certificates'), /only be deleted logically \(第十八条\)/);
  t.regex(await sqlError(url, 'TRUNCATE certificates CASCADE'), /only be deleted logically|never deleted/);
  t.regex(await sqlError(url, `UPDATE corrections SET name_after = 'x'`), /never changed/);
  t.regex(await sqlError(url, 'UPDATE audit_written SET seq = 0'), /no error/, 'the counter itself can be set back; the chain check still sees the gap below');
  t.true((await verifyAfter(url)).ok);
});

test('tampering behind the registry\'s back is found: an edited field, a deleted entry, a cut-off end, a dangling correction', async (t) => {
  const cases: [string[], object][] = [
    [[`UPDATE audit SET operator = 'someone-else' WHERE seq = 9`], { entries: 8, broken: { seq: 9, kind: 'hash-mismatch' } }],
    [['DELETE FROM audit WHERE seq = 7'], { entries: 6, broken: { seq: 7, kind: 'missing-entry' } }],
    [['DELETE FROM audit WHERE seq >= 13'], { entries: 12, broken: { seq: 13, kind: 'missing-entry' } }],
    [['UPDATE corrections SET audit_seq = 8 WHERE audit_seq = 7'], { broken: { seq: 8, kind: 'dangling-reference' } }],
  ];
  for (const [statements, expected] of cases) {
    const { url, registry } = await fresh();
    await writeHistory(registry);
    await registry.close();
    await tamper(url, ...statements);
    t.like(await verifyAfter(url), { ok: false, ...expected }, statements.join('; '));
  }
});

test('entries cut off the end stay a gap after the registry appended more', async (t) => {
  const { url, registry } = await fresh();
  const { li } = await writeHistory(registry);
  await registry.close();
  await tamper(url, 'DELETE FROM audit WHERE seq >= 13');
  const again = await openRegistry(url);
  await again.reissue(li, 'damaged', T3, 'clerk-wang');
  const result = await again.verifyAudit();
  t.like(result, { ok: false, broken: { seq: 13, kind: 'missing-entry' } });
  if (!result.ok) t.regex(result.broken.message, /audit entries 13-14 are missing: the entries jump from 12 to 15/);
  await again.close();
});

test('two processes numbering at once through one server: no duplicate number, contiguous serials, one audit chain', async (t) => {
  const url = await server.createDatabase();
  // People 100-149 are in both.
  const [a, b] = await runTogether({ db: url, batchId: 'machine-a', from: 0, to: 150 }, { db: url, batchId: 'machine-b', from: 100, to: 250 });

  const c = await server.client(url);
  const rows = (await c.query<{ number: string; prefix: string; serial: number; id_no: string }>('SELECT number, prefix, serial, id_no FROM certificates')).rows;
  const counters = (await c.query<{ prefix: string; last_serial: number }>('SELECT prefix, last_serial FROM serial_counters')).rows;
  await c.end();
  t.is(rows.length, 250, 'each of the 250 people numbered once');
  t.is(new Set(rows.map((r) => r.number)).size, 250);
  t.is(new Set(rows.map((r) => r.id_no)).size, 250);
  for (const { prefix, last_serial } of counters) {
    const serials = rows.filter((r) => r.prefix === prefix).map((r) => r.serial).sort((x, y) => x - y);
    t.deepEqual(serials, serials.map((_, k) => k + 1), `serials of ${prefix} are 1..${last_serial} with no gap`);
    t.is(serials.length, last_serial);
  }
  const shared = [...a, ...b].filter((l) => l.i >= 100 && l.i < 150);
  for (const l of shared) t.is(rows.find((r) => r.id_no === `E${String(l.i).padStart(8, '0')}`)?.number, l.number, 'both processes agree on the number');
  t.like(await verifyAfter(url), { ok: true, entries: 250 });
});

test('a process killed inside a numbering transaction leaves no trace, and the rerun finishes with no gap', async (t) => {
  const url = await server.createDatabase();
  const crashed = startWorker({ db: url, batchId: 'night-1', from: 0, to: 120, crashAtSerialTaken: 50 });
  t.is((await crashed.done).signal, 'SIGKILL');
  t.is(crashed.lines.length, 49);
  t.like(await verifyAfter(url), { ok: true, entries: 49 });
  const rerun = await runWorker({ db: url, batchId: 'night-1-rerun', from: 0, to: 120 });
  t.is(rerun.filter((l) => l.created).length, 71);
  for (const l of crashed.lines) t.is(rerun.find((r) => r.i === l.i)?.number, l.number, 'the numbers handed out before the crash stay');
  const c = await server.client(url);
  const counters = (await c.query<{ n: number; max: number }>('SELECT count(*)::int AS n, sum(last_serial)::int AS max FROM serial_counters')).rows[0];
  await c.end();
  t.is(counters?.max, 120, 'no serial was lost to the killed transaction');
  t.like(await verifyAfter(url), { ok: true, entries: 120 });
});

test('a writer that waits longer than the busy timeout for the write lock says the registry is locked by another run', async (t) => {
  const url = await server.createDatabase();
  const registry = await openPostgresRegistry(url, { busyTimeoutMs: 300 });
  const other = await server.client(url);
  await other.query('BEGIN');
  await other.query('SELECT pg_advisory_xact_lock($1)', [REGISTRY_LOCK]);
  const err = await t.throwsAsync(registry.issue(personRequest(0, 'b1')), { instanceOf: SkillcertError });
  t.regex(err?.message ?? '', /stayed locked by another run for more than 300 ms while numbering a certificate/);
  t.is(await registry.getByNumber('S000011082003253000001'), undefined, 'reads are not blocked');
  await other.query('ROLLBACK');
  await other.end();
  t.is((await registry.issue(personRequest(0, 'b1'))).certificate.serial, 1);
  await registry.close();
});

// Serial (ava runs these before the others): it changes PGPASSWORD, which every other test's connections read.
test.serial('credentials stay off the command line: a URL with a password is refused, and a wrong password is not echoed', async (t) => {
  const url = await server.createDatabase();
  const withPassword = url.replace('skillcert@', `skillcert:${server.password}@`);
  const e1 = await t.throwsAsync(openRegistry(withPassword), { instanceOf: SkillcertError });
  t.is(e1?.code, 'E_USAGE');
  t.regex(e1?.message ?? '', /carries a password; remove it and give it in PGPASSWORD or ~\/.pgpass/);
  t.false(e1?.message.includes(server.password));

  const saved = process.env.PGPASSWORD;
  process.env.PGPASSWORD = 'not-the-password';
  try {
    const e2 = await t.throwsAsync(openRegistry(url), { instanceOf: SkillcertError });
    t.is(e2?.code, 'E_REGISTRY');
    t.regex(e2?.message ?? '', /cannot open the registry postgres:\/\/skillcert@127\.0\.0\.1:\d+\/t\d+_\d+: .*password/);
    t.false(e2?.message.includes('not-the-password'));
  } finally {
    process.env.PGPASSWORD = saved;
  }
  const registry = await openRegistry(url);
  t.regex(registry.target, /^postgres:\/\/skillcert@127\.0\.0\.1:\d+\/t/);
  await registry.close();
});

test('the schema is versioned: every migration recorded once, and a database of a newer skillcert is refused', async (t) => {
  const { url, registry } = await fresh();
  await registry.close();
  await (await openRegistry(url)).close();
  const c = await server.client(url);
  t.deepEqual((await c.query('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r: { version: number }) => r.version), PG_MIGRATIONS.map((m) => m.version));
  await c.query(`INSERT INTO schema_migrations VALUES (99, 'from the future', '2030-01-01T00:00:00Z')`);
  await c.end();
  await t.throwsAsync(openRegistry(url), { message: /schema version 99 but this skillcert knows versions up to 3/ });
});

test('numbering the same roster twice creates nothing new the second time', async (t) => {
  const { registry } = await fresh();
  const first = await registry.issueMany([0, 1, 2, 3].map((i) => personRequest(i, 'b1')));
  const second = await registry.issueMany([0, 1, 2, 3].map((i) => personRequest(i, 'b2')));
  t.deepEqual(second.map((r) => r.created), [false, false, false, false]);
  t.deepEqual(second.map((r) => r.certificate.number), first.map((r) => r.certificate.number));
  const issued = await registry.markIssuedMany(first.map((r) => ({ number: r.certificate.number, pdf: { file: `${r.certificate.number}.pdf`, sha256: sha(r.certificate.number) } })), AT);
  t.true(issued.every((c) => c.status === 'issued'));
  await registry.close();
});
