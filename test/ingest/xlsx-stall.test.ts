/**
 * No hangs, no silent exits, no leaked file: a read that makes no progress fails after `stallMs` with "reading X
 * stalled", and the zip file is closed on every path — the end of the rows, an error, an early close or break.
 * Its own file: yauzl's prototype is patched while some of these tests run.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { promisify } from 'node:util';
import yauzl from 'yauzl';
import { openRoster } from '../../pipeline/ingest/roster.js';
import { SkillcertError } from '../../pipeline/core/errors.js';
import { tempDir, writeWorkbook } from '../helpers/roster-workbook.js';
import { fdsClosed, fdsOn, rezip } from '../helpers/ingest-zip.js';
import { readFile, writeFile } from 'node:fs/promises';

const HEADER = ['序号', '姓名', '证件类型', '证件号码', '职业名称', '工种/职业方向', '职业技能等级', '认定结果', '发证日期'];
const ROWS = Array.from({ length: 50 }, (_, i) => [i + 1, `考生${i}`, '201', '110101198503120033', '车工', '', '三级', '合格', '2026-11-20']);

type Open = (this: yauzl.ZipFile, entry: yauzl.Entry, ...rest: unknown[]) => void;
const proto = yauzl.ZipFile.prototype as unknown as { openReadStream: Open };

/** Makes the worksheet's stream deliver its first `bytes` bytes, then nothing, ever. */
function stallWorksheet(bytes: number): () => void {
  const original = proto.openReadStream;
  proto.openReadStream = function (entry, ...rest) {
    if (!entry.fileName.includes('worksheets/')) return original.call(this, entry, ...rest);
    const cb = rest[rest.length - 1] as (err: Error | null, s?: Readable) => void;
    original.call(this, entry, (err: Error | null, real: Readable) => {
      if (err) return cb(err);
      const stuck = new PassThrough();
      real.once('data', (chunk: Buffer) => {
        if (bytes > 0) stuck.write(chunk.subarray(0, bytes));
        real.destroy();
      });
      stuck.on('close', () => real.destroy());
      cb(null, stuck);
    });
  };
  return () => {
    proto.openReadStream = original;
  };
}

async function roster(): Promise<string> {
  return writeWorkbook(join(await tempDir(), 'r.xlsx'), [HEADER, ...ROWS]);
}

test.serial('a worksheet stream that stops fails with "reading X stalled" after stallMs, and releases the file', async (t) => {
  const file = await roster();
  for (const bytes of [0, 200]) {
    const restore = stallWorksheet(bytes);
    try {
      const started = Date.now();
      const err = await t.throwsAsync(async () => {
        const r = await openRoster(file, { stallMs: 300 });
        for await (const row of r.rows) void row;
      }, { instanceOf: SkillcertError });
      const took = Date.now() - started;
      t.is(err!.code, 'E_ROSTER');
      t.is(err!.message, 'reading roster r.xlsx stalled: no data came from the part xl/worksheets/sheet1.xml for 300 ms; the file may be on a drive that went away or still being written — copy it to a local disk and run again');
      // (not before the watchdog's time; that it ends at all, and does not hang, ava's timeout guards)
      t.true(took >= 300, `${took} ms`);
    } finally {
      restore();
    }
    t.is(await fdsClosed(file), fdsOn(file) === undefined ? undefined : 0);
  }
});

test('with nothing else to keep the process alive, a stalled read still ends with a message, not a silent exit 13', async (t) => {
  const file = await roster();
  const child = join(process.cwd(), 'test/helpers/ingest-stall-child.ts');
  const { stdout } = await promisify(execFile)(process.execPath, ['--import=tsx', child, file, '200'], { cwd: process.cwd(), timeout: 30_000 });
  t.is(stdout.trim(), 'SkillcertError: reading roster r.xlsx stalled: no data came from the part xl/worksheets/sheet1.xml for 200 ms; the file may be on a drive that went away or still being written — copy it to a local disk and run again');
});

test.serial('the zip file is closed on every path: the end, an early close or break, a damaged part, no header, two rosters', async (t) => {
  const file = await roster();
  if (fdsOn(file) === undefined) {
    t.pass('no /proc/self/fd here');
    return;
  }
  const closed = async (what: string) => t.is(await fdsClosed(file), 0, what);

  const whole = await openRoster(file);
  for await (const row of whole.rows) void row;
  await closed('read to the end');

  const early = await openRoster(file);
  await early.rows.next();
  t.true(fdsOn(file)! > 0, 'open while rows are being read');
  await early.close();
  await closed('close() after one row');

  const unread = await openRoster(file);
  await unread.close();
  await closed('close() before any row');

  const broken = await openRoster(file);
  for await (const row of broken.rows) {
    void row;
    break;
  }
  await closed('break out of the rows');

  const dir = await tempDir();
  const stored = await rezip(file, join(dir, 'stored.xlsx'), { store: true });
  const bytes = await readFile(stored);
  bytes[bytes.indexOf('考生1') + 1] ^= 0x01;
  await writeFile(join(dir, 'damaged.xlsx'), bytes);
  await t.throwsAsync(openRoster(join(dir, 'damaged.xlsx')), { message: /fails its CRC check/ });
  t.is(await fdsClosed(join(dir, 'damaged.xlsx')), 0, 'a damaged part');

  const noHeader = await writeWorkbook(join(dir, 'no-header.xlsx'), [['名单'], ['姓名', '性别']]);
  await t.throwsAsync(openRoster(noHeader), { message: /no recognisable header row/ });
  t.is(await fdsClosed(noHeader), 0, 'no header');

  const two = await writeWorkbook(join(dir, 'two.xlsx'), [{ name: 'A', rows: [HEADER, ROWS[0]!] }, { name: 'B', rows: [HEADER, ROWS[1]!] }]);
  await t.throwsAsync(openRoster(two), { message: /header row on 2 visible sheets/ });
  t.is(await fdsClosed(two), 0, 'two rosters');
});
