import test from 'ava';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { SkillcertError } from '../../pipeline/core/errors.js';
import { competition } from '../../pipeline/number/index.js';
import { openRegistry, personKey, type RegistryIssuer } from '../../pipeline/registry/index.js';
import { MIGRATIONS, openSqliteRegistry, SCHEMA_VERSION } from '../../pipeline/registry/sqlite.js';
import { AT, HAIDIAN, personRequest } from '../helpers/registry-fixtures.js';
import { tempRegistryPath } from '../helpers/registry-processes.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const LATER = new Date('2025-08-01T08:00:00.000Z');

async function fresh() {
  const path = tempRegistryPath();
  return { path, registry: await openRegistry(path) };
}

test('the first certificate of an organisation, year and level gets serial 1 under the Beijing rule', async (t) => {
  const { registry } = await fresh();
  const { created, certificate: c } = await registry.issue(personRequest(2, 'b1')); // person 2 is level 5
  t.true(created);
  t.is(c.number, 'S000011082003255000001');
  t.is(c.serial, 1);
  t.is(c.status, 'numbered');
  t.is(c.stockSerial, '00000001');
  t.is(c.profileId, 'haidian-skills');
  t.is(c.batchId, 'b1');
  t.is(c.numberedAt, AT.toISOString());
  await registry.close();
});

test('serials run per level and per year: each sequence starts at 1', async (t) => {
  const { registry } = await fresh();
  const l3 = await registry.issue(personRequest(0, 'b1'));
  const l4 = await registry.issue(personRequest(1, 'b1'));
  const l3b = await registry.issue(personRequest(3, 'b1'));
  const nextYear = await registry.issue({ ...personRequest(6, 'b1'), year: 2026 });
  t.deepEqual(
    [l3, l4, l3b, nextYear].map((r) => r.certificate.number),
    ['S000011082003253000001', 'S000011082003254000001', 'S000011082003253000002', 'S000011082003263000001'],
  );
  await registry.close();
});

test('a person holding a live certificate for the same qualification gets it back, from whichever organisation issued it', async (t) => {
  const { registry } = await fresh();
  const first = await registry.issue(personRequest(5, 'b1'));
  const other: RegistryIssuer = { ...HAIDIAN, id: 'xicheng-union', numbering: { rule: 'beijing', district: '02', serial: '6001' } };
  const again = await registry.issue(personRequest(5, 'b9', other));
  t.false(again.created);
  t.is(again.certificate.number, first.certificate.number);
  t.is(again.certificate.batchId, 'b1');
  t.is(again.certificate.profileId, 'haidian-skills');
  t.is(again.certificate.status, 'numbered');
  await registry.close();
});

test('the same ID typed with a lower-case letter and a job written —— are the same person and qualification', async (t) => {
  const { registry } = await fresh();
  const base = personRequest(0, 'b1');
  const first = await registry.issue({ ...base, person: { idType: '201', idNo: '11010119900307451X' } });
  const again = await registry.issue({ ...base, person: { idType: '201', idNo: ' 11010119900307451x' }, qualification: { ...base.qualification, job: '——' } });
  t.false(again.created);
  t.is(again.certificate.number, first.certificate.number);
  t.is(first.certificate.personKey, createHash('sha256').update('201|11010119900307451X').digest('hex'));
  t.is(personKey({ idType: '201', idNo: '11010119900307451x' }), first.certificate.personKey);
  t.is(first.certificate.idNo, '11010119900307451X', 'the ID number is kept for the system of record');
  await registry.close();
});

test('the same person at another level, or in another occupation, gets a new certificate', async (t) => {
  const { registry } = await fresh();
  const base = personRequest(0, 'b1');
  const a = await registry.issue(base);
  const b = await registry.issue({ ...base, qualification: { ...base.qualification, level: 2 } });
  const c = await registry.issue({ ...base, qualification: { ...base.qualification, occupation: '焊工' } });
  t.true(b.created && c.created);
  t.is(new Set([a, b, c].map((r) => r.certificate.number)).size, 3);
  t.is((await registry.findByPerson(base.person, { ...base.qualification, level: 2 }))?.number, b.certificate.number);
  t.is(await registry.findByPerson(base.person, { ...base.qualification, level: 1 }), undefined);
  await registry.close();
});

test('a revoked certificate stays on record, is reported revoked, and no longer blocks a new one', async (t) => {
  const { registry } = await fresh();
  const req = personRequest(0, 'b1');
  const old = await registry.issue(req);
  await t.throwsAsync(registry.revoke(old.certificate.number, '  ', LATER), { message: /needs a written reason/ });
  const revoked = await registry.revoke(old.certificate.number, '第十八条: obtained by fraud', LATER);
  t.is(revoked.status, 'revoked');
  t.is(revoked.revokeReason, '第十八条: obtained by fraud');
  await t.throwsAsync(registry.revoke(old.certificate.number, 'again', LATER), { message: /already revoked/ });
  t.like(await registry.status(old.certificate.number), { status: 'revoked', revokedAt: LATER.toISOString() });

  const fresh2 = await registry.issue({ ...req, batchId: 'b2' });
  t.true(fresh2.created);
  t.is(fresh2.certificate.serial, 2, 'the revoked number is never handed out again');
  t.is((await registry.getByNumber(old.certificate.number))?.status, 'revoked');
  await t.throwsAsync(registry.markIssued(old.certificate.number, { file: 'x.pdf', sha256: sha('x') }, LATER), { message: /revoked/ });
  await registry.close();
});

test('markIssued records the signed PDF as current; repeating it is a no-op and another PDF is refused', async (t) => {
  const { registry } = await fresh();
  const { certificate: c } = await registry.issue(personRequest(0, 'b1'));
  const pdf = { file: `${c.number}.pdf`, sha256: sha('pdf v1').toUpperCase() };
  const issued = await registry.markIssued(c.number, pdf, LATER);
  t.is(issued.status, 'issued');
  t.is(issued.issuedAt, LATER.toISOString());
  t.is(issued.sha256, sha('pdf v1'), 'stored as lower-case hex');
  t.is(issued.file, pdf.file);
  t.deepEqual(await registry.markIssued(c.number, pdf, LATER), issued);
  await t.throwsAsync(registry.markIssued(c.number, { file: 'other.pdf', sha256: sha('other') }, LATER), { message: /recordDigest/ });
  await t.throwsAsync(registry.markIssued('S000011082003253999999', pdf, LATER), { message: /no certificate numbered S000011082003253999999/ });
  await t.throwsAsync(registry.markIssued(c.number, { file: 'x.pdf', sha256: 'abc' }, LATER), { message: /64 hex digits/ });
  await registry.close();
});

test('a re-rendered PDF becomes current and the old one superseded, and the verifier tells current, superseded and unknown', async (t) => {
  const { registry } = await fresh();
  const { certificate: c } = await registry.issue(personRequest(0, 'b1'));
  await t.throwsAsync(registry.recordDigest(c.number, { file: 'v1.pdf', sha256: sha('v1') }, LATER, 'x'), { message: /markIssued/ });
  await registry.markIssued(c.number, { file: 'v1.pdf', sha256: sha('v1') }, AT);
  await t.throwsAsync(registry.recordDigest(c.number, { file: 'v2.pdf', sha256: sha('v2') }, LATER, ''), { message: /written reason/ });
  const after = await registry.recordDigest(c.number, { file: 'v2.pdf', sha256: sha('v2') }, LATER, '第十七条: name corrected');
  t.is(after.sha256, sha('v2'));
  t.is(after.status, 'issued');

  const history = await registry.digests(c.number);
  t.deepEqual(
    history.map((d) => [d.version, d.file, d.state]),
    [
      [1, 'v1.pdf', 'superseded'],
      [2, 'v2.pdf', 'current'],
    ],
  );
  t.is(history[0]?.supersededReason, '第十七条: name corrected');
  t.is(history[1]?.reason, '第十七条: name corrected');

  t.deepEqual(await registry.status(c.number, sha('v2')), { number: c.number, status: 'issued', digest: 'current', currentSha256: sha('v2'), orgCode: '0000', statusIndex: 0 });
  t.like(await registry.status(c.number, sha('v1')), { status: 'issued', digest: 'superseded' });
  t.like(await registry.status(c.number, sha('forged')), { status: 'issued', digest: 'unknown' });
  t.deepEqual(await registry.status('S000011082003253999999', sha('v2')), { number: 'S000011082003253999999', status: 'unknown', digest: 'unknown' });
  await t.throwsAsync(registry.recordDigest(c.number, { file: 'v1.pdf', sha256: sha('v1') }, LATER, 'back'), { message: /does not become current again/ });
  await registry.close();
});

test('supersedeDigest withdraws a PDF without a replacement and keeps it on record', async (t) => {
  const { registry } = await fresh();
  const { certificate: c } = await registry.issue(personRequest(0, 'b1'));
  await registry.markIssued(c.number, { file: 'v1.pdf', sha256: sha('v1') }, AT);
  await registry.supersedeDigest(c.number, sha('v1'), LATER, 'photo to be corrected');
  const now = await registry.getByNumber(c.number);
  t.is(now?.sha256, undefined);
  t.like(await registry.status(c.number, sha('v1')), { digest: 'superseded' });
  await t.throwsAsync(registry.supersedeDigest(c.number, sha('never'), LATER, 'x'), { message: /never issued with a PDF/ });
  await registry.close();
});

test('listBatch returns what a batch numbered, in number order', async (t) => {
  const { registry } = await fresh();
  for (let i = 0; i < 6; i++) await registry.issue(personRequest(i, i < 4 ? 'b1' : 'b2'));
  const b1 = await registry.listBatch('b1');
  t.deepEqual(
    b1.map((c) => c.number),
    ['S000011082003253000001', 'S000011082003253000002', 'S000011082003254000001', 'S000011082003255000001'],
  );
  t.is((await registry.listBatch('b2')).length, 2);
  await registry.close();
});

test('blank-stock serials are formatted with the profile digits and continue when a new range is added', async (t) => {
  const { registry } = await fresh();
  const small: RegistryIssuer = { ...HAIDIAN, stock: { from: 88888887, to: 88888888, digits: 8 } };
  const a = await registry.issue(personRequest(0, 'b1', small));
  const b = await registry.issue(personRequest(1, 'b1', small));
  t.deepEqual([a.certificate.stockSerial, b.certificate.stockSerial], ['88888887', '88888888']);

  const err = await t.throwsAsync(registry.issue(personRequest(2, 'b1', small)), { instanceOf: SkillcertError });
  t.is(err?.code, 'E_REGISTRY');
  t.regex(err?.message ?? '', /blank stock of profile haidian-skills is used up: serials 88888887-88888888.*add the range/);
  t.is(await registry.findByPerson(personRequest(2, 'b1').person, personRequest(2, 'b1').qualification), undefined, 'nothing numbered');

  // A new delivery whose range overlaps the old one continues after the last sheet used.
  const more: RegistryIssuer = { ...HAIDIAN, stock: { from: 88888800, to: 88889999, digits: 8 } };
  const c = await registry.issue(personRequest(2, 'b1', more));
  t.is(c.certificate.stockSerial, '88888889');
  t.is(c.certificate.number, 'S000011082003255000001', 'the failed attempt took no certificate serial');
  await registry.close();
});

test('a stock range wider than its digits is a profile error before anything is numbered', async (t) => {
  const { registry } = await fresh();
  const wide: RegistryIssuer = { ...HAIDIAN, stock: { from: 1, to: 123456789, digits: 8 } };
  await t.throwsAsync(registry.issue(personRequest(0, 'b1', wide)), { message: /"stock.digits" is 8/ });
  await registry.close();
});

test('a serial past the rule maximum is a clear error and leaves the counter where it was', async (t) => {
  const { path, registry } = await fresh();
  await registry.issue(personRequest(0, 'b1'));
  const raw = new Database(path);
  raw.prepare('UPDATE serial_counters SET last_serial = 999999').run();
  raw.close();
  const err = await t.throwsAsync(registry.issue(personRequest(3, 'b1')), { instanceOf: SkillcertError });
  t.is(err?.code, 'E_REGISTRY');
  t.regex(err?.message ?? '', /no certificate serial left for S000011082003253: .*999999/);
  await registry.close();
  const check = new Database(path, { readonly: true });
  t.is((check.prepare('SELECT last_serial FROM serial_counters').get() as { last_serial: number }).last_serial, 999999);
  t.is((check.prepare('SELECT count(*) AS n FROM certificates').get() as { n: number }).n, 1);
  check.close();
});

test('a competition profile numbers with J at position 17 and five-digit serials', async (t) => {
  const { registry } = await fresh();
  const sichuan: RegistryIssuer = { id: 'sichuan-2025-final', category: 'S', orgCode: '0001', numbering: { rule: 'competition', province: '51', region: '00', issuer: '9999' }, stock: { from: 1, to: 100, digits: 8 } };
  const a = await registry.issue(personRequest(0, 'c1', sichuan));
  const b = await registry.issue(personRequest(3, 'c1', sichuan));
  t.deepEqual([a.certificate.number, b.certificate.number], ['S000151009999253J00001', 'S000151009999253J00002']);
  t.is(a.certificate.rule, 'competition');
  t.true(competition.validate(b.certificate.number).ok);
  await registry.close();
});

test('a profile whose numbering cannot make a valid number is refused before the registry is touched', async (t) => {
  const { registry } = await fresh();
  const bad: RegistryIssuer = { ...HAIDIAN, numbering: { rule: 'beijing', district: '03', serial: '2003' } };
  const err = await t.throwsAsync(registry.issue(personRequest(0, 'b1', bad)), { instanceOf: SkillcertError });
  t.is(err?.code, 'E_PROFILE');
  t.is(err?.details.field, 'numbering.district');
  await registry.close();
});

test('a malformed request is refused without putting the ID number in the message', async (t) => {
  const { registry } = await fresh();
  const base = personRequest(0, 'b1');
  const err = await t.throwsAsync(registry.issue({ ...base, batchId: ' ' }), { instanceOf: SkillcertError });
  t.is(err?.code, 'E_USAGE');
  t.false(err?.message.includes(base.person.idNo));
  await t.throwsAsync(registry.issue({ ...base, person: { idType: '999' as '201', idNo: base.person.idNo } }), { message: /ID type 999/ });
  await t.throwsAsync(registry.issue({ ...base, person: { idType: '201', idNo: '  ' } }), { message: /ID number is empty/ });
  await registry.close();
});

test('a PostgreSQL URL carrying a password, in its user part or as a parameter, is refused without echoing it', async (t) => {
  for (const url of ['postgres://issuer:s3cret@db.example/skillcert', 'postgresql://issuer@db.example/skillcert?password=s3cret']) {
    const err = await t.throwsAsync(openRegistry(url), { instanceOf: SkillcertError });
    t.is(err?.code, 'E_USAGE');
    t.regex(err?.message ?? '', /issuer@db\.example carries a password; remove it and give it in PGPASSWORD/);
    t.false(err?.message.includes('s3cret'));
  }
});

test('a file that is not a registry is refused with the path and what to check', async (t) => {
  const path = tempRegistryPath();
  writeFileSync(path, 'this is a roster, not a database, and it is long enough to have a header page '.repeat(20));
  const err = await t.throwsAsync(openRegistry(path), { instanceOf: SkillcertError });
  t.is(err?.code, 'E_REGISTRY');
  t.regex(err?.message ?? '', /cannot open the registry .*registry\.sqlite.*skillcert registry/);
});

test('the schema is versioned: a new file records every migration once, and a newer file is refused', async (t) => {
  const { path, registry } = await fresh();
  await registry.close();
  await (await openSqliteRegistry(path)).close(); // reopening an up-to-date file applies nothing
  const raw = new Database(path);
  t.deepEqual(
    (raw.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version),
    MIGRATIONS.map((m) => m.version),
  );
  t.is(raw.pragma('journal_mode', { simple: true }), 'wal');
  raw.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(SCHEMA_VERSION + 1, 'from the future', AT.toISOString());
  raw.close();
  await t.throwsAsync(openSqliteRegistry(path), { message: new RegExp(`schema version ${SCHEMA_VERSION + 1} but this skillcert knows versions up to ${SCHEMA_VERSION}`) });
});

test('a closed registry says so instead of failing obscurely', async (t) => {
  const { registry } = await fresh();
  await registry.close();
  await registry.close();
  await t.throwsAsync(registry.getByNumber('S000011082003253000001'), { message: /is closed; open it again/ });
});
