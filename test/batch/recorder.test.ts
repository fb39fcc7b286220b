/**
 * The issue recorder (pipeline/batch/recorder.ts): signed files recorded in groups, one transaction each; when a
 * group fails, its files are recorded one by one, so that only the failing ones are reported.
 */
import test from 'ava';
import { IssueRecorder, type ToRecord } from '../../pipeline/batch/recorder.js';
import { makeContext } from '../../pipeline/core/context.js';
import { makeLogger } from '../../pipeline/core/log.js';
import type { Registry } from '../../pipeline/registry/index.js';

const ctx = makeContext({ now: new Date('2026-11-20T10:00:00+08:00'), log: makeLogger('silent'), operator: 'test' });

/** A registry that records calls; numbers in `broken` cannot be recorded (the group holding one fails whole). */
function fakeRegistry(broken: ReadonlySet<string> = new Set()) {
  const groups: string[][] = [];
  const singles: string[] = [];
  const registry = {
    async markIssuedMany(items: readonly { number: string }[]) {
      if (items.some((i) => broken.has(i.number))) throw new Error('constraint failed');
      groups.push(items.map((i) => i.number));
      return [];
    },
    async markIssued(number: string) {
      if (broken.has(number)) throw new Error(`cannot record ${number}`);
      singles.push(number);
      return {};
    },
  } as unknown as Registry;
  return { registry, groups, singles };
}

const item = (n: number): ToRecord => ({ row: { rowNo: n } as ToRecord['row'], rec: { number: `N${n}` } as ToRecord['rec'], pdf: { file: `N${n}.pdf`, sha256: 'a'.repeat(64) } });

test('files added together are recorded in one transaction, and each add() resolves once its group is committed', async (t) => {
  const { registry, groups, singles } = fakeRegistry();
  const failed: string[] = [];
  const r = new IssueRecorder(registry, ctx, (i) => failed.push(i.rec.number));
  const added = Array.from({ length: 10 }, (_, i) => r.add(item(i)));
  await r.flush();
  t.deepEqual(await Promise.all(added), Array(10).fill(true));
  t.deepEqual(groups, [Array.from({ length: 10 }, (_, i) => `N${i}`)]);
  t.deepEqual(singles, []);
  t.deepEqual(failed, []);
});

test('a full group commits without waiting for the timer; the rest wait for flush()', async (t) => {
  const { registry, groups } = fakeRegistry();
  const r = new IssueRecorder(registry, ctx, () => t.fail());
  const added = Array.from({ length: 130 }, (_, i) => r.add(item(i)));
  await Promise.all(added.slice(0, 128));
  t.is(groups.length, 1);
  t.is(groups[0]!.length, 128);
  await r.flush();
  await Promise.all(added);
  t.is(groups[1]!.length, 2);
});

test('a group that fails is recorded one by one: only the failing file is reported, the others are recorded', async (t) => {
  const { registry, groups, singles } = fakeRegistry(new Set(['N3']));
  const failed: string[] = [];
  const r = new IssueRecorder(registry, ctx, (i, err) => failed.push(`${i.rec.number}: ${(err as Error).message}`));
  const added = Array.from({ length: 5 }, (_, i) => r.add(item(i)));
  await r.flush();
  t.deepEqual(await Promise.all(added), [true, true, true, false, true]);
  t.deepEqual(groups, []);
  t.deepEqual(singles, ['N0', 'N1', 'N2', 'N4']);
  t.deepEqual(failed, ['N3: cannot record N3']);
});
