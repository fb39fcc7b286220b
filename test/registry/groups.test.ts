/**
 * Grouped writes (issue 5): a batch numbers a group of rows, and records a group of signed files, in ONE
 * transaction each. The same guarantees as one certificate at a time: in order, all or nothing, nothing twice.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { SkillcertError } from '../../pipeline/core/errors.js';
import { openRegistry } from '../../pipeline/registry/index.js';
import { openSqliteRegistry } from '../../pipeline/registry/sqlite.js';
import { AT, personRequest } from '../helpers/registry-fixtures.js';
import { tempRegistryPath } from '../helpers/registry-processes.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

test('issueMany numbers a group in the given order, the same numbers issue() one by one would give', async (t) => {
  const one = await openRegistry(tempRegistryPath());
  const many = await openRegistry(tempRegistryPath());
  const people = [0, 1, 2, 3, 4, 5, 6, 7];
  const single = [];
  for (const i of people) single.push((await one.issue(personRequest(i, 'b1'))).certificate);
  const grouped = (await many.issueMany(people.map((i) => personRequest(i, 'b1')))).map((r) => r.certificate);
  t.deepEqual(grouped.map((c) => [c.number, c.stockSerial]), single.map((c) => [c.number, c.stockSerial]));
  t.true(grouped.every((c) => c.status === 'numbered'));
  const audit = await many.audit();
  t.deepEqual(audit.map((e) => [e.action, e.number]), grouped.map((c) => ['issue', c.number]), 'one audit entry per certificate, in order');
  t.true((await many.verifyAudit()).ok);
  await one.close();
  await many.close();
});

test('issueMany returns the live certificate of a person already numbered, as issue() does, and numbers the others', async (t) => {
  const registry = await openRegistry(tempRegistryPath());
  const first = await registry.issue(personRequest(3, 'b1'));
  const results = await registry.issueMany([personRequest(2, 'b2'), personRequest(3, 'b2'), personRequest(4, 'b2')]);
  t.deepEqual(results.map((r) => r.created), [true, false, true]);
  t.is(results[1]!.certificate.number, first.certificate.number);
  t.is(results[1]!.certificate.batchId, 'b1');
  await registry.close();
});

test('when one request of a group fails, none of the group is numbered: counters, stock and audit are as before', async (t) => {
  const path = tempRegistryPath();
  const registry = await openSqliteRegistry(path, { faults: { afterSerial: (n) => { if (n.endsWith('000002')) throw new Error('disk full'); } } });
  await registry.issue(personRequest(0, 'b0')); // level 3, serial 1
  const before = await registry.audit();
  // persons 1 and 2 are levels 4 and 5 (serial 1 each); person 3 is level 3, serial 2: the fault fires there.
  const err = await t.throwsAsync(registry.issueMany([personRequest(1, 'b1'), personRequest(2, 'b1'), personRequest(3, 'b1')]));
  t.regex(err!.message, /disk full/);
  t.deepEqual(await registry.audit(), before);
  await registry.close();
  const db = new Database(path, { readonly: true });
  t.is((db.prepare('SELECT count(*) AS n FROM certificates').get() as { n: number }).n, 1);
  t.deepEqual(db.prepare('SELECT last_serial FROM serial_counters').all(), [{ last_serial: 1 }], 'only the counter of the certificate numbered before');
  t.is((db.prepare('SELECT last_stock FROM stock_counters').get() as { last_stock: number }).last_stock, 1);
  db.close();
});

test('markIssuedMany records a group of signed files in one transaction; a group with a revoked certificate records none', async (t) => {
  const registry = await openRegistry(tempRegistryPath());
  const numbers = (await registry.issueMany([0, 1, 2, 3].map((i) => personRequest(i, 'b1')))).map((r) => r.certificate.number);
  const pdf = (n: string) => ({ file: `b1/certificates/${n}.pdf`, sha256: sha(n) });
  const recorded = await registry.markIssuedMany(numbers.slice(0, 2).map((n) => ({ number: n, pdf: pdf(n) })), AT, { operator: 'night' });
  t.deepEqual(recorded.map((c) => c.status), ['issued', 'issued']);
  t.is(recorded[0]!.sha256, sha(numbers[0]!));
  // Repeating a recorded digest is a no-op, as with markIssued.
  await registry.markIssuedMany([{ number: numbers[0]!, pdf: pdf(numbers[0]!) }], AT);

  await registry.revoke(numbers[3]!, 'withdrawn before printing', AT);
  const err = await t.throwsAsync(registry.markIssuedMany(numbers.slice(2).map((n) => ({ number: n, pdf: pdf(n) })), AT), { instanceOf: SkillcertError });
  t.regex(err!.message, /revoked/);
  t.is((await registry.getByNumber(numbers[2]!))!.status, 'numbered', 'the other certificate of the failed group is not recorded either');
  const signs = (await registry.audit()).filter((e) => e.action === 'sign');
  t.deepEqual(signs.map((e) => [e.number, e.operator]), [[numbers[0], 'night'], [numbers[1], 'night']]);
  await registry.close();
});

test('an empty group writes nothing', async (t) => {
  const registry = await openRegistry(tempRegistryPath());
  t.deepEqual(await registry.issueMany([]), []);
  t.deepEqual(await registry.markIssuedMany([], AT), []);
  t.deepEqual(await registry.audit(), []);
  await registry.close();
});
