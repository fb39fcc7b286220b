/**
 * The correct → render → sign → recordDigest hand-over (SPEC §8) with a stand-in renderer: what it is asked to
 * print, and what a crash or a failing renderer leaves for `skillcert correct --resume`.
 */
import test from 'ava';
import { correctAndRerender, reissueAndRerender, resumePending, type RenderAndSign } from '../../pipeline/after/rerender.js';
import { maskId } from '../../pipeline/core/privacy.js';
import type { PendingRender } from '../../pipeline/registry/index.js';
import { openSqliteRegistry } from '../../pipeline/registry/sqlite.js';
import { issuedCertificate, PEOPLE, sha } from '../helpers/registry-after.js';
import { tempRegistryPath } from '../helpers/registry-processes.js';

const CTX = { now: new Date('2025-07-10T01:00:00.000Z'), operator: 'clerk-wang' };

/** Records each job and "signs" a PDF whose digest depends on what was printed. */
function fakeRenderer(failFor: Set<string> = new Set()): { render: RenderAndSign; jobs: PendingRender[] } {
  const jobs: PendingRender[] = [];
  const render: RenderAndSign = async (job) => {
    jobs.push(job);
    if (failFor.has(job.number)) throw new Error(`font lacks a glyph for ${String(job.printed.name)} (${job.certificate.idNo})`);
    return { file: `${job.number}-r${job.revision}.pdf`, sha256: sha(JSON.stringify([job.printed, job.reissue ?? null, job.photoChanged])) };
  };
  return { render, jobs };
}

test('correctAndRerender renders the corrected data under the same number and leaves nothing pending', async (t) => {
  const registry = await openSqliteRegistry(tempRegistryPath());
  const { number, sha256: old } = await issuedCertificate(registry, PEOPLE.li);
  const { render, jobs } = fakeRenderer();
  const rec = await correctAndRerender(registry, number, { name: '李晓刚' }, '姓名录入错误', render, CTX);
  t.is(jobs.length, 1);
  t.is(jobs[0]?.printed.name, '李晓刚');
  t.is(rec.number, number);
  t.is(rec.pendingRender, undefined);
  t.like(await registry.status(number, old), { digest: 'superseded' });
  const sign = (await registry.audit({ number })).at(-1);
  t.like(sign, { action: 'sign', operator: 'clerk-wang', beforeSha256: old, afterSha256: rec.sha256 });
  t.regex(sign?.reason ?? '', /第十七条 correction 1 \(name\): 姓名录入错误/);
  await registry.close();
});

test('reissueAndRerender hands the renderer the 补发 date and the unchanged printed data', async (t) => {
  const registry = await openSqliteRegistry(tempRegistryPath());
  const { number } = await issuedCertificate(registry, PEOPLE.chen);
  const before = await registry.getByNumber(number);
  const { render, jobs } = fakeRenderer();
  await reissueAndRerender(registry, number, 'lost', render, CTX, '遗失');
  t.deepEqual(jobs[0]?.reissue, { kind: 'lost', date: '2025-07-10' });
  t.deepEqual(jobs[0]?.printed, before?.printed);
  t.deepEqual(await registry.pendingRenders(), []);
  await registry.close();
});

test('a failing renderer leaves its correction pending; resume finishes the rest, reports the failure, and a later resume finishes it', async (t) => {
  const path = tempRegistryPath();
  let registry = await openSqliteRegistry(path);
  const a = await issuedCertificate(registry, PEOPLE.li);
  const b = await issuedCertificate(registry, PEOPLE.wu);
  const broken = fakeRenderer(new Set([a.number]));
  await t.throwsAsync(correctAndRerender(registry, a.number, { name: '李晓𠮷' }, '姓名生僻字', broken.render, CTX), { message: /font lacks a glyph/ });
  t.truthy(await registry.pendingRender(a.number), 'the correction is recorded and waits');
  t.is((await registry.getByNumber(a.number))?.sha256, a.sha256, 'the old PDF is still current');
  await registry.reissue(b.number, 'damaged', CTX.now, CTX.operator);
  await registry.close(); // the process ends here

  registry = await openSqliteRegistry(path);
  const first = await resumePending(registry, broken.render, CTX);
  t.deepEqual(first.done.map((r) => r.number), [b.number]);
  t.deepEqual(first.failed.map((f) => f.number), [a.number]);
  t.is(first.failed[0]?.error.code, 'E_RENDER');
  t.false(first.failed[0]?.error.message.includes(PEOPLE.li.idNo), 'the renderer quoted the ID number; the report masks it');
  t.true(first.failed[0]?.error.message.includes(maskId(PEOPLE.li.idNo)));

  const fixed = fakeRenderer();
  const second = await resumePending(registry, fixed.render, CTX);
  t.deepEqual(second.done.map((r) => r.number), [a.number]);
  t.is(fixed.jobs[0]?.printed.name, '李晓𠮷');
  t.deepEqual(await registry.pendingRenders(), []);
  t.true((await registry.verifyAudit()).ok);
  await registry.close();
});
