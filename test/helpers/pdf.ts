/**
 * Reads produced PDFs back with independent tools, so tests never trust the code that wrote them:
 * `mutool draw -F stext` for every character's font, size and origin, `mutool trace` for image boxes,
 * `pdffonts` for embedding and subsetting, `pdftoppm` for page pictures. Coordinates come back in mm
 * from the page's top-left corner, like the parameter sheets.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MM = 25.4 / 72;

export interface Char {
  readonly c: string;
  /** Font name without the subset tag. */
  readonly font: string;
  readonly rawFont: string;
  readonly size: number;
  /** Origin (start of the baseline), mm. */
  readonly x: number;
  readonly y: number;
  /** Right edge of the glyph box, mm. */
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

export interface Page { readonly width: number; readonly height: number; readonly chars: readonly Char[] }

function toFile(pdf: string | Uint8Array): string {
  if (typeof pdf === 'string') return pdf;
  const file = join(mkdtempSync(join(tmpdir(), 'skillcert-pdf-')), 'doc.pdf');
  writeFileSync(file, pdf);
  return file;
}

const unescape = (s: string) =>
  s.replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

/** Every character of every page with its font, size and position. */
export function stext(pdf: string | Uint8Array): Page[] {
  const xml = execFileSync('mutool', ['draw', '-F', 'stext', '-o', '-', toFile(pdf)], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
  const pages: Page[] = [];
  let chars: Char[] = [];
  let font = '';
  let size = 0;
  for (const m of xml.matchAll(/<page [^>]*width="([\d.]+)" height="([\d.]+)"|<font name="([^"]*)" size="([\d.]+)"|<char quad="([^"]+)" x="([\d.-]+)" y="([\d.-]+)"[^>]*c="([^"]*)"/g)) {
    if (m[1]) { chars = []; pages.push({ width: Number(m[1]) * MM, height: Number(m[2]) * MM, chars }); }
    else if (m[3] !== undefined) { font = unescape(m[3]); size = Number(m[4]); }
    else {
      const q = m[5]!.split(' ').map(Number);
      chars.push({
        c: unescape(m[8]!), rawFont: font, font: font.replace(/^[A-Z]{6}\+/, ''), size,
        x: Number(m[6]) * MM, y: Number(m[7]) * MM,
        right: Math.max(q[2]!, q[6]!) * MM, top: Math.min(q[1]!, q[3]!) * MM, bottom: Math.max(q[5]!, q[7]!) * MM,
      });
    }
  }
  return pages;
}

export interface ImageBox { readonly x: number; readonly y: number; readonly w: number; readonly h: number; readonly px: number; readonly py: number }

/** Every image drawn on the first page: its box in mm and its pixel size. */
export function imageBoxes(pdf: string | Uint8Array): ImageBox[] {
  const xml = execFileSync('mutool', ['trace', toFile(pdf)], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
  const out: ImageBox[] = [];
  // fill_image: pictures (the photo); fill_image_mask: one-colour stencils (the seals)
  for (const m of xml.matchAll(/<fill_image(?:_mask)? [^>]*transform="([^"]+)"[^>]* width="(\d+)" height="(\d+)"/g)) {
    const [a, , , d, e, f] = m[1]!.split(' ').map(Number) as [number, number, number, number, number, number];
    out.push({ x: e * MM, y: f * MM, w: a * MM, h: d * MM, px: Number(m[2]), py: Number(m[3]) });
  }
  return out;
}

export interface FontRow { readonly name: string; readonly type: string; readonly embedded: boolean; readonly subset: boolean }

export function pdffonts(pdf: string | Uint8Array): FontRow[] {
  const out = execFileSync('pdffonts', [toFile(pdf)], { encoding: 'utf8' });
  return out.split('\n').slice(2).filter(Boolean).map((line) => {
    const cols = line.trim().split(/\s+/);
    // name type… encoding emb sub uni obj gen: read the flags from the end
    const n = cols.length;
    return { name: cols[0]!, type: cols.slice(1, n - 6).join(' '), embedded: cols[n - 5] === 'yes', subset: cols[n - 4] === 'yes' };
  });
}

/** Renders page 1 to PNG at `dpi`; returns the file. */
export function rasterise(pdf: string | Uint8Array, dpi: number, outBase?: string): string {
  const base = outBase ?? join(mkdtempSync(join(tmpdir(), 'skillcert-png-')), 'page');
  execFileSync('pdftoppm', ['-png', '-r', String(dpi), '-singlefile', toFile(pdf), base]);
  return `${base}.png`;
}
