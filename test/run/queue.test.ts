/**
 * The job queue of a batch shared by several machines (SPEC §9, pipeline/batch/queue.ts on pg-boss): real
 * `skillcert run` processes against one real PostgreSQL server and one output folder, as machines sharing a database
 * and a network folder. Two runs started together split the chunks, number nothing twice, and one of them writes a
 * bundle holding every certificate; a run SIGKILLed half-way leaves its chunks, which come back when their lease ends,
 * to the next run, which finishes the batch; a rerun retries the rows a run could not issue. The queue's state is
 * read back from pg-boss's own tables (schema pgboss).
 */
import test from 'ava';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  batchDir, cliTestServer, certificateFiles, cliEnv, GENERATED, outcome, PHOTOS, profile, rowNoOf, sha256File, show, skillcert, spawnSkillcert,
  tempDir, validPeople, writeRoster, type CliResult,
} from '../helpers/cli.js';
import { loadProfile } from '../../pipeline/core/profile.js';
import { batchIdFor } from '../../pipeline/batch/run.js';
import { BatchQueue, queueNames } from '../../pipeline/batch/queue.js';

const PROFILE = profile('haidian-qihang');
const server = cliTestServer(test);

interface RunJson { ok: boolean; issued: number; rejected: number; archive?: string; chunks?: number; bundledBy?: string }

const batchOf = (roster: string) => batchIdFor(loadProfile(PROFILE), sha256File(roster));

/** pg-boss's jobs of a batch's chunks (table pgboss.job): the current (latest-round) job of each chunk. */
async function chunkJobs(c: import('pg').Client, batchId: string): Promise<{ chunk: number; state: string; by: string | null; retries: number; started: Date | null }[]> {
  return (await c.query<{ chunk: number; state: string; by: string | null; retries: number; started: Date | null }>(
    `SELECT DISTINCT ON ((data->>'chunk')::int) (data->>'chunk')::int AS chunk, state::text, output->>'by' AS by, retry_count AS retries, started_on AS started
       FROM pgboss.job WHERE name = $1 ORDER BY (data->>'chunk')::int, (data->>'round')::int DESC`,
    [queueNames(batchId).chunks],
  )).rows;
}

/** Reads back what the database and the batch folder hold, and checks them against each other. */
async function checkBatch(t: import('ava').ExecutionContext, url: string, out: string, expected: number, batchId: string): Promise<{ doneBy: string[] }> {
  const c = await server().client(url);
  const certs = (await c.query<{ number: string; status: string; sha256: string; stock_serial: string }>(
    `SELECT c.number, c.status, d.sha256, c.stock_serial FROM certificates c LEFT JOIN certificate_digests d ON d.number = c.number AND d.state = 'current' ORDER BY c.number`,
  )).rows;
  const chunks = await chunkJobs(c, batchId);
  const bundle = (await c.query<{ state: string; by: string }>(`SELECT state::text, output->>'by' AS by FROM pgboss.job WHERE name = $1 ORDER BY priority DESC LIMIT 1`, [queueNames(batchId).bundle])).rows;
  await c.end();
  t.is(certs.length, expected, 'one certificate per issued row, none numbered twice');
  t.is(new Set(certs.map((r) => r.stock_serial)).size, expected, 'no blank-stock serial twice');
  t.true(chunks.length > 0 && chunks.every((ch) => ch.state === 'completed'), 'every chunk is done');
  t.like(bundle[0], { state: 'completed' }, 'the bundle of the latest round is written');
  const dir = batchDir(out);
  const { pdfs, leftovers } = certificateFiles(dir);
  t.deepEqual(leftovers, [], 'no half-written file survives');
  t.is(pdfs.length, expected);
  for (const r of certs) {
    t.is(r.status, 'issued');
    t.is(sha256File(join(dir, 'certificates', `${r.number}.pdf`)), r.sha256, `${r.number}: the registry holds the digest of the file on disk`);
  }
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { files: { path: string; sha256: string }[] };
  const listed = manifest.files.filter((f) => f.path.startsWith('certificates/'));
  t.is(listed.length, expected, 'the manifest lists every machine\'s certificates');
  for (const f of listed) t.is(certs.find((r) => `certificates/${r.number}.pdf` === f.path)?.sha256, f.sha256, f.path);
  const archive = readdirSync(dir).find((f) => f.endsWith('.zip'));
  t.truthy(archive, 'one machine wrote the filing bundle');
  const vb = await skillcert(['verify-bundle', join(dir, archive!), '--anchor', join(GENERATED, 'root-ca.pem')]);
  t.is(vb.code, 0, show(vb));
  return { doneBy: [...new Set(chunks.map((ch) => ch.by!))] };
}

const CHUNKS = 24;

test('two machines started together split the chunks; numbers are unique; one bundle holds every certificate and every reject', async (t) => {
  const url = await server().createDatabase();
  const work = tempDir('skillcert-queue-');
  const people = validPeople(47, 300);
  people[20] = { ...people[20]!, photo: 'nobody-sent-this.jpg' };
  const roster = await writeRoster(join(work, 'province.xlsx'), people);
  const out = join(work, 'shared-out');
  const env = cliEnv({ PGPASSWORD: server().password });
  const args = ['run', '--roster', roster, '--profile', PROFILE, '--out', out, '--registry', url, '--photos', PHOTOS, '--workers', '1', '--chunk-rows', '2', '--json'];

  // Both machines must get work whatever their start-up times: the test claims every chunk (as a third machine
  // would) and holds them until both are waiting in their claim loop, then lets go of them all at once.
  const batchId = batchOf(roster);
  const holder = await BatchQueue.open(url, batchId, { accepted: 47, chunkRows: 2 });
  const held = [];
  for (let i = 0; i < CHUNKS; i++) held.push((await holder.claim())!);
  t.deepEqual(held.map((ch) => ch.chunk), [...Array(CHUNKS).keys()], 'the test holds every chunk');
  const machines = [spawnSkillcert(args, { env }), spawnSkillcert(args, { env })];
  const ended = Promise.all(machines.map(outcome));
  let running = true;
  void ended.finally(() => (running = false));
  // (A machine in its claim loop has run pg-boss's fetch, or counted the chunks left, on one of its connections.)
  const c = await server().client(url);
  const claiming = `SELECT count(DISTINCT application_name)::int AS n FROM pg_stat_activity
     WHERE application_name LIKE 'skillcert queue %' AND application_name NOT LIKE '% pid ${process.pid}'
       AND (query LIKE '%FOR UPDATE SKIP LOCKED%' OR query LIKE 'SELECT count(*) as count FROM pgboss.job%')`;
  while (running && (await c.query<{ n: number }>(claiming)).rows[0]!.n < 2) await sleep(50);
  await c.end();
  for (const ch of held) await holder.release(ch);
  await holder.close();
  const [a, b] = await ended;
  t.is(a.code, 0, show(a));
  t.is(b.code, 0, show(b));
  const ra = JSON.parse(a.stdout) as RunJson;
  const rb = JSON.parse(b.stdout) as RunJson;
  t.is(ra.chunks! + rb.chunks!, CHUNKS, 'the 47 accepted rows are 24 chunks of 2, each worked once');
  t.is([ra, rb].filter((r) => r.archive).length, 1, 'exactly one machine wrote the bundle');
  t.truthy([ra, rb].find((r) => r.bundledBy), 'the other says who did');
  for (const r of [ra, rb]) t.like(r, { ok: true, issued: 46, rejected: 1 }, 'both report the whole batch');

  const { doneBy } = await checkBatch(t, url, out, 46, batchId);
  t.is(doneBy.length, 2, 'both machines worked chunks');
  const report = JSON.parse(readFileSync(join(batchDir(out), 'report.json'), 'utf8')) as { counts: { issued: number; rejectedRows: number; accounted: number }; rejects: { rowNo: number; field: string }[] | null };
  t.like(report.counts, { issued: 46, rejectedRows: 1, accounted: 47 });
  const rejects = readFileSync(join(batchDir(out), 'report.txt'), 'utf8');
  t.regex(rejects, new RegExp(`row ${rowNoOf(20)}\\b`), 'the chunk\'s photo problem is in the batch report');
});

test('a run SIGKILLed half-way leaves its chunk to the next run, which finishes the batch with nothing numbered twice', async (t) => {
  const url = await server().createDatabase();
  const work = tempDir('skillcert-queue-');
  const roster = await writeRoster(join(work, 'province.xlsx'), validPeople(60, 500));
  const out = join(work, 'shared-out');
  const env = cliEnv({ PGPASSWORD: server().password });
  // A short lease, so that the killed machine's chunks come back within the test.
  const LEASE = 15;
  const args = ['run', '--roster', roster, '--profile', PROFILE, '--out', out, '--registry', url, '--photos', PHOTOS, '--workers', '1', '--chunk-rows', '6', '--lease', String(LEASE), '--json'];
  const batchId = batchOf(roster);

  const first = spawnSkillcert(args, { env, detached: true });
  const exited = once(first, 'close');
  let stderr = '';
  first.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // Kill it once it has finished two chunks and is inside the third.
  const c = await server().client(url);
  const completed = async () => (await chunkJobs(c, batchId).catch(() => [])).filter((j) => j.state === 'completed').length;
  for (let waited = 0; ; waited += 50) {
    if ((await completed()) >= 2) break;
    if (waited > 120_000 || first.exitCode !== null) t.fail(`the first run did not get through two chunks: ${stderr}`);
    await sleep(50);
  }
  await sleep(300);
  process.kill(-first.pid!, 'SIGKILL');
  await exited;
  const before = await completed();
  const dead = (await chunkJobs(c, batchId)).filter((j) => j.state === 'active');
  t.true(before < 10, `the run was killed before the end (${before} of 10 chunks done)`);
  t.true(dead.length >= 1, 'the killed machine held chunks');

  const doneBefore = new Set((await chunkJobs(c, batchId)).filter((j) => j.state === 'completed').map((j) => j.chunk));
  const secondSpawned = Date.now();
  const second: CliResult = await skillcert(args, { env });
  t.is(second.code, 0, show(second));
  const r = JSON.parse(second.stdout) as RunJson;
  t.like(r, { ok: true, issued: 60, rejected: 0 });
  t.is(r.chunks, 10 - before, 'the rerun worked exactly the chunks left, the killed ones included');
  t.truthy(r.archive);
  const after = await chunkJobs(c, batchId);
  await c.end();
  // When the second machine could first take a chunk: its first claim of one that nobody held (or its start).
  const others = after.filter((a) => !doneBefore.has(a.chunk) && !dead.some((d) => d.chunk === a.chunk)).map((a) => a.started!.getTime());
  const ready = others.length ? Math.min(...others) : secondSpawned;
  for (const d of dead) {
    const j = after.find((a) => a.chunk === d.chunk)!;
    t.like(j, { state: 'completed', retries: 1 }, `chunk ${d.chunk}: pg-boss handed it out a second time`);
    const expired = d.started!.getTime() + LEASE * 1000;
    const back = j.started!.getTime();
    const late = (back - Math.max(expired, ready)) / 1000;
    t.log(`chunk ${d.chunk} of the killed machine: claimed again ${((back - d.started!.getTime()) / 1000).toFixed(1)} s after the dead machine claimed it (lease ${LEASE} s), ${((back - expired) / 1000).toFixed(1)} s after its lease ended; the second machine's first claim came ${((ready - d.started!.getTime()) / 1000).toFixed(1)} s after the dead one's`);
    t.true(back >= expired, 'not before its lease ended');
    t.true(late < 5, `taken over promptly once its lease had ended and the second machine was working (${late.toFixed(1)} s later)`);
  }
  await checkBatch(t, url, out, 60, batchId);
});

test('a rerun of a queued batch retries the rows a run could not issue, and writes the bundle again', async (t) => {
  const url = await server().createDatabase();
  const work = tempDir('skillcert-queue-');
  const people = validPeople(10, 700);
  const roster = await writeRoster(join(work, 'province.xlsx'), people);
  const photos = join(work, 'photos');
  mkdirSync(photos);
  for (const p of new Set(people.map((r) => r.photo))) copyFileSync(join(PHOTOS, p), join(photos, p === people[5]!.photo ? 'late.jpg' : p));
  const missing = people[5]!.photo;
  const args = ['run', '--roster', roster, '--profile', PROFILE, '--out', join(work, 'out'), '--registry', url, '--photos', photos, '--workers', '1', '--chunk-rows', '4', '--json'];
  const env = cliEnv({ PGPASSWORD: server().password });

  const first = await skillcert(args, { env });
  t.is(first.code, 0, show(first));
  const sharing = people.filter((r) => r.photo === missing).length;
  t.like(JSON.parse(first.stdout), { ok: true, issued: 10 - sharing, rejected: sharing, chunks: 3 });

  // The photo arrives; the same command again works the chunks with problems, and only those.
  renameSync(join(photos, 'late.jpg'), join(photos, missing));
  const again = await skillcert(args, { env });
  t.is(again.code, 0, show(again));
  const r = JSON.parse(again.stdout) as RunJson;
  t.like(r, { ok: true, issued: 10, rejected: 0 });
  t.true(r.chunks! >= 1 && r.chunks! < 3, `only the chunks with problems were worked again (${r.chunks})`);
  t.truthy(r.archive, 'the bundle is written again, now with every certificate');
  await checkBatch(t, url, join(work, 'out'), 10, batchOf(roster));
});
