/**
 * `skillcert run --registry postgres://…` (SPEC §9, issue 5): the nightly batch numbering and recording through a
 * real PostgreSQL server started by this file, its password in PGPASSWORD. Read back from the database directly
 * and through the verifier and the audit command with the same URL; a rerun issues nothing new; a URL that carries
 * a password is refused before anything is done, without echoing it.
 */
import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  batchDir, cliTestServer, certificateFiles, cliEnv, PHOTOS, profile, sha256File, show, skillcert, tempDir, validPeople, writeRoster,
} from '../helpers/cli.js';

const ROWS = 12;
const PROFILE = profile('haidian-qihang');
const server = cliTestServer(test);

test('a batch numbers and records in PostgreSQL; verify and audit read the same database; a rerun issues nothing new', async (t) => {
  const url = await server().createDatabase();
  const work = tempDir('skillcert-pg-run-');
  const roster = await writeRoster(join(work, 'nightly.xlsx'), validPeople(ROWS, 40));
  const out = join(work, 'out');
  const env = cliEnv({ PGPASSWORD: server().password });
  const args = ['run', '--roster', roster, '--profile', PROFILE, '--out', out, '--registry', url, '--photos', PHOTOS, '--workers', '1', '--json'];

  const first = await skillcert(args, { env });
  t.is(first.code, 0, show(first));
  const summary = JSON.parse(first.stdout) as { issued: number; registry: string; archive: string };
  t.is(summary.issued, ROWS);
  t.is(summary.registry, url);
  t.false(existsSync(join(out, 'registry.sqlite')), 'no SQLite file next to the batch');

  const dir = batchDir(out);
  const pdfs = certificateFiles(dir).pdfs.map((f) => join(dir, 'certificates', f));
  t.is(pdfs.length, ROWS);
  const c = await server().client(url);
  const rows = (await c.query<{ number: string; status: string; sha256: string; file: string }>(
    `SELECT c.number, c.status, d.sha256, d.file FROM certificates c JOIN certificate_digests d ON d.number = c.number AND d.state = 'current' ORDER BY c.number`,
  )).rows;
  const audit = (await c.query<{ action: string; n: number }>('SELECT action, count(*)::int AS n FROM audit GROUP BY action ORDER BY action')).rows;
  const exported = (await c.query<{ after_sha256: string }>(`SELECT after_sha256 FROM audit WHERE action = 'export'`)).rows;
  await c.end();
  t.is(rows.length, ROWS);
  for (const r of rows) {
    t.is(r.status, 'issued');
    const file = pdfs.find((p) => p.endsWith(`${r.number}.pdf`));
    t.truthy(file, `${r.number}.pdf is in the batch folder`);
    if (file) t.is(sha256File(file), r.sha256, `${r.number}: the registry holds the digest of the file on disk`);
  }
  t.deepEqual(audit, [{ action: 'export', n: 1 }, { action: 'issue', n: ROWS }, { action: 'sign', n: ROWS }]);
  t.deepEqual(exported, [{ after_sha256: sha256File(summary.archive) }], 'the filing bundle is recorded with the digest of the archive on disk');

  const verified = await skillcert(['verify', ...pdfs.slice(0, 3), '--profile', PROFILE, '--registry', url, '--json'], { env });
  t.is(verified.code, 0, show(verified));
  const results = (JSON.parse(verified.stdout) as { results: { verdict: string; checks: { id: string; ok: boolean | null; message: string }[] }[] }).results;
  for (const r of results) {
    t.is(r.verdict, 'valid');
    t.like(r.checks.find((ch) => ch.id === 'registry.status'), { ok: true });
  }

  const chain = await skillcert(['audit', '--out', out, '--registry', url, '--verify', '--json'], { env });
  t.is(chain.code, 0, show(chain));
  t.like(JSON.parse(chain.stdout), { ok: true });

  const again = await skillcert(args, { env });
  t.is(again.code, 0, show(again));
  t.like(JSON.parse(again.stdout), { ok: true, issued: ROWS });
  const c2 = await server().client(url);
  t.deepEqual((await c2.query('SELECT count(*)::int AS n FROM certificates')).rows, [{ n: ROWS }], 'nothing numbered twice');
  await c2.end();
  t.is(readdirSync(out).filter((e) => !e.startsWith('.') && e !== 'status').length, 1, 'the rerun finished the same batch folder');
});

test('a registry URL with a password in it is refused before anything is done, and the password is not echoed', async (t) => {
  const url = await server().createDatabase();
  const work = tempDir('skillcert-pg-run-');
  const roster = await writeRoster(join(work, 'nightly.xlsx'), validPeople(2, 90));
  const out = join(work, 'out');
  const secret = 'Sup3r-secret-pw';
  const r = await skillcert(['run', '--roster', roster, '--profile', PROFILE, '--out', out, '--registry', url.replace('skillcert@', `skillcert:${secret}@`), '--photos', PHOTOS], { env: cliEnv({ PGPASSWORD: server().password }) });
  t.not(r.code, 0);
  t.regex(r.stderr, /carries a password; remove it and give it in PGPASSWORD or ~\/\.pgpass/);
  t.false(`${r.stdout}${r.stderr}`.includes(secret));
  const c = await server().client(url);
  t.deepEqual((await c.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'certificates'`)).rows, [{ n: 0 }], 'the database was not touched');
  await c.end();
});
