/**
 * Run as a child process by test/ingest/xlsx-stall.test.ts: reads a roster whose worksheet stream never delivers a
 * byte, with nothing else keeping the event loop alive. Without the watchdog Node would exit with status 13 and no
 * message (what exceljs did on damaged zips); with it the read fails and says so.
 */
import { PassThrough } from 'node:stream';
import yauzl from 'yauzl';
import { openRoster } from '../../pipeline/ingest/roster.js';

const proto = yauzl.ZipFile.prototype as unknown as { openReadStream(entry: yauzl.Entry, ...rest: unknown[]): void };
const original = proto.openReadStream;
proto.openReadStream = function (this: yauzl.ZipFile, entry: yauzl.Entry, ...rest: unknown[]) {
  if (!entry.fileName.includes('worksheets/')) return original.call(this, entry, ...rest);
  const cb = rest[rest.length - 1] as (err: Error | null, s: PassThrough) => void;
  setImmediate(() => cb(null, new PassThrough()));
};

try {
  const r = await openRoster(process.argv[2]!, { stallMs: Number(process.argv[3] ?? 200) });
  for await (const row of r.rows) void row;
  console.log('read');
} catch (err) {
  console.log(`${(err as Error).name}: ${(err as Error).message}`);
}
