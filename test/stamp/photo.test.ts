import test from 'ava';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { plainJpegHeader, preparePhoto, type PhotoResult, withoutMetadata } from '../../pipeline/stamp/photo.js';
import { makePhoto, type PhotoKind, portrait } from './_photos.js';

/** A roster folder with a photos/ subfolder holding every kind, and a secret file beside it. */
const made = (async () => {
  const root = mkdtempSync(join(tmpdir(), 'skillcert-photos-'));
  const dir = join(root, 'photos');
  mkdirSync(dir);
  const kinds: PhotoKind[] = ['good.jpg', 'good-transparent.png', 'off-white.jpg', 'rotated-exif6.jpg', 'greyscale.jpg', 'grey-as-rgb.png', 'blue-background.jpg', 'too-small.jpg', 'not-an-image.jpg', 'webp-named.jpg', 'truncated.jpg', 'bomb-50000x50000.png'];
  for (const k of kinds) writeFileSync(join(dir, k), await makePhoto(k));
  writeFileSync(join(root, 'outside.jpg'), await makePhoto('good.jpg'));
  symlinkSync(join(root, 'outside.jpg'), join(dir, 'link-out.jpg'));
  symlinkSync('good.jpg', join(dir, 'link-in.jpg'));
  symlinkSync(join(dir, 'gone.jpg'), join(dir, 'dangling.jpg'));
  mkdirSync(join(dir, 'folder.jpg'));
  return dir;
})();

function rejected(t: import('ava').ExecutionContext, r: PhotoResult, rule: string, message: RegExp): void {
  if (r.ok) {
    t.fail(`expected ${rule}, got a photo`);
    return;
  }
  t.is(r.problem.field, '照片');
  t.is(r.problem.rule, rule, r.problem.message);
  t.regex(r.problem.message, message);
}

test('a colour photo on white is converted to a 360 px square sRGB JPEG of a few KB (30 mm at 304 dpi)', async (t) => {
  const r = await preparePhoto(await made, 'good.jpg', { asIsBytes: 0 });
  if (!r.ok) return t.fail(r.problem.message);
  t.is(r.photo.embedded, 'converted');
  const meta = await sharp(r.photo.jpeg).metadata();
  t.is(meta.format, 'jpeg');
  t.deepEqual([meta.width, meta.height, r.photo.width, r.photo.height], [360, 360, 360, 360]);
  t.is(meta.space, 'srgb');
  t.is(meta.channels, 3);
  t.is(r.photo.dpi, 304);
  t.true(r.photo.jpeg.length < 40_000, `${r.photo.jpeg.length} bytes`);
  t.log(`photo: ${r.photo.jpeg.length} bytes, border ${(r.photo.whiteBorder * 100).toFixed(0)} % white`);
  // contain: the whole portrait is there, the margins are white.
  const { data } = await sharp(r.photo.jpeg).raw().toBuffer({ resolveWithObject: true });
  t.true(data[(180 * 360 + 2) * 3]! > 240, 'left margin is white');
  t.true(data[(359 * 360 + 180) * 3 + 2]! > 80, 'the clothes reach the bottom edge');
});

test('a small upright baseline sRGB JPEG is embedded as it came, its metadata (EXIF, comments) removed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skillcert-photo-asis-'));
  const source = await sharp(await makePhoto('good.jpg'))
    .withExif({ IFD0: { Make: 'SecretCam', Model: 'X100', Copyright: 'Studio Wang' } })
    .jpeg({ quality: 85 })
    .toBuffer();
  t.true(source.includes('SecretCam'), 'the source carries EXIF');
  writeFileSync(join(dir, 'exif.jpg'), source);
  const r = await preparePhoto(dir, 'exif.jpg');
  if (!r.ok) return t.fail(r.problem.message);
  t.is(r.photo.embedded, 'as-is');
  t.deepEqual([r.photo.width, r.photo.height], [413, 531]);
  t.is(r.photo.dpi, 449, 'the longer side, 531 px, over 30 mm');
  t.false(r.photo.jpeg.includes('SecretCam'), 'no camera make');
  t.false(r.photo.jpeg.includes('Exif'), 'no EXIF segment');
  t.true(r.photo.jpeg.length < source.length);
  // The image data is untouched: the same pixels decode from both.
  const [a, b] = await Promise.all([source, r.photo.jpeg].map((j) => sharp(j).raw().toBuffer()));
  t.true(a!.equals(b!), 'same pixels');
});

test('a photo larger than the as-is limits (pixels or bytes), or progressive, is converted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skillcert-photo-big-'));
  writeFileSync(join(dir, 'big.jpg'), await portrait({ width: 1200, height: 1560 }).jpeg({ quality: 95 }).toBuffer());
  writeFileSync(join(dir, 'progressive.jpg'), await sharp(await makePhoto('good.jpg')).jpeg({ progressive: true }).toBuffer());
  // Print size, but a file larger than the conversion would give (fine detail at quality 98).
  const detail = await sharp({ create: { width: 200, height: 260, channels: 3, background: '#888', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).png().toBuffer();
  const heavy = await portrait().composite([{ input: detail, left: 106, top: 200 }]).jpeg({ quality: 98 }).toBuffer();
  t.true(heavy.length > 32 * 1024, `${heavy.length} bytes`);
  writeFileSync(join(dir, 'heavy.jpg'), heavy);
  for (const f of ['big.jpg', 'progressive.jpg', 'heavy.jpg']) {
    const r = await preparePhoto(dir, f);
    if (!r.ok) return t.fail(r.problem.message);
    t.is(r.photo.embedded, 'converted', f);
    t.deepEqual([r.photo.width, r.photo.height], [360, 360], f);
  }
});

test('withoutMetadata keeps a plain baseline JPEG decodable and refuses what is not one', async (t) => {
  const good = await makePhoto('good.jpg');
  const stripped = withoutMetadata(good)!;
  t.truthy(stripped);
  t.is((await sharp(stripped).metadata()).width, 413);
  t.is(withoutMetadata(Buffer.from('not a jpeg')), undefined);
  t.is(withoutMetadata(good.subarray(0, 40)), undefined, 'cut before the scan');
  t.is(withoutMetadata(await sharp(good).jpeg({ progressive: true }).toBuffer()), undefined, 'progressive');
  // Whatever follows the end of the image (a trailer, an appended file) is cut.
  const appended = withoutMetadata(Buffer.concat([good, Buffer.from('secret notes appended to the photo')]))!;
  t.false(appended.includes('secret notes'));
  t.deepEqual(appended.subarray(-2), Buffer.from([0xff, 0xd9]), 'ends with the end-of-image marker');
  t.true((await sharp(appended).raw().toBuffer()).equals(await sharp(good).raw().toBuffer()), 'same pixels');
});

test('plainJpegHeader reads what sharp reads of a plain baseline JPEG, and leaves every other photo to sharp', async (t) => {
  const good = await makePhoto('good.jpg');
  const fields = ['format', 'width', 'height', 'space', 'channels', 'orientation', 'icc', 'isProgressive'] as const;
  const pick = (m: Partial<Record<(typeof fields)[number], unknown>>) => Object.fromEntries(fields.map((f) => [f, m[f] ?? undefined]));
  for (const plain of [withoutMetadata(good)!, await sharp(good).jpeg({ quality: 70 }).toBuffer(), await sharp(good).resize(401, 517).jpeg().toBuffer()]) {
    t.deepEqual(pick(plainJpegHeader(plain)!), pick(await sharp(plain).metadata()));
  }
  const refused: [string, Buffer][] = [
    ['EXIF orientation', await makePhoto('rotated-exif6.jpg')],
    ['ICC profile', await sharp(good).withIccProfile('srgb').jpeg().toBuffer()],
    ['EXIF without orientation', await sharp(good).withExif({ IFD0: { Copyright: 'studio' } }).jpeg().toBuffer()],
    ['progressive', await sharp(good).jpeg({ progressive: true }).toBuffer()],
    ['greyscale (one component)', await sharp(good).toColourspace('b-w').jpeg().toBuffer()],
    ['CMYK', await sharp(good).toColourspace('cmyk').jpeg().toBuffer()],
    ['PNG', await sharp(good).png().toBuffer()],
    ['cut before the frame', good.subarray(0, 20)],
    ['not an image', Buffer.from('not a jpeg')],
  ];
  for (const [what, bytes] of refused) t.is(plainJpegHeader(bytes), undefined, what);
});

test('a PNG with a transparent background and a slightly off-white one are accepted', async (t) => {
  t.true((await preparePhoto(await made, 'good-transparent.png')).ok);
  t.true((await preparePhoto(await made, 'off-white.jpg')).ok);
});

test('an EXIF-rotated JPEG (Orientation 6) comes out upright', async (t) => {
  const dir = await made;
  const meta = await sharp(join(dir, 'rotated-exif6.jpg')).metadata();
  t.is(meta.orientation, 6);
  t.true(meta.width! > meta.height!, 'stored sideways');
  const r = await preparePhoto(dir, 'rotated-exif6.jpg');
  if (!r.ok) return t.fail(r.problem.message);
  t.deepEqual([r.photo.source.width, r.photo.source.height], [413, 531]);
  // The red marker drawn in the upper-left of the upright portrait must be in the upper-left.
  const { data, info } = await sharp(r.photo.jpeg).raw().toBuffer({ resolveWithObject: true });
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let y = 0; y < info.height; y++) for (let x = 0; x < info.width; x++) {
    const i = (y * info.width + x) * 3;
    if (data[i]! > 200 && data[i + 1]! < 60 && data[i + 2]! < 60) {
      sx += x;
      sy += y;
      n++;
    }
  }
  t.true(n > 100, `${n} red pixels`);
  t.true(sx / n < info.width / 3 && sy / n < info.height / 3, `marker at ${(sx / n).toFixed(0)}, ${(sy / n).toFixed(0)}`);
});

test('a greyscale photo is rejected, whether stored with one channel or as grey RGB', async (t) => {
  for (const f of ['greyscale.jpg', 'grey-as-rgb.png']) rejected(t, await preparePhoto(await made, f), 'photo.greyscale', /greyscale photo .* a colour photo is required/);
});

test('a photo whose border is not near-white is rejected with the measured colour', async (t) => {
  rejected(t, await preparePhoto(await made, 'blue-background.jpg'), 'photo.background', /has no white background: 0 % of the border is near-white \(mean colour #3[a-c]7[c-e]d[7-9]\), 85 % needed/);
});

test('a photo too small for 30 mm at 300 dpi is rejected with the sizes', async (t) => {
  rejected(t, await preparePhoto(await made, 'too-small.jpg'), 'photo.resolution', /is 200 × 260 px; 30 mm at 300 dpi needs at least 355 px on the longer side/);
});

test('a decompression bomb is refused from its header, before decoding', async (t) => {
  // 2,500 MP would need gigabytes to decode: the pixel-limit rule (not an out-of-memory error) says it was never decoded
  rejected(t, await preparePhoto(await made, 'bomb-50000x50000.png'), 'photo.pixels', /is 50000 × 50000 px \(2500\.0 MP\), above the 40 MP limit/);
  rejected(t, await preparePhoto(await made, 'good.jpg', { maxInputPixels: 100_000 }), 'photo.pixels', /is 413 × 531 px \(0\.2 MP\), above the 100000-pixel limit/);
});

test('files that are not JPEG or PNG images are rejected with what they are', async (t) => {
  rejected(t, await preparePhoto(await made, 'not-an-image.jpg'), 'photo.format', /is not an image \(expected JPEG or PNG\)/);
  rejected(t, await preparePhoto(await made, 'webp-named.jpg'), 'photo.format', /is WEBP, expected JPEG or PNG/);
  rejected(t, await preparePhoto(await made, 'truncated.jpg'), 'photo.decode', /cannot be decoded .*damaged/);
});

test('missing and unreadable photos are problems, not exceptions', async (t) => {
  const dir = await made;
  rejected(t, await preparePhoto(dir, 'nobody.jpg'), 'photo.missing', /"nobody\.jpg" is not in the photo folder/);
  rejected(t, await preparePhoto(dir, ''), 'photo.missing', /照片 is empty/);
  rejected(t, await preparePhoto(dir, undefined), 'photo.missing', /照片 is empty/);
  rejected(t, await preparePhoto(dir, 'dangling.jpg'), 'photo.missing', /symbolic link to a file that does not exist/);
  rejected(t, await preparePhoto(dir, 'folder.jpg'), 'photo.unreadable', /is not a file/);
  rejected(t, await preparePhoto(dir, '.'), 'photo.unreadable', /is the photo folder itself/);
  rejected(t, await preparePhoto(join(dir, 'no-such-folder'), 'good.jpg'), 'photo.missing', /photo folder .* does not exist/);
});

test('photo names are resolved inside the photo folder only', async (t) => {
  const dir = await made;
  rejected(t, await preparePhoto(dir, '../outside.jpg'), 'photo.path', /leads out of the roster's photo folder/);
  rejected(t, await preparePhoto(dir, 'sub/../../outside.jpg'), 'photo.path', /leads out/);
  rejected(t, await preparePhoto(dir, '..\\outside.jpg'), 'photo.path', /leads out/);
  rejected(t, await preparePhoto(dir, join(dir, 'good.jpg')), 'photo.path', /is an absolute path/);
  rejected(t, await preparePhoto(dir, 'C:\\photos\\good.jpg'), 'photo.path', /is an absolute path/);
  rejected(t, await preparePhoto(dir, 'link-out.jpg'), 'photo.path', /is a link to .*outside\.jpg, outside the roster's photo folder/);
  t.true((await preparePhoto(dir, 'link-in.jpg')).ok, 'a link that stays inside is fine');
});

test('the problem carries the file name as its value', async (t) => {
  const r = await preparePhoto(await made, 'blue-background.jpg');
  t.false(r.ok);
  if (!r.ok) t.is(r.problem.value, 'blue-background.jpg');
});

test('cover crops the square from the top; an output below 300 dpi is refused as a programming error', async (t) => {
  const r = await preparePhoto(await made, 'good.jpg', { fit: 'cover', sizePx: 400 });
  if (!r.ok) return t.fail(r.problem.message);
  const { data } = await sharp(r.photo.jpeg).raw().toBuffer({ resolveWithObject: true });
  t.true(data[(10 * 400 + 200) * 3]! > 240, 'the white space above the head is kept');
  await t.throwsAsync(preparePhoto(await made, 'good.jpg', { sizePx: 300 }), { message: /Expected sizePx ≥ 355/ });
});

test('the photos in fixtures/photos get the outcome their README states', async (t) => {
  const { FIXTURES_DIR } = await import('../../pipeline/core/paths.js');
  const dir = join(FIXTURES_DIR, 'photos');
  const expected: Record<string, string> = {
    'demo-1.jpg': 'ok',
    'demo-2.jpg': 'ok',
    'demo-3.png': 'ok',
    'rotated-exif6.jpg': 'ok',
    'greyscale.jpg': 'photo.greyscale',
    'blue-background.jpg': 'photo.background',
    'too-small.jpg': 'photo.resolution',
    'not-an-image.jpg': 'photo.format',
  };
  for (const [file, outcome] of Object.entries(expected)) {
    const r = await preparePhoto(dir, file);
    t.is(r.ok ? 'ok' : r.problem.rule, outcome, file);
  }
});
