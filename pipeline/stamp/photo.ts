/**
 * The holder's photo (SPEC §3, 第八条): JPEG or PNG from the roster's photo folder, decoded under a pixel limit, a
 * colour photo on a white background, printed in a 30 mm × 30 mm box at 300 dpi or better: a small upright baseline
 * JPEG as it came (metadata removed), any other photo auto-oriented and made into a square on white. Every failure
 * is a Problem-like value for the row — never an exception, never a crashed run.
 */
import { closeSync, fstatSync, lstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, win32 } from 'node:path';
import type { Metadata, OutputInfo } from 'sharp';
import type { Problem } from '../core/errors.js';
import { requireCjs } from '../core/cjs.js';

const sharp = requireCjs('sharp') as typeof import('sharp').default;

// Every photo is read once: libvips's operation cache (up to 50 MB by default) would only hold decoded photos
// nobody asks for again. One libvips thread a photo: a photo is small, several are prepared at once (batch/photos.ts),
// and sharp's default rises to the number of cores when MALLOC_ARENA_MAX is set (as bin/skillcert sets it), so that
// every small pipeline was split over threads that mostly wait for each other.
sharp.cache(false);
sharp.concurrency(1);

export type PhotoProblem = Omit<Problem, 'rowNo'> & { readonly field: '照片' };

export interface PreparedPhoto {
  /**
   * Baseline JPEG, sRGB: the 360 px square made from the source (`converted`), or the source itself with its
   * metadata segments removed (`as-is`: already upright, sRGB, baseline and small; placed to fit the square).
   */
  readonly jpeg: Buffer;
  readonly embedded: 'as-is' | 'converted';
  /** The JPEG's pixel size (square when converted). */
  readonly width: number;
  readonly height: number;
  /** Effective resolution when printed to fit 30 mm. */
  readonly dpi: number;
  readonly source: { readonly format: 'jpeg' | 'png'; readonly width: number; readonly height: number; readonly orientation?: number };
  /** Fraction of the sampled border that is near-white (0-1). */
  readonly whiteBorder: number;
}

export type PhotoResult = { readonly ok: true; readonly photo: PreparedPhoto } | { readonly ok: false; readonly problem: PhotoProblem };

export interface PhotoOptions {
  /** Output edge in pixels; default 360 (305 dpi at 30 mm); at least 354 (300 dpi). */
  readonly sizePx?: number;
  /** Printed edge in mm; default 30. */
  readonly sizeMm?: number;
  /** Minimum print resolution; default 300 dpi. */
  readonly minDpi?: number;
  /** Largest source in pixels (decompression bombs); default 40 million. */
  readonly maxInputPixels?: number;
  /** Largest source file; default 20 MB. */
  readonly maxFileBytes?: number;
  /** JPEG quality; default 85. */
  readonly quality?: number;
  /**
   * contain (default): the whole photo fits the square on white — the background is white, so the margins
   * vanish and no part of the face is ever cut; cover: fills the square, cropping from the top down.
   */
  readonly fit?: 'contain' | 'cover';
  /** Share of near-white border pixels needed; default 0.85. */
  readonly minWhiteBorder?: number;
  /**
   * A JPEG source up to this many bytes that is upright, sRGB without an ICC profile, baseline and at most twice
   * `sizePx` on its longer side is embedded as it is (metadata segments removed) instead of being decoded,
   * resized and encoded again; default 32 KB, about what the conversion gives for a studio photo (360 px square,
   * quality 85): a larger file is converted, so the photo never makes a certificate much larger. 0: always convert.
   */
  readonly asIsBytes?: number;
}

/** Edge of the reduced decode the checks of an as-is photo read: libjpeg decodes at 1/2, 1/4 or 1/8 scale for it. */
const CHECK_PX = 120;

const megapixels = (n: number) => (n >= 1e6 ? `${+(n / 1e6).toFixed(1)} MP` : `${n}-pixel`);

const problem = (rule: string, value: string | undefined, message: string): PhotoResult => ({
  ok: false,
  problem: { field: '照片', rule, ...(value !== undefined ? { value } : {}), message },
});

/** Photo folders as resolved once (a batch asks for thousands of photos from one folder). */
const realFolders = new Map<string, string>();

/**
 * Resolves a roster's photo name inside the photo folder only: no absolute paths, no `..`, no symbolic
 * link that leads outside the folder.
 */
export function resolvePhotoPath(photoDir: string, name: string | undefined): { ok: true; path: string } | { ok: false; problem: PhotoProblem } {
  const fail = (rule: string, message: string) => problem(rule, name, message) as { ok: false; problem: PhotoProblem };
  if (name === undefined || name.trim() === '') return fail('photo.missing', '照片 is empty: give the photo file name (JPEG or PNG) in the 照片 column');
  if (name.includes('\0')) return fail('photo.path', '照片 contains a NUL character; give a plain file name');
  if (isAbsolute(name) || win32.isAbsolute(name)) return fail('photo.path', `照片 "${name}" is an absolute path; give a file name inside the roster's photo folder`);
  if (name.split(/[\\/]+/).includes('..')) return fail('photo.path', `照片 "${name}" leads out of the roster's photo folder (".."); give a file name inside it`);
  let dir = realFolders.get(photoDir);
  if (dir === undefined) {
    try {
      dir = realpathSync.native(photoDir);
    } catch {
      return fail('photo.missing', `the photo folder ${photoDir} does not exist`);
    }
    realFolders.set(photoDir, dir);
  }
  const target = resolve(dir, name);
  let real: string;
  try {
    real = realpathSync.native(target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      // A dangling symlink is reported as what it is.
      const isLink = (() => {
        try {
          return lstatSync(target).isSymbolicLink();
        } catch {
          return false;
        }
      })();
      return fail('photo.missing', isLink ? `照片 "${name}" is a symbolic link to a file that does not exist` : `照片 "${name}" is not in the photo folder ${photoDir}`);
    }
    return fail('photo.unreadable', `照片 "${name}" cannot be opened (${code ?? (err as Error).message})`);
  }
  const rel = relative(dir, real);
  if (rel === '') return fail('photo.unreadable', `照片 "${name}" is the photo folder itself, not a file`);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    return fail('photo.path', `照片 "${name}" is a link to ${real}, outside the roster's photo folder; copy the photo into the folder`);
  }
  return { ok: true, path: real };
}

/** Reads, checks and converts one photo. */
export async function preparePhoto(photoDir: string, name: string | undefined, opts: PhotoOptions = {}): Promise<PhotoResult> {
  const sizeMm = opts.sizeMm ?? 30;
  const minDpi = opts.minDpi ?? 300;
  const minPx = Math.ceil((sizeMm / 25.4) * minDpi);
  const sizePx = opts.sizePx ?? 360;
  if (sizePx < minPx) throw new RangeError(`Expected sizePx ≥ ${minPx} (${sizeMm} mm at ${minDpi} dpi) but received ${sizePx}`);
  const maxPixels = opts.maxInputPixels ?? 40_000_000;
  const maxBytes = opts.maxFileBytes ?? 20 * 1024 * 1024;
  const fit = opts.fit ?? 'contain';

  const where = resolvePhotoPath(photoDir, name);
  if (!where.ok) return where;
  const file = name!;
  const read = readPhoto(where.path, maxBytes);
  if (read.kind === 'not a file') return problem('photo.unreadable', file, `照片 "${file}" is not a file`);
  if (read.kind === 'failed') return problem('photo.unreadable', file, `照片 "${file}" cannot be read (${read.reason})`);
  if (read.kind === 'too large') return problem('photo.fileSize', file, `照片 "${file}" is ${(read.size / 1048576).toFixed(1)} MB, above the ${(maxBytes / 1048576).toFixed(0)} MB limit; export it smaller`);
  const bytes = read.bytes;

  let meta: Header;
  try {
    meta = plainJpegHeader(bytes) ?? (await sharp(bytes, { limitInputPixels: false }).metadata());
  } catch {
    return problem('photo.format', file, `照片 "${file}" is not an image (expected JPEG or PNG)`);
  }
  if (meta.format !== 'jpeg' && meta.format !== 'png') {
    return problem('photo.format', file, `照片 "${file}" is ${String(meta.format).toUpperCase()}, expected JPEG or PNG`);
  }
  const w0 = meta.width ?? 0;
  const h0 = meta.height ?? 0;
  // The header is read without decoding: a decompression bomb is refused before any pixel is inflated.
  if (w0 * h0 > maxPixels) {
    return problem('photo.pixels', file, `照片 "${file}" is ${w0} × ${h0} px (${((w0 * h0) / 1e6).toFixed(1)} MP), above the ${megapixels(maxPixels)} limit; scale it down`);
  }
  const rotated = (meta.orientation ?? 1) >= 5;
  const [w, h] = rotated ? [h0, w0] : [w0, h0];
  const needed = fit === 'contain' ? Math.max(w, h) : Math.min(w, h);
  if (needed < minPx) {
    return problem('photo.resolution', file, `照片 "${file}" is ${w} × ${h} px; ${sizeMm} mm at ${minDpi} dpi needs at least ${minPx} px on the ${fit === 'contain' ? 'longer' : 'shorter'} side`);
  }

  const asIs = fit === 'contain' && meta.format === 'jpeg' && (meta.orientation ?? 1) === 1 && meta.space === 'srgb' && meta.channels === 3
    && !meta.icc && !meta.isProgressive && bytes.length <= (opts.asIsBytes ?? 32 * 1024) && Math.max(w, h) <= 2 * sizePx
    ? withoutMetadata(bytes)
    : undefined;

  // One decode. As-is: a reduced one for the checks (libjpeg scales while decoding, a tenth of a full decode plus
  // resize). Converted: the photo, upright on white, fitted into the square (inside for contain, cropped for cover)
  // as raw sRGB; the checks read these pixels and the JPEG is encoded from them.
  let fitted: { data: Buffer; info: OutputInfo };
  try {
    const decode = sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error', sequentialRead: true });
    fitted = await (asIs
      ? decode.resize(CHECK_PX, CHECK_PX, { fit: 'inside' })
      : decode.autoOrient().flatten({ background: '#ffffff' }).resize(sizePx, sizePx, { fit: fit === 'contain' ? 'inside' : 'cover', position: 'north', kernel: 'lanczos3' }).toColourspace('srgb').removeAlpha()
    ).raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    const msg = (err as Error).message;
    if (/pixel limit/i.test(msg)) return problem('photo.pixels', file, `照片 "${file}" exceeds the ${megapixels(maxPixels)} decoding limit`);
    return problem('photo.decode', file, `照片 "${file}" cannot be decoded (${msg.split('\n')[0]}); the file is damaged — export it again`);
  }
  const { width: fw, height: fh, channels } = fitted.info;

  const { whiteBorder, meanBorder, colourShare } = analyse(fitted.data, fw, fh, channels);
  const minWhite = opts.minWhiteBorder ?? 0.85;
  const greyscale = (meta.channels ?? 3) < 3 || colourShare < 0.02;
  if (greyscale) {
    return problem('photo.greyscale', file, `照片 "${file}" is a greyscale photo (${(colourShare * 100).toFixed(1)} % coloured pixels); a colour photo is required`);
  }
  if (whiteBorder < minWhite) {
    return problem('photo.background', file, `照片 "${file}" has no white background: ${(whiteBorder * 100).toFixed(0)} % of the border is near-white (mean colour ${meanBorder}), ${(minWhite * 100).toFixed(0)} % needed; retake it on white`);
  }
  const source = { format: meta.format, width: w, height: h, ...(meta.orientation ? { orientation: meta.orientation } : {}) };
  if (asIs) {
    return { ok: true, photo: { jpeg: asIs, embedded: 'as-is', width: w, height: h, dpi: Math.floor(Math.max(w, h) / (sizeMm / 25.4)), source, whiteBorder } };
  }

  // contain: centred on white. Baseline libjpeg-turbo with its standard tables: mozjpeg's trellis quantisation
  // made the file ~15 % smaller at four times the encoding time, optimised Huffman tables ~3 % at a third more.
  const left = Math.floor((sizePx - fw) / 2);
  const top = Math.floor((sizePx - fh) / 2);
  let jpeg: Buffer;
  try {
    jpeg = await sharp(fitted.data, { raw: { width: fw, height: fh, channels } })
      .extend({ left, right: sizePx - fw - left, top, bottom: sizePx - fh - top, background: '#ffffff' })
      .jpeg({ quality: opts.quality ?? 85, optimiseCoding: false, chromaSubsampling: '4:2:0' })
      .toBuffer();
  } catch (err) {
    return problem('photo.decode', file, `照片 "${file}" cannot be converted (${(err as Error).message.split('\n')[0]})`);
  }
  return { ok: true, photo: { jpeg, embedded: 'converted', width: sizePx, height: sizePx, dpi: Math.floor(sizePx / (sizeMm / 25.4)), source, whiteBorder } };
}

type PhotoFile =
  | { readonly kind: 'read'; readonly bytes: Buffer }
  | { readonly kind: 'too large'; readonly size: number }
  | { readonly kind: 'not a file' }
  | { readonly kind: 'failed'; readonly reason: string };

/**
 * The photo's bytes, read synchronously: a photo is a few tens of KB on the batch's own disk, and each asynchronous
 * call (open, stat, read, close) is a round trip through libuv's threads that costs more CPU than the read itself
 * (~0.25 ms a photo). A file above `maxBytes` is measured, not read.
 */
function readPhoto(path: string, maxBytes: number): PhotoFile {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const st = fstatSync(fd);
    if (!st.isFile()) return { kind: 'not a file' };
    if (st.size > maxBytes) return { kind: 'too large', size: st.size };
    const bytes = Buffer.allocUnsafe(st.size);
    let at = 0;
    for (let n = 1; at < st.size && n > 0; at += n) n = readSync(fd, bytes, at, st.size - at, at);
    return { kind: 'read', bytes: at === st.size ? bytes : bytes.subarray(0, at) };
  } catch (err) {
    return { kind: 'failed', reason: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** What the checks read of a photo's header: sharp's metadata, or plainJpegHeader's reading of the same fields. */
type Header = Pick<Metadata, 'format' | 'width' | 'height' | 'orientation' | 'space' | 'channels' | 'icc' | 'isProgressive'>;

/**
 * The header of a plain baseline JPEG — JFIF or no application segment, three components, no EXIF (orientation),
 * no ICC profile, no Adobe segment — read from its frame marker as libvips reads it (sRGB, 3 channels); undefined for
 * anything else, which sharp's metadata reads instead. A studio photo exported for a roster is usually this, and
 * one libvips call fewer a photo is ~0.3-0.6 ms of CPU. The pixels are still decoded by libvips, which refuses a
 * damaged scan.
 */
export function plainJpegHeader(jpeg: Buffer): Header | undefined {
  for (const { marker, at, end } of headerSegments(jpeg)) {
    // EXIF, ICC, Adobe, other application data; a scan before the frame; progressive, lossless or arithmetic frames
    if ((marker >= 0xe1 && marker <= 0xef) || marker === 0xda || (isFrame(marker) && marker !== 0xc0 && marker !== 0xc1)) return undefined;
    if (marker === 0xc0 || marker === 0xc1) {
      if (end - at < 10 || jpeg[at + 4] !== 8 || jpeg[at + 9] !== 3) return undefined; // 8-bit samples, three components
      const height = jpeg.readUInt16BE(at + 5);
      const width = jpeg.readUInt16BE(at + 7);
      if (width === 0 || height === 0) return undefined;
      return { format: 'jpeg', width, height, space: 'srgb', channels: 3, isProgressive: false };
    }
  }
  return undefined;
}

/**
 * The JPEG without its metadata segments (EXIF, XMP, IPTC, ICC, comments: camera, place and time stay out of the
 * certificate), or undefined when it is not a plain single-scan baseline JPEG (it is then converted instead).
 * Kept: SOI, APP0 (JFIF), APP14 (Adobe colour transform), the tables, the frame, the scan and the end marker.
 */
export function withoutMetadata(jpeg: Buffer): Buffer | undefined {
  const kept: Buffer[] = [jpeg.subarray(0, 2)];
  let frame = false;
  for (const { marker, at, end } of headerSegments(jpeg)) {
    if (marker === 0xda) {
      // Start of scan: the entropy-coded image, then the end marker. In the coded data a 0xFF is followed by 0x00
      // (stuffing) or a restart marker; anything else ends the scan. One scan then the end of the image, and what
      // follows (a trailer, an appended file, a second image with its own EXIF) is cut; another scan: converted.
      if (!frame) return undefined;
      for (let k = end; k + 1 < jpeg.length; k++) {
        if (jpeg[k] !== 0xff) continue;
        const next = jpeg[k + 1]!;
        if (next === 0x00 || next === 0xff || (next >= 0xd0 && next <= 0xd7)) continue;
        if (next !== 0xd9) return undefined;
        kept.push(jpeg.subarray(at, k + 2));
        return Buffer.concat(kept);
      }
      return undefined;
    }
    if (isFrame(marker) && marker !== 0xc0 && marker !== 0xc1) return undefined; // progressive, lossless or arithmetic coding
    frame ||= isFrame(marker);
    const metadata = (marker >= 0xe1 && marker <= 0xef && marker !== 0xee) || marker === 0xfe;
    if (!metadata) kept.push(jpeg.subarray(at, end));
  }
  return undefined;
}

/** A start-of-frame marker (SOF0-SOF15; C4, C8 and CC are the Huffman table, JPG and arithmetic conditioning). */
const isFrame = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

/**
 * A JPEG's marker segments after SOI, up to and including the first start of scan (0xDA, whose `end` is where the
 * coded data begins): each with its marker and where it starts and ends, fill bytes skipped. Nothing for a file
 * that does not start with SOI; it stops at the first segment that is not a marker or runs past the end.
 */
function* headerSegments(jpeg: Buffer): Generator<{ marker: number; at: number; end: number }> {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return;
  for (let i = 2; i + 4 <= jpeg.length; ) {
    if (jpeg[i] !== 0xff) return;
    const marker = jpeg[i + 1]!;
    if (marker === 0xff) {
      i++; // a fill byte before the marker
      continue;
    }
    const end = i + 2 + jpeg.readUInt16BE(i + 2);
    if (end > jpeg.length) return;
    yield { marker, at: i, end };
    if (marker === 0xda) return;
    i = end;
  }
}

/**
 * Border whiteness and colourfulness of the fitted photo (sRGB), read on a grid of about 120 × 120 points as the
 * checks were calibrated. The border is the top band and the upper 60 % of the side bands: the bottom of an ID
 * photo is the holder's shoulders, which touch the edges.
 */
function analyse(px: Buffer, w: number, h: number, ch: number): { whiteBorder: number; meanBorder: string; colourShare: number } {
  const band = Math.max(2, Math.round(Math.min(w, h) * 0.04));
  const step = Math.max(1, Math.round(Math.max(w, h) / 120));
  let white = 0;
  let count = 0;
  const sum = [0, 0, 0];
  let coloured = 0;
  let sampled = 0;
  for (let y = 0; y < h; y += step) {
    for (let x = 0; x < w; x += step) {
      sampled++;
      const i = (y * w + x) * ch;
      const r = px[i]!;
      const g = px[i + 1]!;
      const b = px[i + 2]!;
      const max = Math.max(r, g, b);
      const min = Math.min(r, g, b);
      if (max - min > 24) coloured++;
      const inBorder = y < band || ((x < band || x >= w - band) && y < h * 0.6);
      if (!inBorder) continue;
      count++;
      sum[0] += r;
      sum[1] += g;
      sum[2] += b;
      if (min >= 200 && max - min <= 30) white++;
    }
  }
  const hex = sum.map((s) => Math.round(s / Math.max(1, count)).toString(16).padStart(2, '0')).join('');
  return { whiteBorder: white / Math.max(1, count), meanBorder: `#${hex}`, colourShare: coloured / Math.max(1, sampled) };
}
