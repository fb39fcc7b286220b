/**
 * The zip layer of the .xlsx reader: yauzl through the central directory, so that parts are read by name in any
 * order, each one checked — method, encryption, declared and counted sizes, compression ratio, CRC-32 — and every
 * wait under the stall watchdog. Nothing read from a part may be used before its generator has ended: that is when
 * the CRC and the size are known to match (see `read`).
 */
import type { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { SkillcertError } from '../core/errors.js';
import { deadline, stalled, watchedChunks } from './io.js';

export interface ZipLimits {
  /** Inflated bytes of one part. */
  readonly partBytes: number;
  /** Inflated bytes of every read of the workbook together. */
  readonly totalBytes: number;
  /** Largest inflated : compressed ratio … */
  readonly ratio: number;
  /** … once a part inflates beyond this many bytes (small parts of repeated markup compress far better). */
  readonly ratioFrom: number;
  /** Entries in the central directory. */
  readonly entries: number;
}

/** Compression methods other than stored (0) and deflate (8), for the message. */
const METHODS: Readonly<Record<number, string>> = { 1: 'Shrink', 6: 'Implode', 9: 'Deflate64', 12: 'BZIP2', 14: 'LZMA', 93: 'Zstandard', 95: 'XZ', 98: 'PPMd', 99: 'AES' };

const AGAIN = 'get a new copy of the roster from its sender, or open it in Excel or WPS and save it as .xlsx again';

function bytes(n: number): string {
  return `${n.toLocaleString('en-US')} bytes`;
}

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

/** A part that cannot be trusted: its name, what is wrong, what to do. */
export function damagedPart(name: string, part: string, what: string, cause?: unknown): SkillcertError {
  return new SkillcertError('E_ROSTER', `roster ${name} is damaged: the part ${part} ${what}; ${AGAIN}`, { part }, cause === undefined ? undefined : { cause });
}

/** A part beyond one of the reader's bounds: not damage a copy would fix, a file that is not a roster. */
export function overLimit(name: string, part: string, what: string): SkillcertError {
  return new SkillcertError('E_ROSTER', `roster ${name}: the part ${part} ${what}, which no spreadsheet program writes; check that this is the right file`, { part, limit: true });
}

/** The error maker of one part for XmlStream. */
export function partError(name: string, part: string): (what: string, cause?: unknown, limit?: boolean) => SkillcertError {
  return (what, cause, limit) => (limit ? overLimit(name, part, what) : damagedPart(name, part, what, cause));
}

/** The whole zip is unreadable (no central directory, a bad entry header …). */
function damagedZip(name: string, err: unknown): SkillcertError {
  if (err instanceof SkillcertError) return err;
  const why = (err as Error).message.replace(/\.$/, '');
  return new SkillcertError('E_ROSTER', `cannot read roster ${name}: the workbook is damaged or not an .xlsx file (${why}); open it in Excel or WPS, save it as .xlsx and run again`, {}, { cause: err });
}

/** yauzl's and zlib's words for a broken entry → what the user can act on. */
function streamProblem(err: Error, entry: yauzl.Entry): string {
  const m = err.message;
  if (/too many bytes in the stream/.test(m)) return `inflates to more than the ${bytes(entry.uncompressedSize)} its zip entry declares`;
  if (/not enough bytes in the stream/.test(m)) return `ends before the ${bytes(entry.uncompressedSize)} its zip entry declares (the file is cut short or damaged)`;
  if (/overflows file bounds/.test(m)) return 'runs past the end of the file (the file is cut short)';
  if (/unexpected end of file/.test(m)) return 'ends in the middle of its compressed data (the file is cut short)';
  if (/invalid local file header signature/.test(m)) return `has a damaged entry header (${m})`;
  return `cannot be inflated (${m})`;
}

export class ZipArchive {
  /** Inflated bytes so far, all reads together. */
  private inflated = 0;
  private open = true;

  private constructor(
    private readonly zip: yauzl.ZipFile,
    private readonly entries: ReadonlyMap<string, yauzl.Entry>,
    private readonly name: string,
    private readonly limits: ZipLimits,
    private readonly stallMs: number,
  ) {}

  /** Opens the zip and reads its central directory; `name` is the file's name for messages. */
  static async open(file: string, name: string, limits: ZipLimits, stallMs: number): Promise<ZipArchive> {
    // Set by the watchdog when it gives up before yauzl calls back: the late zip is then closed at once.
    let abandoned = false;
    const zip = await deadline(
      new Promise<yauzl.ZipFile>((resolve, reject) => {
        yauzl.open(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (err, z) => {
          if (err) return reject(damagedZip(name, err));
          // yauzl emits late errors (a failed close) as events: with no listener they would crash the process.
          z.on('error', () => undefined);
          (z as unknown as { reader?: EventEmitter }).reader?.on('error', () => undefined);
          if (abandoned) z.close();
          else resolve(z);
        });
      }),
      stallMs,
      () => {
        abandoned = true;
        return stalled(name, 'the zip directory', stallMs);
      },
    );
    try {
      const entries = new Map<string, yauzl.Entry>();
      for (;;) {
        const entry = await deadline(nextEntry(zip, name), stallMs, () => stalled(name, 'the zip directory', stallMs));
        if (!entry) break;
        if (entry.fileName.endsWith('/')) continue; // a folder
        // Part names compare case-insensitively (OPC, ECMA-376 Part 2 §6.2.2.3): two entries for one part are ambiguous.
        const key = entry.fileName.toLowerCase();
        if (entries.has(key)) throw new SkillcertError('E_ROSTER', `roster ${name} is damaged: the zip holds the part ${entry.fileName} twice, and which one Excel would read is a guess; ${AGAIN}`, { part: entry.fileName });
        if (entries.size >= limits.entries) {
          throw new SkillcertError('E_ROSTER', `roster ${name} has more than ${limits.entries.toLocaleString('en-US')} zip entries, far more than any workbook; check that this is the right file`);
        }
        entries.set(key, entry);
      }
      return new ZipArchive(zip, entries, name, limits, stallMs);
    } catch (err) {
      zip.close();
      throw damagedZip(name, err);
    }
  }

  has(part: string): boolean {
    return this.entries.has(part.toLowerCase());
  }

  /**
   * The inflated bytes of a part, checked as they come (sizes, ratio, the total) and at the end (CRC-32, size).
   * The generator throws instead of ending when the part fails a check, so a caller that uses data only after
   * the loop has ended never uses damaged data.
   */
  async *read(part: string): AsyncGenerator<Buffer, void, undefined> {
    const { name, limits } = this;
    const entry = this.entries.get(part.toLowerCase());
    if (!entry) throw damagedPart(name, part, 'is missing from the zip');
    if (entry.generalPurposeBitFlag & 0x1) {
      throw new SkillcertError('E_ROSTER', `roster ${name}: the part ${part} is encrypted; open the workbook in Excel or WPS and save it as .xlsx without a password`, { part });
    }
    if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
      const method = METHODS[entry.compressionMethod];
      throw new SkillcertError('E_ROSTER', `roster ${name}: the part ${part} is compressed with method ${entry.compressionMethod}${method ? ` (${method})` : ''}, which no spreadsheet program writes and this reader does not read; open the workbook in Excel or WPS and save it as .xlsx again`, { part });
    }
    // Refused by its declared size before anything is inflated; yauzl (validateEntrySizes) and the count below keep the
    // inflated bytes to that declaration.
    this.checkSize(part, entry.uncompressedSize, entry.compressedSize, 'would inflate to');
    if (this.inflated + entry.uncompressedSize > limits.totalBytes) this.tooMuchInAll();

    const stream = await this.openStream(part, entry);
    let crc = 0;
    let size = 0;
    try {
      for await (const chunk of watchedChunks(stream, this.stallMs, () => stalled(name, `the part ${part}`, this.stallMs))) {
        size += chunk.length;
        this.inflated += chunk.length;
        if (size > entry.uncompressedSize) throw damagedPart(name, part, `inflates to more than the ${bytes(entry.uncompressedSize)} its zip entry declares`);
        this.checkSize(part, size, entry.compressedSize, 'inflates to more than');
        if (this.inflated > limits.totalBytes) this.tooMuchInAll();
        crc = crc32(chunk, crc);
        yield chunk;
      }
    } catch (err) {
      if (err instanceof SkillcertError) throw err;
      throw damagedPart(name, part, streamProblem(err as Error, entry), err);
    }
    if (size !== entry.uncompressedSize) throw damagedPart(name, part, `inflates to ${bytes(size)}, not the ${bytes(entry.uncompressedSize)} its zip entry declares`);
    if (crc !== entry.crc32) {
      throw new SkillcertError(
        'E_ROSTER',
        `roster ${name} is damaged: the part ${part} fails its CRC check (stored ${hex(entry.crc32)}, computed ${hex(crc)}), so what it holds cannot be trusted; do not repair the file — get a new copy of the roster from its sender`,
        { part },
      );
    }
  }

  /** Reads a part to its end for its checks only (the fast first pass over a worksheet). */
  async verify(part: string): Promise<void> {
    for await (const chunk of this.read(part)) void chunk;
  }

  /** Releases the file; streams still open are destroyed by their generators, after which yauzl closes the fd. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.zip.close();
  }

  private checkSize(part: string, size: number, compressed: number, verb: string): void {
    const { name, limits } = this;
    if (size > limits.partBytes) {
      throw new SkillcertError('E_ROSTER', `roster ${name}: the part ${part} ${verb} ${bytes(size)}, more than the ${bytes(limits.partBytes)} this reader accepts for one part; a roster is far smaller — check that this is the right file (it may be a zip bomb)`, { part });
    }
    if (size > limits.ratioFrom && size / Math.max(compressed, 1) > limits.ratio) {
      throw new SkillcertError('E_ROSTER', `roster ${name}: the part ${part} ${verb} ${bytes(size)} from ${bytes(compressed)}, a compression ratio above ${limits.ratio}:1 that no real workbook has; this looks like a zip bomb — check the file`, { part });
    }
  }

  private tooMuchInAll(): never {
    throw new SkillcertError('E_ROSTER', `roster ${this.name}: reading it would inflate more than ${bytes(this.limits.totalBytes)} in all, more than this reader accepts; a roster is far smaller — check that this is the right file (it may be a zip bomb)`);
  }

  private openStream(part: string, entry: yauzl.Entry): Promise<Readable> {
    let abandoned = false;
    return deadline(
      new Promise<Readable>((resolve, reject) => {
        if (!this.open) return reject(new Error('the workbook was closed'));
        this.zip.openReadStream(entry, (err, stream) => {
          if (err) return reject(damagedPart(this.name, part, streamProblem(err, entry), err));
          if (abandoned) stream.destroy();
          else resolve(stream);
        });
      }),
      this.stallMs,
      () => {
        abandoned = true;
        return stalled(this.name, `the part ${part}`, this.stallMs);
      },
    );
  }
}

/** The next central-directory entry, or null at the end. */
function nextEntry(zip: yauzl.ZipFile, name: string): Promise<yauzl.Entry | null> {
  return new Promise((resolve, reject) => {
    const done = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (e: yauzl.Entry) => (done(), resolve(e));
    const onEnd = () => (done(), resolve(null));
    const onError = (err: Error) => (done(), reject(damagedZip(name, err)));
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}
