/**
 * The page's side of the status lists: credential.ts and bitstring.ts bundled for the browser by esbuild (as the
 * page is), then run in a bare V8 context that holds only what a browser gives — WebCrypto, WebStreams
 * (CompressionStream / DecompressionStream), Blob, Response, TextEncoder/Decoder, atob/btoa — no require, no
 * process, no Buffer. The web engineer tests the page itself in Chromium.
 */
import test from 'ava';
import { build } from 'esbuild';
import { webcrypto } from 'node:crypto';
import { createContext, runInContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { signStatusList } from '../../pipeline/status/index.js';
import { pem, testSigner } from '../sign/_identity.js';

interface PageStatus {
  verifyStatusList(jws: string, trusted: readonly string[], o?: { now?: Date }): Promise<{ orgCode: string; purpose: string; list: Uint8Array }>;
  bitAt(list: Uint8Array, index: number): boolean;
  encodeList(indexes: Iterable<number>): Promise<string>;
}

async function browserModule(): Promise<PageStatus> {
  const entry = fileURLToPath(new URL('./_browser-entry.ts', import.meta.url));
  const bundle = await build({ entryPoints: [entry], bundle: true, platform: 'browser', format: 'iife', globalName: 'pageStatus', write: false, logLevel: 'silent' });
  const code = bundle.outputFiles[0]!.text;
  const sandbox = createContext({
    crypto: webcrypto, CompressionStream, DecompressionStream, Blob, Response, TextEncoder, TextDecoder, atob, btoa,
    Uint8Array, ArrayBuffer, DataView, Date, JSON, Math, Promise, Error, TypeError, RangeError, Map, Set, Symbol, Object, Array, String, Number, Boolean, RegExp,
    console,
  });
  runInContext(`${code}\nglobalThis.pageStatus = pageStatus;`, sandbox);
  return (sandbox as unknown as { pageStatus: PageStatus }).pageStatus;
}

test('the browser bundle of credential.ts + bitstring.ts verifies a list signed in Node and reads its bits, with browser globals only', async (t) => {
  const page = await browserModule();
  const jws = await signStatusList({ orgCode: '0000', purpose: 'suspension', indexes: [2, 9], validFrom: new Date('2026-11-20T00:00:00Z'), validUntil: new Date('2026-11-27T00:00:00Z') }, testSigner('org'));
  const v = await page.verifyStatusList(jws, [pem('org')], { now: new Date('2026-11-21T00:00:00Z') });
  t.is(v.orgCode, '0000');
  t.is(v.purpose, 'suspension');
  t.deepEqual([1, 2, 3, 9].map((i) => page.bitAt(v.list, i)), [false, true, false, true]);
  await t.throwsAsync(page.verifyStatusList(jws, [pem('other-org')], { now: new Date('2026-11-21T00:00:00Z') }), { message: /not one of the trusted organisation certificates/ });
  // And the encoder works there too (the page never signs, but the format is one file).
  t.regex(await page.encodeList([1]), /^u[A-Za-z0-9_-]+$/);
});
