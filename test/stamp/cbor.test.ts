/**
 * stamp/cbor.ts writes the QR payload's CBOR instead of cbor2's encode (see there why): the bytes must be exactly
 * cbor2's — preferred serialisation, maps in insertion order — for every kind and every head length it writes, and a
 * real QR text must decode and verify as before.
 */
import test from 'ava';
import { encode, Tag } from 'cbor2';
import { CborTag, encodeCbor, type CborValue } from '../../pipeline/stamp/cbor.js';
import { buildQrText, keysFromCertificates, verifyQrText } from '../../pipeline/stamp/qr.js';
import { testSigner } from '../sign/_identity.js';
import { LONG } from './_payload.js';

/** The same value in cbor2's terms (its Tag for ours). */
const asCbor2 = (v: CborValue): unknown =>
  v instanceof CborTag ? new Tag(v.tag, asCbor2(v.value)) : v instanceof Map ? new Map([...v].map(([k, x]) => [k, asCbor2(x)])) : Array.isArray(v) ? v.map(asCbor2) : v;

test('integers at every head length, both signs, are written as cbor2 writes them', (t) => {
  const edges = [0, 1, 23, 24, 255, 256, 65535, 65536, 0xffffffff, 0x100000000, Number.MAX_SAFE_INTEGER];
  for (const n of [...edges, ...edges.map((e) => -1 - e), -7, -37, 20261120]) {
    if (!Number.isSafeInteger(n)) continue;
    t.deepEqual(encodeCbor(n), Buffer.from(encode(n)), String(n));
  }
  t.throws(() => encodeCbor(1.5), { message: /safe integer/ });
});

test('text, byte strings, arrays, maps and tags are written as cbor2 writes them', (t) => {
  const long = (n: number) => '职'.repeat(n);
  const values: CborValue[] = [
    '',
    'Signature1',
    long(8),
    long(100),
    long(30_000),
    new Uint8Array(0),
    new Uint8Array(23).fill(7),
    new Uint8Array(300).fill(1),
    [],
    ['Signature1', new Uint8Array([0xa1, 1, 0x26]), new TextEncoder().encode('S000011084012262000001'), new Uint8Array(40)],
    new Map<number, CborValue>([[1, '张三'], [2, '110************12X'], [5, 3], [6, 20261120], [8, 70000]]),
    new Map<number, CborValue>([[1, -7], [4, new Uint8Array(8).fill(9)]]),
    new Map(),
    new CborTag(18, [new Uint8Array(3), new Map(), new Uint8Array(90), new Uint8Array(64)]),
    Array.from({ length: 30 }, (_, i) => i * 1000),
  ];
  for (const v of values) t.deepEqual(encodeCbor(v), Buffer.from(encode(asCbor2(v))));
  t.throws(() => encodeCbor({} as unknown as CborValue), { message: /CBOR value/ });
});

test('a QR text built with it decodes with cbor2 and verifies', (t) => {
  const signer = testSigner();
  const text = buildQrText({ ...LONG, statusIndex: 123_456 }, signer, { verifyUrl: 'http://127.0.0.1:8480/v' });
  const v = verifyQrText(text, keysFromCertificates([signer.certificate]));
  t.true(v.checks.every((c) => c.ok === true), JSON.stringify(v.checks));
  t.is(v.payload?.name, LONG.name);
  t.is(v.payload?.statusIndex, 123_456);
});
