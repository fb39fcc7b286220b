/**
 * Writes the synthetic photos of fixtures/photos/ (see its README): `npx tsx test/stamp/make-photo-fixtures.ts`.
 * Deterministic: the same files every run (sharp draws the SVGs of ./_photos.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../../pipeline/core/paths.js';
import { makePhoto, portrait, type PhotoKind } from './_photos.js';

const dir = join(FIXTURES_DIR, 'photos');
mkdirSync(dir, { recursive: true });
const files: [string, Buffer][] = [
  ['demo-1.jpg', await portrait({ clothes: '#1f3b73' }).jpeg({ quality: 80, mozjpeg: true }).toBuffer()],
  ['demo-2.jpg', await portrait({ clothes: '#7a1f2b' }).jpeg({ quality: 80, mozjpeg: true }).toBuffer()],
  ['demo-3.png', await portrait({ clothes: '#2f6b3a', background: 'none' }).png({ compressionLevel: 9, palette: true }).toBuffer()],
];
for (const kind of ['rotated-exif6.jpg', 'greyscale.jpg', 'blue-background.jpg', 'too-small.jpg', 'not-an-image.jpg'] as PhotoKind[]) {
  files.push([kind, await makePhoto(kind)]);
}
for (const [name, bytes] of files) {
  writeFileSync(join(dir, name), bytes);
  console.log(`fixtures/photos/${name}: ${bytes.length} bytes`);
}
