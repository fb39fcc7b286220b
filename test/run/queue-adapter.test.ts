/**
 * The batch's job queue (pipeline/batch/queue.ts) as an adapter over pg-boss, in this process against a real
 * PostgreSQL server started by this file: two queues on one batch are two machines. What the CLI tests
 * (queue.test.ts) cannot reach quickly: the layout kept by the first machine and a roster that disagrees with it, a
 * lease that runs out on a live machine (it stops; the chunk goes to the other), the bundle's single writer, a
 * rerun's new round, and a database that stops answering.
 */
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchQueue, type Chunk, type ChunkOutcome, leaseFor, queueNames } from '../../pipeline/batch/queue.js';
import { SkillcertError } from '../../pipeline/core/errors.js';
import { startPostgres, type PgServer } from '../helpers/postgres.js';

let server: PgServer;
test.before(async () => {
  server = await startPostgres();
});
test.after.always(async () => {
  await server?.stop();
});

const clean: ChunkOutcome = { problems: [], skipped: [], existing: [] };
const withProblem = (rowNo: number): ChunkOutcome => ({ problems: [{ rowNo, field: 'photo', rule: 'photo.missing', message: 'no photo' }], skipped: [], existing: [] });

/** Every job of the batch's queues as pg-boss holds it (table pgboss.job), chunk jobs by chunk and round. */
async function jobs(url: string, batchId: string): Promise<{ chunk: number; round: number; state: string; retries: number; by: string | null }[]> {
  const c = await server.client(url);
  try {
    return (await c.query<{ chunk: number; round: number; state: string; retries: number; by: string | null }>(
      `SELECT (data->>'chunk')::int AS chunk, (data->>'round')::int AS round, state::text, retry_count AS retries, output->>'by' AS by
         FROM pgboss.job WHERE name = $1 ORDER BY 1, 2`,
      [queueNames(batchId).chunks],
    )).rows;
  } finally {
    await c.end();
  }
}

async function claimAll(q: BatchQueue): Promise<Chunk[]> {
  const got: Chunk[] = [];
  for (let c = await q.claim(); c; c = await q.claim()) {
    got.push(c);
    await q.complete(c, clean);
  }
  return got;
}

test('the first machine lays the batch out; a second on the same roster shares it, one on another roster is refused', async (t) => {
  const url = await server.createDatabase();
  const a = await BatchQueue.open(url, 'b-layout', { accepted: 10, chunkRows: 4 });
  // The second machine asks for chunks of 3: it follows the layout already there.
  const b = await BatchQueue.open(url, 'b-layout', { accepted: 10, chunkRows: 3 });
  const err = await t.throwsAsync(BatchQueue.open(url, 'b-layout', { accepted: 11, chunkRows: 4 }));
  t.is((err as SkillcertError).code, 'E_ROSTER');
  t.regex(err!.message, /holds 10 rows but this roster has 11 accepted rows/);
  const c0 = (await a.claim())!;
  const c1 = (await b.claim())!;
  t.deepEqual([c0, c1], [{ chunk: 0, first: 0, rows: 4 }, { chunk: 1, first: 4, rows: 4 }], 'claimed in roster order, across machines');
  await a.complete(c0, withProblem(2));
  await b.complete(c1, clean);
  t.deepEqual(await claimAll(a), [{ chunk: 2, first: 8, rows: 2 }]);
  t.is(await b.claim(), undefined, 'nothing left');
  t.deepEqual((await a.outcomes()).map((o) => o.problems.length), [1, 0, 0]);
  t.deepEqual((await jobs(url, 'b-layout')).map((j) => j.state), ['completed', 'completed', 'completed']);
  await a.close();
  await b.close();

  const bad = await t.throwsAsync(BatchQueue.open(url, 'b-layout', { accepted: 10, chunkRows: 0 }));
  t.is((bad as SkillcertError).code, 'E_USAGE');
  const short = await t.throwsAsync(BatchQueue.open(url, 'b-layout', { accepted: 10, chunkRows: 4, leaseSeconds: 2 }));
  t.like(short, { code: 'E_USAGE', message: 'the lease must be a whole number of seconds from 5 to 82800, not 2' });
});

test('one machine writes the bundle; the other waits for it and reports who did; a rerun retries only the chunks with problems', async (t) => {
  const url = await server.createDatabase();
  const a = await BatchQueue.open(url, 'b-bundle', { accepted: 6, chunkRows: 2, pollMs: 50 });
  const b = await BatchQueue.open(url, 'b-bundle', { accepted: 6, chunkRows: 2, pollMs: 50 });
  const c0 = (await a.claim())!;
  await a.complete(c0, withProblem(1));
  const c1 = (await b.claim())!;
  await b.complete(c1, clean);
  const c2 = (await a.claim())!;
  t.is(await b.claimBundle(), undefined, 'a chunk is still in progress: the bundle is not to be claimed yet');
  await a.complete(c2, clean);
  const first = await a.claimBundle();
  t.deepEqual(first, { done: false }, 'a writes the bundle');
  let bWaited = false;
  const bClaim = b.claimBundle().then((r) => ((bWaited = true), r));
  await sleep(300);
  t.false(bWaited, 'b waits while a writes the bundle');
  await a.bundled();
  const second = await bClaim;
  t.true(second!.done);
  t.regex(second!.by!, new RegExp(`pid ${process.pid}$`));
  await a.close();
  await b.close();

  // The rerun: only chunk 0 had a problem; it gets a job of round 1, and so does the bundle.
  const again = await BatchQueue.open(url, 'b-bundle', { accepted: 6, chunkRows: 2 });
  const retried = await claimAll(again);
  t.deepEqual(retried.map((c) => c.chunk), [0]);
  t.deepEqual(await again.claimBundle(), { done: false }, 'the bundle is written again');
  await again.bundled();
  t.deepEqual((await again.outcomes()).map((o) => o.problems.length), [0, 0, 0], 'the outcomes are the current round\'s');
  t.deepEqual((await jobs(url, 'b-bundle')).map((j) => `${j.chunk}.${j.round} ${j.state}`), ['0.0 completed', '0.1 completed', '1.0 completed', '2.0 completed']);
  await again.close();
  // A batch that finished without problems is left as it is.
  const done = await BatchQueue.open(url, 'b-bundle', { accepted: 6, chunkRows: 2 });
  t.is(await done.claim(), undefined);
  t.true((await done.claimBundle())!.done);
  await done.close();
});

test('a chunk that outlives its lease is lost by its machine (which stops) and claimed by another after pg-boss expires it', async (t) => {
  const url = await server.createDatabase();
  const lost: Error[] = [];
  const a = await BatchQueue.open(url, 'b-lease', { accepted: 4, chunkRows: 2, leaseSeconds: 5, pollMs: 100, onLost: (e) => lost.push(e) });
  const b = await BatchQueue.open(url, 'b-lease', { accepted: 4, chunkRows: 2, leaseSeconds: 5, pollMs: 100 });
  const held = (await a.claim())!;
  const t0 = Date.now();
  t.deepEqual(await claimAll(b), [{ chunk: 1, first: 2, rows: 2 }, held], 'b works the chunk left, then waits for a\'s and takes it over');
  const back = (Date.now() - t0) / 1000;
  t.log(`a's chunk came back to b after ${back.toFixed(1)} s (lease 5 s, supervision every 1 s)`);
  t.true(back >= 4.5 && back < 9, `${back} s`);
  t.is(lost.length, 1, 'a was told, before b took the chunk');
  t.regex(lost[0]!.message, /chunk 0 of batch b-lease outlived its lease of 5 s/);
  const late = await t.throwsAsync(a.complete(held, clean));
  t.is((late as SkillcertError).code, 'E_REGISTRY');
  const rows = await jobs(url, 'b-lease');
  t.like(rows[0], { chunk: 0, state: 'completed', retries: 1 }, 'pg-boss handed it out a second time, to b');
  t.regex(rows[0]!.by!, /pid/);
  await a.close();
  await b.close();
  t.is(leaseFor(500), 250);
  t.is(leaseFor(2), 60);
});

test('a released chunk goes straight back; one given up RETRIES + 1 times stops the batch until a rerun retries it', async (t) => {
  const url = await server.createDatabase();
  const q = await BatchQueue.open(url, 'b-release', { accepted: 1, chunkRows: 1 });
  for (let attempt = 0; attempt < 4; attempt++) {
    const c = await q.claim();
    t.is(c?.chunk, 0, `attempt ${attempt + 1}`);
    await q.release(c!);
  }
  const err = await t.throwsAsync(q.claim());
  t.is((err as SkillcertError).code, 'E_REGISTRY');
  t.regex(err!.message, /chunk\(s\) 0 of batch b-release failed on 4 attempts/);
  await q.close();
  const rerun = await BatchQueue.open(url, 'b-release', { accepted: 1, chunkRows: 1 });
  t.is((await rerun.claim())?.chunk, 0, 'the rerun retries it');
  await rerun.close();
});

test('a database that stops answering is E_REGISTRY naming the server, and the machine is told its claims are lost', async (t) => {
  const url = await server.createDatabase();
  const lost: Error[] = [];
  const q = await BatchQueue.open(url, 'b-gone', { accepted: 4, chunkRows: 2, onLost: (e) => lost.push(e) });
  const c = (await q.claim())!;
  const admin = await server.client(`${server.baseUrl}/postgres`);
  const db = new URL(url).pathname.slice(1);
  await admin.query(`ALTER DATABASE ${db} ALLOW_CONNECTIONS false`);
  await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'skillcert queue%' AND datname = $1", [db]);
  await admin.end();
  const err = await t.throwsAsync(q.complete(c, clean));
  t.is((err as SkillcertError).code, 'E_REGISTRY');
  t.regex(err!.message, /^lost the connection to the job queue at postgres:\/\/skillcert@127\.0\.0\.1:\d+\/\w+ \(.+\): this machine's chunks go back to the others when their lease ends$/);
  t.is(lost.length, 1);
  await t.throwsAsync(q.claim(), { message: err!.message }, 'every later call says the same');
  await q.close();

  const refused = await t.throwsAsync(BatchQueue.open(url, 'b-gone', { accepted: 4, chunkRows: 2 }));
  t.is((refused as SkillcertError).code, 'E_REGISTRY');
  t.regex(refused!.message, /^cannot open the job queue at postgres:\/\/skillcert@127\.0\.0\.1:\d+\/\w+: /);
  t.notRegex(refused!.message, new RegExp(server.password));
});
