/**
 * SPEC §4: the registry hands out serials exactly once — two runs at the same time, a run killed half-way and
 * run again, or the same roster run twice never produce a duplicate number, an unrecorded gap, or a second
 * certificate for the same person and qualification. Real processes, real files, real SIGKILL.
 */
import test, { type ExecutionContext } from 'ava';
import { beijing } from '../../pipeline/number/index.js';
import { openSqliteRegistry } from '../../pipeline/registry/sqlite.js';
import { personRequest } from '../helpers/registry-fixtures.js';
import { readCertificates, runTogether, runWorker, startWorker, tempRegistryPath } from '../helpers/registry-processes.js';

/** Reads the file back and checks: one certificate per person, no duplicate, serials 1..n per prefix, stock 1..N. */
function assertExactlyOnce(t: ExecutionContext, path: string, people: number): void {
  const { certificates, counters } = readCertificates(path);
  t.is(certificates.length, people, 'one certificate per person');
  t.is(new Set(certificates.map((c) => c.number)).size, people, 'no duplicate number');
  t.is(new Set(certificates.map((c) => c.person_key)).size, people, 'no second certificate for a person');

  const byPrefix = new Map<string, number[]>();
  const malformed: string[] = [];
  for (const c of certificates) {
    if (!beijing.validate(c.number).ok || beijing.withSerial(c.prefix, c.serial) !== c.number) malformed.push(c.number);
    byPrefix.set(c.prefix, [...(byPrefix.get(c.prefix) ?? []), c.serial]);
  }
  t.deepEqual(malformed, [], 'every number is valid and is its prefix and serial');
  for (const [prefix, serials] of byPrefix) {
    serials.sort((a, b) => a - b);
    t.deepEqual(serials, serials.map((_, k) => k + 1), `serials of ${prefix} are 1..${serials.length} with no gap`);
    t.is(counters.get(prefix), serials.length, `the counter of ${prefix} stands at the last recorded serial`);
  }
  t.deepEqual([...counters.keys()].sort(), [...byPrefix.keys()].sort(), 'no counter without certificates');

  const stock = certificates.map((c) => Number(c.stock_serial)).sort((a, b) => a - b);
  t.deepEqual(stock, stock.map((_, k) => k + 1), 'blank-stock serials 1..N, each sheet once');
}

test('two processes numbering 300 people each from one file at once get no duplicate number and contiguous serials', async (t) => {
  const db = tempRegistryPath();
  const [a, b] = await runTogether({ db, batchId: 'night-a', from: 0, to: 300 }, { db, batchId: 'night-b', from: 300, to: 600 });
  t.is(a.length + b.length, 600);
  t.true([...a, ...b].every((l) => l.created));

  assertExactlyOnce(t, db, 600);

  // Evidence that the runs overlapped: how often consecutive stock sheets went to different processes.
  const byStock = [...a, ...b].sort((x, y) => x.stockSerial.localeCompare(y.stockSerial));
  const switches = byStock.filter((l, k) => k > 0 && l.pid !== byStock[k - 1]?.pid).length;
  t.log(`the two processes alternated ${switches} times`);
});

test('two processes numbering the same roster at once give each person one certificate and agree on its number', async (t) => {
  const db = tempRegistryPath();
  const [a, b] = await runTogether({ db, batchId: 'run-1', from: 0, to: 300 }, { db, batchId: 'run-2', from: 0, to: 300 });

  const numberA = new Map(a.map((l) => [l.i, l.number]));
  t.deepEqual(
    b.map((l) => numberA.get(l.i)),
    b.map((l) => l.number),
    'both runs report the same number for each person',
  );
  t.is([...a, ...b].filter((l) => l.created).length, 300, 'each person created once, by one of the two');
  assertExactlyOnce(t, db, 300);
});

test('a run killed with SIGKILL half-way and run again leaves no duplicate and no unrecorded gap', async (t) => {
  const db = tempRegistryPath();
  // A roster long enough that the kill always lands while the worker is still numbering.
  const people = 800;
  const first = startWorker({ db, batchId: 'night-1', from: 0, to: people });
  first.onLine((_line, count) => {
    if (count === 150) first.child.kill('SIGKILL');
  });
  const end = await first.done;
  t.is(end.signal, 'SIGKILL');
  const beforeKill = [...first.lines];
  t.true(beforeKill.length >= 150 && beforeKill.length < people, `killed after ${beforeKill.length} certificates`);

  // Whatever the kill interrupted, the file holds whole certificates only.
  const { certificates } = readCertificates(db);
  t.true(certificates.length >= beforeKill.length && certificates.length < people);
  assertExactlyOnce(t, db, certificates.length);
  t.log(`killed with ${certificates.length} certificates recorded, ${beforeKill.length} reported`);

  const rerun = await runWorker({ db, batchId: 'night-1-rerun', from: 0, to: people });
  const rerunNumber = new Map(rerun.map((l) => [l.i, l]));
  t.deepEqual(
    beforeKill.map((l) => [l.i, rerunNumber.get(l.i)?.number, rerunNumber.get(l.i)?.created]),
    beforeKill.map((l) => [l.i, l.number, false]),
    'everyone numbered before the kill keeps the same number and nothing new is created for them',
  );
  t.is(rerun.filter((l) => l.created).length, people - certificates.length, 'the rerun numbers only those not yet numbered');
  assertExactlyOnce(t, db, people);
});

test('a crash between taking a serial and recording the certificate leaves no trace of that serial', async (t) => {
  const db = tempRegistryPath();
  const crashed = startWorker({ db, batchId: 'night-1', from: 0, to: 300, crashAtSerialTaken: 150 });
  const end = await crashed.done;
  t.is(end.signal, 'SIGKILL');
  t.is(crashed.lines.length, 149, 'the 150th certificate never committed');

  // The 150th serial was taken inside the transaction and died with it: counters equal the recorded maximum.
  assertExactlyOnce(t, db, 149);

  const rerun = await runWorker({ db, batchId: 'night-1-rerun', from: 0, to: 300 });
  t.is(rerun.filter((l) => l.created).length, 151);
  const person149 = rerun.find((l) => l.i === 149);
  t.true(person149?.created, 'the person whose certificate was cut off is numbered on the rerun');
  assertExactlyOnce(t, db, 300);
});

test('the same roster numbered twice creates nothing new the second time and returns the same numbers', async (t) => {
  const db = tempRegistryPath();
  const firstRun = await openSqliteRegistry(db);
  const first = [];
  for (let i = 0; i < 120; i++) first.push(await firstRun.issue(personRequest(i, 'batch-1')));
  await firstRun.close();
  t.true(first.every((r) => r.created));

  const secondRun = await openSqliteRegistry(db);
  const second = [];
  for (let i = 0; i < 120; i++) second.push(await secondRun.issue(personRequest(i, 'batch-2')));
  t.true(second.every((r) => !r.created), 'nothing new');
  t.deepEqual(
    second.map((r) => r.certificate.number),
    first.map((r) => r.certificate.number),
    'the same numbers',
  );
  t.true(second.every((r) => r.certificate.batchId === 'batch-1'), 'each reports the batch that numbered it');
  t.deepEqual(await secondRun.listBatch('batch-2'), []);
  t.is((await secondRun.listBatch('batch-1')).length, 120);
  await secondRun.close();
  assertExactlyOnce(t, db, 120);
});
