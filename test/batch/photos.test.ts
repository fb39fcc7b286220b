/**
 * The photo queue of a batch (pipeline/batch/photos.ts), on real photos and sharp: rows come out in roster order
 * with their photos prepared; no more than the window is read ahead of the rows released; a missing photo is that
 * row's problem, not the queue's; stop() ends the reading.
 */
import test from 'ava';
import { mkdirSync, copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PhotoQueue } from '../../pipeline/batch/photos.js';
import type { Row } from '../../pipeline/core/record.js';
import { FIXTURES_DIR } from '../../pipeline/core/paths.js';
import { tempDir } from '../helpers/temp.js';

const PHOTOS = join(FIXTURES_DIR, 'rosters', 'photos');
const photoFiles = readdirSync(PHOTOS).filter((f) => /\.jpe?g$/i.test(f));

const row = (rowNo: number, photo: string | undefined): Row => ({ rowNo, photo } as unknown as Row);

/** An async source of rows that counts how many have been read. */
function source(rows: Row[]): { rows: AsyncIterable<Row>; read: () => number } {
  let read = 0;
  return {
    rows: (async function* () {
      for (const r of rows) {
        read++;
        yield r;
      }
    })(),
    read: () => read,
  };
}

test('rows come out in roster order, in groups, with their photos prepared; a missing photo is the row\'s problem', async (t) => {
  const dir = tempDir('skillcert-photos-');
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(PHOTOS, photoFiles[0]!), join(dir, 'a.jpg'));
  const rows = [row(2, 'a.jpg'), row(3, 'missing.jpg'), row(4, 'a.jpg'), row(5, 'a.jpg'), row(6, 'a.jpg')];
  const q = new PhotoQueue(source(rows).rows, dir, 4);
  const seen: number[] = [];
  for (let group = await q.next(2); group.length; group = await q.next(2)) {
    for (const p of group) {
      seen.push(p.row.rowNo);
      t.truthy(p.photo.value ?? p.photo.error, 'settled before it is handed out');
      const v = p.photo.value!;
      if (p.row.rowNo === 3) t.false(v.ok, 'the missing photo is reported for its row');
      else t.true(v.ok && v.photo.jpeg.length > 1000, `row ${p.row.rowNo}: a JPEG`);
      q.release();
    }
  }
  await q.done;
  t.deepEqual(seen, [2, 3, 4, 5, 6]);
});

test('no more rows are read than the window allows ahead of the released ones', async (t) => {
  const rows = Array.from({ length: 20 }, (_, i) => row(i + 2, undefined));
  const src = source(rows);
  const q = new PhotoQueue(src.rows, tempDir('skillcert-photos-'), 5);
  const first = await q.next(5);
  t.is(first.length, 5);
  await sleep(50);
  // (the reader holds one row more, read from the source but not yet prepared: it waits for a free place)
  t.is(src.read(), 6, 'the reader waits for releases');
  q.release();
  q.release();
  await sleep(50);
  t.is(src.read(), 8, 'two released, two more read');
  t.is((await q.next(2)).length, 2, 'and prepared');
  q.stop();
  await q.done;
});

test('stop() ends the reading: the queue hands out what it holds and then nothing', async (t) => {
  const rows = Array.from({ length: 10 }, (_, i) => row(i + 2, undefined));
  const src = source(rows);
  const q = new PhotoQueue(src.rows, tempDir('skillcert-photos-'), 3);
  await q.next(3);
  q.stop();
  q.release();
  await q.done;
  t.true(src.read() <= 4, 'nothing read after the stop but the row in hand');
  t.deepEqual(await q.next(3), []);
});
