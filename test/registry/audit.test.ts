/**
 * 第二十条 (SPEC §8): every change is one append-only, hash-chained audit entry written with the change; the chain
 * finds an entry edited, deleted, reordered or cut off behind the tool's back. The tampering tests open the file
 * with a raw better-sqlite3 handle, drop the append-only triggers and foreign keys, and change it: they show the
 * detection, not the prevention.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { maskId } from '../../pipeline/core/privacy.js';
import { entryHash, GENESIS_HASH, type AuditEntry } from '../../pipeline/registry/index.js';
import { MIGRATIONS, openSqliteRegistry, type SqliteRegistry } from '../../pipeline/registry/sqlite.js';
import { HISTORY_TIMES, issuedCertificate, NEW_ID, PEOPLE, sha, sqlError, writeHistory } from '../helpers/registry-after.js';
import { personRequest } from '../helpers/registry-fixtures.js';
import { readCertificates, runTogether, runWorker, startWorker, tempRegistryPath } from '../helpers/registry-processes.js';

const { T1, T2, T3 } = HISTORY_TIMES;

async function realisticHistory(): Promise<{ path: string; registry: SqliteRegistry; li: string; wu: string; chen: string }> {
  const path = tempRegistryPath();
  const registry = await openSqliteRegistry(path, { operator: 'nightly-batch' });
  return { path, registry, ...(await writeHistory(registry)) };
}

/** Changes the file behind the registry's back: triggers and foreign keys out of the way, then the statements. */
function tamper(path: string, ...statements: string[]): void {
  const raw = new Database(path);
  raw.pragma('foreign_keys = OFF');
  raw.exec('DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;');
  for (const sql of statements) raw.exec(sql);
  raw.close();
}

async function verifyAfter(path: string, anchor?: { seq: number; hash: string }) {
  const registry = await openSqliteRegistry(path);
  try {
    return await registry.verifyAudit(anchor ? { anchor } : {});
  } finally {
    await registry.close();
  }
}

test('a realistic history is one entry per change, in order, with who, what and why, and the chain verifies', async (t) => {
  const { registry, li, wu, chen } = await realisticHistory();
  const entries = await registry.audit();
  t.deepEqual(
    entries.map((e) => [e.seq, e.action, e.number, e.operator]),
    [
      [1, 'issue', li, 'nightly-batch'],
      [2, 'sign', li, 'nightly-batch'],
      [3, 'issue', wu, 'nightly-batch'],
      [4, 'sign', wu, 'nightly-batch'],
      [5, 'issue', chen, 'nightly-batch'],
      [6, 'sign', chen, 'nightly-batch'],
      [7, 'correct', li, 'clerk-wang'],
      [8, 'sign', li, 'clerk-wang'],
      [9, 'correct', wu, 'clerk-li'],
      [10, 'sign', wu, 'clerk-li'],
      [11, 'reissue', chen, 'clerk-wang'],
      [12, 'sign', chen, 'clerk-wang'],
      [13, 'revoke', wu, 'supervisor-zhang'],
      [14, 'export', null, 'clerk-wang'],
    ],
  );
  const [first] = entries;
  t.is(first?.prevHash, GENESIS_HASH);
  t.true(entries.every((e, k) => k === 0 || e.prevHash === entries[k - 1]?.hash), 'each entry points at the one before');
  t.true(entries.every((e) => entryHash(e) === e.hash));
  t.like(entries[6], { at: T1.toISOString(), beforeSha256: sha(`${li} v1`), changes: [{ field: 'name', before: '李小刚', after: '李晓刚' }], reason: '姓名录入错误' });
  t.like(entries[7], { beforeSha256: sha(`${li} v1`), afterSha256: sha('li v2') });
  t.like(entries[10], { changes: [{ field: 'reissue', before: null, after: '补发 2025-07-20' }], reason: '持证人遗失' });
  t.like(entries[12], { changes: [{ field: 'status', before: 'issued', after: 'revoked' }], reason: '第十八条: 取消认定结果' });
  t.like(entries[13], { afterSha256: sha('xlsx'), changes: [{ field: 'file', before: null, after: '证书数据-202507.xlsx' }] });

  t.deepEqual(await registry.verifyAudit(), { ok: true, entries: 14, head: { seq: 14, hash: entries[13]!.hash } });
  await registry.close();
});

test('audit entries carry ID numbers only masked, even when a reason quotes one', async (t) => {
  const { registry, wu } = await realisticHistory();
  const text = JSON.stringify(await registry.audit());
  for (const id of [PEOPLE.li.idNo, PEOPLE.wu.idNo, PEOPLE.chen.idNo, NEW_ID]) t.false(text.includes(id), `no full ${maskId(id)}`);
  const [correction] = await registry.audit({ number: wu, from: T2, to: new Date(T2.getTime() + 1) });
  t.like(correction, { action: 'correct', changes: [{ field: 'idNo', before: maskId(PEOPLE.wu.idNo), after: maskId(NEW_ID) }], reason: `原号码 ${maskId(PEOPLE.wu.idNo)} 录入错误` });
  await registry.close();
});

test('audit() lists the entries of one certificate, or of a period with from inclusive and to exclusive', async (t) => {
  const { registry, li } = await realisticHistory();
  t.deepEqual((await registry.audit({ number: li })).map((e) => e.seq), [1, 2, 7, 8]);
  t.deepEqual((await registry.audit({ from: T2, to: T3 })).map((e) => e.seq), [9, 10, 11, 12]);
  t.deepEqual((await registry.audit({ from: T3 })).map((e) => e.action), ['revoke', 'export']);
  t.deepEqual(await registry.audit({ number: 'S000011082003253999999' }), []);
  await registry.close();
});

test('a refused or failed change writes no audit entry', async (t) => {
  const path = tempRegistryPath();
  let fail = false;
  const registry = await openSqliteRegistry(path, {
    faults: {
      afterSerial() {
        if (fail) throw new Error('disk on fire');
      },
    },
  });
  const { number } = await issuedCertificate(registry, PEOPLE.li); // 电工 level 3
  await issuedCertificate(registry, { ...PEOPLE.zhao, level: 3 }); // 电工 level 3 too
  const before = (await registry.audit()).length;
  await t.throwsAsync(registry.correct(number, { name: '李晓刚' }, ' ', T1, 'clerk'), { message: /written reason/ });
  await t.throwsAsync(registry.correct(number, { name: '李晓刚', idNo: NEW_ID }, 'x', T1, 'clerk'), { message: /never both/ });
  await t.throwsAsync(registry.correct(number, { idNo: PEOPLE.zhao.idNo }, '撞号', T1, 'clerk'), { message: /already holds live certificate/ });
  await t.throwsAsync(registry.correct(number, { name: '李晓刚' }, '姓名', T1, ' '), { message: /operator/ });
  t.is((await registry.audit()).length, before, 'refused corrections left nothing');
  await t.throwsAsync(registry.revoke(number, '', T1));
  await t.throwsAsync(registry.markIssued(number, { file: 'other.pdf', sha256: sha('other') }, T1));
  fail = true;
  await t.throwsAsync(registry.issue({ ...personRequest(1, 'b2'), operator: 'nightly' }), { message: /disk on fire/ });
  t.is((await registry.audit()).length, before, 'a numbering that failed mid-transaction left no entry and no certificate');
  // Repeats that change nothing are not changes either.
  await registry.markIssued(number, { file: `${number}.pdf`, sha256: sha(`${number} v1`) }, T1);
  t.is((await registry.audit()).length, before);
  t.true((await registry.verifyAudit()).ok);
  await registry.close();
});

test('the file refuses UPDATE and DELETE of audit rows while the triggers are in place', async (t) => {
  const { path, registry } = await realisticHistory();
  await registry.close();
  const raw = new Database(path);
  t.regex(sqlError(() => raw.prepare(`UPDATE audit SET reason = 'nothing happened' WHERE seq = 7`).run()), /append-only \(第二十条\): an entry is never changed/);
  t.regex(sqlError(() => raw.prepare('DELETE FROM audit WHERE seq = 7').run()), /append-only \(第二十条\): an entry is never deleted/);
  raw.close();
  t.true((await verifyAfter(path)).ok);
});

test('one field of an entry changed behind the tool\'s back is found at that entry as a hash mismatch', async (t) => {
  const { path, registry } = await realisticHistory();
  await registry.close();
  tamper(path, `UPDATE audit SET operator = 'someone-else' WHERE seq = 9`);
  const result = await verifyAfter(path);
  t.false(result.ok);
  if (result.ok) return;
  t.like(result, { entries: 8, broken: { seq: 9, kind: 'hash-mismatch' } });
  t.regex(result.broken.message, /audit entry 9 \(correct S\d+\) was changed after it was written.*restore the registry from a backup/);
});

test('a changed reason, time or digest is found just the same', async (t) => {
  for (const [seq, sql] of [
    [7, `UPDATE audit SET reason = '系统自动更正' WHERE seq = 7`],
    [12, `UPDATE audit SET at = '2025-07-19T01:00:00.000Z' WHERE seq = 12`],
    [2, `UPDATE audit SET after_sha256 = '${sha('forged')}' WHERE seq = 2`],
    [13, `UPDATE audit SET changes = '[]' WHERE seq = 13`],
  ] as const) {
    const { path, registry } = await realisticHistory();
    await registry.close();
    tamper(path, sql);
    t.like(await verifyAfter(path), { ok: false, broken: { seq, kind: 'hash-mismatch' } }, sql);
  }
});

test('an entry deleted behind the tool\'s back is named as the missing seq', async (t) => {
  const { path, registry } = await realisticHistory();
  await registry.close();
  tamper(path, 'DELETE FROM audit WHERE seq = 7');
  const result = await verifyAfter(path);
  t.like(result, { ok: false, entries: 6, broken: { seq: 7, kind: 'missing-entry' } });
  if (!result.ok) t.regex(result.broken.message, /audit entry 7 is missing: the entries jump from 6 to 8/);
});

test('entries put in another order are found at the first entry moved', async (t) => {
  const { path, registry } = await realisticHistory();
  await registry.close();
  // Swap entries 9 and 10 (the ID correction and its PDF), each keeping its own hash.
  tamper(path, 'UPDATE audit SET seq = -9 WHERE seq = 9', 'UPDATE audit SET seq = 9 WHERE seq = 10', 'UPDATE audit SET seq = 10 WHERE seq = -9');
  const result = await verifyAfter(path);
  t.like(result, { ok: false, entries: 8, broken: { seq: 9, kind: 'prev-hash-mismatch' } });
});

test('entries cut off the end are found, also after the registry appended more', async (t) => {
  const { path, registry, li } = await realisticHistory();
  await registry.close();
  tamper(path, 'DELETE FROM audit WHERE seq >= 13');
  t.like(await verifyAfter(path), { ok: false, entries: 12, broken: { seq: 13, kind: 'missing-entry' } });

  const again = await openSqliteRegistry(path);
  await again.reissue(li, 'damaged', T3, 'clerk-wang'); // appended after the cut: seq 15, leaving 13-14 a gap
  const result = await again.verifyAudit();
  t.like(result, { ok: false, broken: { seq: 13, kind: 'missing-entry' } });
  if (!result.ok) t.regex(result.broken.message, /audit entries 13-14 are missing: the entries jump from 12 to 15/);
  await again.close();
});

test('a chain rewritten with fresh hashes passes on its own but not against a head recorded earlier', async (t) => {
  const { path, registry } = await realisticHistory();
  const head = await registry.verifyAudit();
  await registry.close();
  if (!head.ok || !head.head) return t.fail('the fresh chain should verify');

  // Someone who knows the scheme edits entry 7 and recomputes every hash from there on.
  const raw = new Database(path);
  raw.pragma('foreign_keys = OFF');
  raw.exec('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;');
  type Row = { seq: number; at: string; operator: string; action: AuditEntry['action']; number: string | null; before_sha256: string | null; after_sha256: string | null; changes: string; reason: string | null; prev_hash: string; hash: string };
  const rows = raw.prepare('SELECT * FROM audit ORDER BY seq').all() as Row[];
  let prev = rows[5]!.hash;
  for (const r of rows.slice(6)) {
    const e = { seq: r.seq, at: r.at, operator: r.operator, action: r.action, number: r.number, beforeSha256: r.before_sha256, afterSha256: r.after_sha256, changes: JSON.parse(r.changes), reason: r.seq === 7 ? '持证人要求' : r.reason, prevHash: prev };
    const hash = entryHash(e);
    raw.prepare('UPDATE audit SET reason = ?, prev_hash = ?, hash = ? WHERE seq = ?').run(e.reason, prev, hash, r.seq);
    prev = hash;
  }
  raw.close();

  t.true((await verifyAfter(path)).ok, 'the chain alone cannot tell: this is what the anchor is for');
  const result = await verifyAfter(path, head.head);
  t.like(result, { ok: false, broken: { seq: 14, kind: 'anchor-mismatch' } });
  if (!result.ok) t.regex(result.broken.message, /audit entry 14 has hash .* but .* was recorded for it earlier: the log was rewritten/);
});

test('a correction re-pointed at an audit entry that does not record it is found as a dangling reference', async (t) => {
  const { path, registry } = await realisticHistory();
  await registry.close();
  // The chain itself is intact; the corrections table no longer agrees with it (entry 8 is a sign, not a correct).
  const raw = new Database(path);
  raw.pragma('foreign_keys = OFF');
  raw.exec('DROP TRIGGER corrections_fixed;');
  raw.prepare('UPDATE corrections SET audit_seq = 8 WHERE audit_seq = 7').run();
  raw.close();
  t.like(await verifyAfter(path), { ok: false, broken: { seq: 8, kind: 'dangling-reference' } });
});

test('two processes numbering at once write one chain with one issue entry per certificate', async (t) => {
  const db = tempRegistryPath();
  await runTogether({ db, batchId: 'night-a', from: 0, to: 200 }, { db, batchId: 'night-b', from: 200, to: 400 });

  const registry = await openSqliteRegistry(db);
  t.like(await registry.verifyAudit(), { ok: true, entries: 400 });
  const entries = await registry.audit();
  t.deepEqual(entries.map((e) => e.seq), entries.map((_, k) => k + 1), 'no fork, no gap');
  t.deepEqual(new Set(entries.map((e) => e.number)), new Set(readCertificates(db).certificates.map((c) => c.number)));
  t.true(entries.every((e) => e.action === 'issue'));
  await registry.close();
});

test('a run killed inside a numbering transaction leaves no entry for it and a chain that verifies', async (t) => {
  const db = tempRegistryPath();
  const crashed = startWorker({ db, batchId: 'night-1', from: 0, to: 200, crashAtSerialTaken: 80 });
  t.is((await crashed.done).signal, 'SIGKILL');
  let registry = await openSqliteRegistry(db);
  t.like(await registry.verifyAudit(), { ok: true, entries: 79 });
  await registry.close();

  await runWorker({ db, batchId: 'night-1-rerun', from: 0, to: 200 });
  registry = await openSqliteRegistry(db);
  t.like(await registry.verifyAudit(), { ok: true, entries: 200 });
  t.is(readCertificates(db).certificates.length, 200);
  await registry.close();
});

test('a registry written before the audit existed is migrated in place and its chain starts with the first change after', async (t) => {
  const path = tempRegistryPath();
  const v1 = new Database(path);
  v1.pragma('journal_mode = WAL');
  v1.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  v1.exec(MIGRATIONS[0]!.sql);
  v1.prepare('INSERT INTO schema_migrations VALUES (1, ?, ?)').run(MIGRATIONS[0]!.name, T1.toISOString());
  v1.close();

  const registry = await openSqliteRegistry(path, { operator: 'nightly-batch' });
  const { number } = await issuedCertificate(registry, PEOPLE.li);
  await registry.correct(number, { photo: true }, '照片', T2, 'clerk-wang');
  t.deepEqual((await registry.audit()).map((e) => e.action), ['issue', 'sign', 'correct']);
  t.like(await registry.verifyAudit(), { ok: true, entries: 3 });
  await registry.close();
  const raw = new Database(path, { readonly: true });
  t.deepEqual((raw.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version), [1, 2, 3]);
  raw.close();
});
