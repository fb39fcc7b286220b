/**
 * Demo seals for fixtures and the demo run: a round red seal (organisation name on the upper arc, a
 * five-pointed star, and the word 演示章 so that nobody takes it for a real one), or a steel-seal variant
 * (grey, embossed look, semi-transparent) for printing over the photo. Drawn as SVG, rasterised by sharp
 * (librsvg) to a PNG with transparency.
 *
 * The characters are the glyph outlines of the `seal` font role (fonts/fonts.json: a licensed 宋体 dropped into
 * fonts/, else Noto Serif CJK SC Bold from Debian's fonts-noto-cjk), drawn as SVG paths — not SVG <text>, which
 * librsvg would hand to fontconfig, so the seal would be drawn in whatever CJK face a machine happens to have.
 * Each character is placed and rotated on the arc by hand; a character the chain lacks is refused by name.
 */
import forbiddenWords from '../data/forbidden-words.json' with { type: 'json' };
import { SkillcertError } from '../core/errors.js';
import { type Face, type FontSetOptions, resolveChain, uncoveredError } from '../fonts/index.js';
import { requireCjs } from '../core/cjs.js';

const sharp = requireCjs('sharp') as typeof import('sharp').default;

export interface DemoSealOptions {
  /** 'ink' (red, the default) or 'steel' (grey embossed look). */
  readonly variant?: 'ink' | 'steel';
  /** Diameter; default 40 mm. */
  readonly diameterMm?: number;
  /** Default 300 dpi (40 mm → 472 px). */
  readonly dpi?: number;
  /** The horizontal line under the star; default 演示章 (demo seal). */
  readonly subtitle?: string;
  /** Ink colour of the 'ink' variant; default seal red #d7000f. */
  readonly colour?: string;
  /** Where the `seal` role's faces come from (tests); default the project's fonts/ and the open fallbacks. */
  readonly fonts?: FontSetOptions;
}

/** 第七条 (seed 002): words that must not appear on a certificate — the seal is on the certificate too. */
const FORBIDDEN: readonly string[] = forbiddenWords.words;

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The face that draws the seal's characters: the first face of the `seal` role's chain. */
export function demoSealFace(fonts?: FontSetOptions): Face {
  return resolveChain('seal', fonts)[0]!;
}

/**
 * One character as an SVG path of its glyph outline, `size` px high (the em), centred on x = 0 with its
 * baseline on y = 0, then placed by `transform`.
 */
function glyphPath(ch: string, chain: readonly Face[], size: number, transform: string, where: string): string {
  const cp = ch.codePointAt(0)!;
  const face = chain.find((f) => f.font.hasGlyphForCodePoint(cp));
  if (!face) throw uncoveredError(ch, 'seal', where);
  const glyph = face.font.glyphForCodePoint(cp);
  const k = size / face.font.unitsPerEm;
  const place = `${transform} scale(${k.toFixed(5)} ${(-k).toFixed(5)}) translate(${(-glyph.advanceWidth / 2).toFixed(1)} 0)`;
  return `<path data-char="${escapeXml(ch)}" transform="${place}" d="${glyph.path.toSVG()}"/>`;
}

/** Builds the seal's SVG (exported for inspection and tests). */
export function demoSealSvg(text: string, opts: DemoSealOptions = {}): string {
  const name = [...text.trim()];
  if (name.length === 0) throw new RangeError('Expected the organisation name for the seal but received an empty string');
  if (name.length > 40) throw new RangeError(`Expected at most 40 characters on the seal arc but received ${name.length}`);
  for (const word of FORBIDDEN) {
    for (const [where, s] of [['seal text', text], ['seal subtitle', opts.subtitle ?? '']] as const) {
      if (s.includes(word)) throw new SkillcertError('E_LINT', `the ${where} "${s}" contains the forbidden word "${word}" (第七条); change the text`, { field: 'seal' });
    }
  }
  const dpi = opts.dpi ?? 300;
  const D = Math.round(((opts.diameterMm ?? 40) / 25.4) * dpi);
  const c = D / 2;
  const ring = D * 0.035; // ~1.4 mm at 40 mm
  const R = c - ring / 2 - 1;
  const subtitle = opts.subtitle ?? '演示章';
  const chain = resolveChain('seal', opts.fonts);

  // Arc: up to 240° for long names; characters sized to the arc, at most 0.12 D.
  const n = name.length;
  const rText = R - ring - D * 0.03;
  const span = Math.min(240, Math.max(60, n * 24)) * (Math.PI / 180);
  const step = n > 1 ? span / (n - 1) : 0;
  const size = Math.min(D * 0.115, n > 1 ? rText * step * 0.9 : D * 0.115);
  const baseR = rText - size * 0.95; // baseline radius: the glyph's top stays inside rText
  const chars = name
    .map((ch, i) => {
      const a = -span / 2 + i * step; // 0 = top, clockwise
      const x = c + baseR * Math.sin(a);
      const y = c - baseR * Math.cos(a);
      return glyphPath(ch, chain, size, `translate(${x.toFixed(2)} ${y.toFixed(2)}) rotate(${((a * 180) / Math.PI).toFixed(3)})`, 'seal text');
    })
    .join('');

  const starR = D * 0.15;
  const star = Array.from({ length: 10 }, (_, i) => {
    const r = i % 2 === 0 ? starR : starR * 0.382;
    const a = (i * Math.PI) / 5;
    return `${(c + r * Math.sin(a)).toFixed(2)},${(c - r * Math.cos(a)).toFixed(2)}`;
  }).join(' ');
  const subSize = D * 0.085;
  const sub = [...subtitle];
  const subLine = sub
    .map((ch, i) => glyphPath(ch, chain, subSize, `translate(${(c + (i - (sub.length - 1) / 2) * subSize).toFixed(2)} ${(c + D * 0.3).toFixed(2)})`, 'seal subtitle'))
    .join('');
  const design = (colour: string) =>
    `<g fill="${colour}" stroke="none">` +
    `<circle cx="${c}" cy="${c}" r="${R.toFixed(2)}" fill="none" stroke="${colour}" stroke-width="${ring.toFixed(2)}"/>` +
    chars +
    `<polygon points="${star}"/>` +
    subLine +
    `</g>`;

  let body: string;
  if ((opts.variant ?? 'ink') === 'steel') {
    // Embossed look: a light edge up-left, a dark edge down-right, a faint grey face.
    const d = Math.max(1, D * 0.004);
    body =
      `<g opacity="0.55" transform="translate(${-d} ${-d})">${design('#ffffff')}</g>` +
      `<g opacity="0.45" transform="translate(${d} ${d})">${design('#3c3c3c')}</g>` +
      `<g opacity="0.22">${design('#8c8c8c')}</g>`;
  } else {
    body = `<g opacity="0.92">${design(opts.colour ?? '#d7000f')}</g>`;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${D}" height="${D}" viewBox="0 0 ${D} ${D}">${body}</svg>`;
}

/**
 * The seal as a PNG with transparency, `diameterMm` at `dpi` (default 40 mm at 300 dpi = 472 × 472 px).
 * The ink variant is one flat colour with the shape in the alpha channel only: pdf-lib stores colour and
 * alpha as two images, and a flat colour plane compresses to almost nothing (a certificate ~24 KB smaller).
 */
export async function makeDemoSeal(text: string, opts: DemoSealOptions = {}): Promise<Buffer> {
  const svg = demoSealSvg(text, opts);
  const dpi = opts.dpi ?? 300;
  const rendered = sharp(Buffer.from(svg), { density: 72 });
  if ((opts.variant ?? 'ink') === 'steel') return rendered.png({ compressionLevel: 9 }).withMetadata({ density: dpi }).toBuffer();
  const { data: alpha, info } = await rendered.ensureAlpha().extractChannel(3).raw().toBuffer({ resolveWithObject: true });
  return sharp({ create: { width: info.width, height: info.height, channels: 3, background: opts.colour ?? '#d7000f' } })
    .joinChannel(alpha, { raw: { width: info.width, height: info.height, channels: 1 } })
    .png({ compressionLevel: 9 })
    .withMetadata({ density: dpi })
    .toBuffer();
}
