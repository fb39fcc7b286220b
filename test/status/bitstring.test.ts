/**
 * The bitstring functions run on the platform's WebStreams (CompressionStream / DecompressionStream), which Node
 * provides as browsers do; the bytes are checked with node:zlib, an independent gzip.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { bitAt, decodeList, encodeList, listBits, STATUS_LIST_BITS } from '../../pipeline/status/bitstring.js';
import { SkillcertError } from '../../pipeline/core/errors.js';

const raw = (encoded: string): Buffer => gunzipSync(Buffer.from(encoded.slice(1), 'base64url'));

test('the list is "u" + base64url(gzip) of 16 KB, index 0 the most significant bit of byte 0 (W3C Bitstring Status List)', async (t) => {
  const encoded = await encodeList([0, 7, 8, 131_071]);
  t.regex(encoded, /^u[A-Za-z0-9_-]+$/, 'Multibase base64url, no padding');
  const bytes = raw(encoded);
  t.is(bytes.length, STATUS_LIST_BITS / 8);
  t.is(bytes[0], 0b1000_0001);
  t.is(bytes[1], 0b1000_0000);
  t.is(bytes[bytes.length - 1], 0b0000_0001);
  t.is(bytes.reduce((n, b) => n + (b ? 1 : 0), 0), 3);
});

test('decodeList gives back the bits encodeList set, and bitAt reads them', async (t) => {
  const set = [3, 64, 999, 65_536, 131_070];
  const list = await decodeList(await encodeList(set));
  t.is(list.length, 16_384);
  for (let i = 0; i < STATUS_LIST_BITS; i++) if (bitAt(list, i) !== set.includes(i)) t.fail(`bit ${i}`);
  t.pass();
});

test('a list made by another gzip (node:zlib) decodes: the format is the standard one', async (t) => {
  const bytes = new Uint8Array(STATUS_LIST_BITS / 8);
  bytes[2] = 0b0010_0000; // index 18
  const list = await decodeList(`u${gzipSync(bytes).toString('base64url')}`);
  t.true(bitAt(list, 18));
  t.false(bitAt(list, 17));
  t.false(bitAt(list, 19));
});

test('an index past the list, negative or fractional is a RangeError, on either side', async (t) => {
  await t.throwsAsync(encodeList([STATUS_LIST_BITS]), { instanceOf: RangeError });
  await t.throwsAsync(encodeList([-1]), { instanceOf: RangeError });
  await t.throwsAsync(encodeList([1.5]), { instanceOf: RangeError });
  await t.throwsAsync(encodeList([], 1000), { instanceOf: RangeError, message: /at least 131072 bits/ });
  const list = await decodeList(await encodeList([]));
  t.throws(() => bitAt(list, STATUS_LIST_BITS), { instanceOf: RangeError });
});

test('lists grow in whole 16 KB steps with the highest index allocated', async (t) => {
  t.is(listBits(undefined), STATUS_LIST_BITS);
  t.is(listBits(0), STATUS_LIST_BITS);
  t.is(listBits(STATUS_LIST_BITS - 1), STATUS_LIST_BITS);
  t.is(listBits(STATUS_LIST_BITS), 2 * STATUS_LIST_BITS);
  const list = await decodeList(await encodeList([STATUS_LIST_BITS + 5], listBits(STATUS_LIST_BITS + 5)));
  t.true(bitAt(list, STATUS_LIST_BITS + 5));
});

test('not base64url, not gzip, too short (no herd privacy) or a decompression bomb: refused with E_VERIFY', async (t) => {
  const refused = (message: RegExp) => ({ instanceOf: SkillcertError, message });
  await t.throwsAsync(decodeList('zAAAA'), refused(/start with "u"/));
  await t.throwsAsync(decodeList('u' + Buffer.from('not gzip at all').toString('base64url')), refused(/not valid gzip/));
  await t.throwsAsync(decodeList(`u${gzipSync(new Uint8Array(1024)).toString('base64url')}`), refused(/8192 bits, fewer than the 131072/));
  // 32 MB of zeros gzip to ~32 KB: refused while decompressing, not after.
  const bomb = gzipSync(new Uint8Array(32 * 1024 * 1024));
  await t.throwsAsync(decodeList(`u${bomb.toString('base64url')}`), refused(/more than 16777216 bytes/));
});

test('bitstring.ts imports nothing from node: (it runs in the browser page as it is)', (t) => {
  const source = readFileSync(new URL('../../pipeline/status/bitstring.ts', import.meta.url), 'utf8');
  t.notRegex(source, /from ['"]node:/);
  const credential = readFileSync(new URL('../../pipeline/status/credential.ts', import.meta.url), 'utf8');
  t.notRegex(credential, /from ['"]node:/);
});
