/**
 * Synthetic ID photos for the photo tests and fixtures/photos: drawn from SVG with sharp — a head and
 * shoulders on a background, no real person. Each bad kind is made the way it occurs in practice.
 */
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';

export interface PortraitOptions {
  readonly width?: number;
  readonly height?: number;
  readonly background?: string;
  /** A red square in the upper-left, to see which way up the result is. */
  readonly marker?: boolean;
  readonly clothes?: string;
}

export function portraitSvg(o: PortraitOptions = {}): string {
  const W = o.width ?? 413;
  const H = o.height ?? 531;
  const bg = o.background === 'none' ? '' : `<rect width="${W}" height="${H}" fill="${o.background ?? '#ffffff'}"/>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${bg}
    <path d="M0,${H} L0,${0.84 * H} Q${W / 2},${0.6 * H} ${W},${0.84 * H} L${W},${H} Z" fill="${o.clothes ?? '#1f3b73'}"/>
    <rect x="${0.42 * W}" y="${0.52 * H}" width="${0.16 * W}" height="${0.22 * H}" fill="#e0ac8a"/>
    <ellipse cx="${W / 2}" cy="${0.4 * H}" rx="${0.2 * W}" ry="${0.19 * H}" fill="#edbb99"/>
    <ellipse cx="${W / 2}" cy="${0.27 * H}" rx="${0.22 * W}" ry="${0.1 * H}" fill="#2b1d14"/>
    <ellipse cx="${0.42 * W}" cy="${0.4 * H}" rx="${0.025 * W}" ry="${0.012 * H}" fill="#2b1d14"/>
    <ellipse cx="${0.58 * W}" cy="${0.4 * H}" rx="${0.025 * W}" ry="${0.012 * H}" fill="#2b1d14"/>
    <path d="M${0.44 * W},${0.5 * H} Q${W / 2},${0.53 * H} ${0.56 * W},${0.5 * H}" stroke="#a0523d" stroke-width="4" fill="none"/>
    ${o.marker ? `<rect x="${0.08 * W}" y="${0.1 * H}" width="${0.1 * W}" height="${0.1 * W}" fill="#ff0000"/>` : ''}
  </svg>`;
}

export const portrait = (o: PortraitOptions = {}) => sharp(Buffer.from(portraitSvg(o)));

export type PhotoKind =
  | 'good.jpg'
  | 'good-transparent.png'
  | 'off-white.jpg'
  | 'rotated-exif6.jpg'
  | 'greyscale.jpg'
  | 'grey-as-rgb.png'
  | 'blue-background.jpg'
  | 'too-small.jpg'
  | 'not-an-image.jpg'
  | 'webp-named.jpg'
  | 'truncated.jpg'
  | 'bomb-50000x50000.png';

export async function makePhoto(kind: PhotoKind): Promise<Buffer> {
  switch (kind) {
    case 'good.jpg':
      return portrait().jpeg({ quality: 80 }).toBuffer();
    case 'good-transparent.png':
      return portrait({ background: 'none' }).png().toBuffer();
    case 'off-white.jpg':
      return portrait({ background: '#f2f1ec' }).jpeg({ quality: 80 }).toBuffer();
    case 'rotated-exif6.jpg': {
      // Stored turned a quarter to the left, with EXIF Orientation 6 ("rotate 90° clockwise to display"), as phones do.
      const stored = await portrait({ marker: true }).rotate(-90).toBuffer();
      return sharp(stored).jpeg({ quality: 80 }).withMetadata({ orientation: 6 }).toBuffer();
    }
    case 'greyscale.jpg':
      return portrait().greyscale().jpeg({ quality: 80 }).toBuffer();
    case 'grey-as-rgb.png':
      return sharp(await portrait().greyscale().png().toBuffer()).toColourspace('srgb').png().toBuffer();
    case 'blue-background.jpg':
      return portrait({ background: '#3b7dd8' }).jpeg({ quality: 80 }).toBuffer();
    case 'too-small.jpg':
      return portrait({ width: 200, height: 260 }).jpeg({ quality: 80 }).toBuffer();
    case 'not-an-image.jpg':
      return Buffer.from('This is a text file with a .jpg name, not a photo.\n');
    case 'webp-named.jpg':
      return portrait().webp().toBuffer();
    case 'truncated.jpg': {
      const full = await portrait().jpeg({ quality: 80 }).toBuffer();
      return full.subarray(0, Math.floor(full.length * 0.6));
    }
    case 'bomb-50000x50000.png':
      return pngHeaderBomb(50_000, 50_000);
  }
}

/** A PNG whose header claims width × height pixels but that holds one tiny IDAT: decoding it would inflate gigabytes. */
export function pngHeaderBomb(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1 + width * 3))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}
