/**
 * Byte damage: copies of a real roster with a few bytes flipped (seeded, so every run sees the same copies) either
 * read completely or fail with one E_ROSTER — never another error, never a hang. exceljs's streaming reader waited
 * on a stream that never ended for about 1 in 7 such copies, and the process exited with status 13 and no message.
 */
import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import yauzl from 'yauzl';
import { openRoster } from '../../pipeline/ingest/roster.js';
import { SkillcertError } from '../../pipeline/core/errors.js';
import { tempDir } from '../helpers/roster-workbook.js';
import { flipBytes, prng } from '../helpers/ingest-zip.js';

const FIXTURE = 'fixtures/rosters/haidian-qihang-2026-11.xlsx';
const COPIES = 60;
const PER_COPY_MS = 10_000;

/** Where the compressed data of the parts the reader uses lie in the file. */
async function dataRanges(file: string): Promise<[number, number][]> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true });
  const bytes = await readFile(file);
  const ranges: [number, number][] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', () => resolve());
    zip.on('entry', (e: yauzl.Entry) => {
      if (/^(xl\/|_rels\/)/.test(e.fileName) && !e.fileName.endsWith('/') && !e.fileName.includes('theme')) {
        const at = e.relativeOffsetOfLocalHeader;
        const start = at + 30 + bytes.readUInt16LE(at + 26) + bytes.readUInt16LE(at + 28);
        ranges.push([start, start + e.compressedSize]);
      }
      zip.readEntry();
    });
    zip.readEntry();
  });
  return ranges;
}

type Outcome = { kind: 'read'; rows: number } | { kind: 'E_ROSTER'; message: string } | { kind: 'other'; error: unknown } | { kind: 'hang' };

async function readCopy(file: string): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'hang' }), PER_COPY_MS);
  });
  const read = (async (): Promise<Outcome> => {
    try {
      const r = await openRoster(file);
      let rows = 0;
      for await (const row of r.rows) rows += row ? 1 : 0;
      return { kind: 'read', rows };
    } catch (err) {
      if (err instanceof SkillcertError && err.code === 'E_ROSTER') return { kind: 'E_ROSTER', message: err.message };
      return { kind: 'other', error: err };
    }
  })();
  try {
    return await Promise.race([read, hang]);
  } finally {
    clearTimeout(timer);
  }
}

test(`${COPIES} copies of a roster with 1–8 bytes flipped each read completely or fail with an E_ROSTER, and none hangs`, async (t) => {
  t.timeout(COPIES * PER_COPY_MS);
  const original = await readFile(FIXTURE);
  const whole = await readCopy(FIXTURE);
  t.is(whole.kind, 'read');
  const ranges = await dataRanges(FIXTURE);
  const dir = await tempDir();
  const rnd = prng(20261120);
  const outcomes: Outcome[] = [];
  for (let i = 0; i < COPIES; i++) {
    const count = 1 + Math.floor(rnd() * 8);
    // Half the copies are damaged anywhere after the zip signature, half inside the compressed data the reader uses.
    let bytes: Buffer;
    if (i % 2 === 0) bytes = flipBytes(original, rnd, count, 4).bytes;
    else {
      bytes = Buffer.from(original);
      for (let k = 0; k < count; k++) {
        const [a, b] = ranges[Math.floor(rnd() * ranges.length)]!;
        bytes[a + Math.floor(rnd() * (b - a))]! ^= 1 + Math.floor(rnd() * 255);
      }
    }
    const file = join(dir, `copy-${i}.xlsx`);
    await writeFile(file, bytes);
    const o = await readCopy(file);
    outcomes.push(o);
    if (o.kind === 'hang') t.fail(`copy ${i} hung`);
    if (o.kind === 'other') t.fail(`copy ${i}: ${String((o.error as Error)?.stack ?? o.error)}`);
    if (o.kind === 'read') t.is(o.rows, (whole as { rows: number }).rows, `copy ${i} read, so it must read whole`);
  }
  const tally = outcomes.reduce<Record<string, number>>((m, o) => ((m[o.kind] = (m[o.kind] ?? 0) + 1), m), {});
  t.log(tally);
  t.true((tally.E_ROSTER ?? 0) >= COPIES / 2, 'most damaged copies are refused');
});
