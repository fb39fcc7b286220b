/**
 * The certificate's QR code (SPEC §6, 第八条): a query address plus a compact payload signed by the
 * organisation, checkable offline — in the spirit of the EU Digital COVID Certificate (CBOR claims in a
 * COSE_Sign1, RFC 9052, base45 text).
 *
 * QR text:   <VERIFY-URL>?n=<certificate number>#SC1:<base45(COSE_Sign1)>
 *   - the scheme and host of the profile's verifyUrl are upper-cased (they are case-insensitive) so that
 *     the address and the number stay in QR alphanumeric mode; only "?n=" and "#" need byte mode;
 *   - the payload is in the fragment, which a browser never sends to the server: scanning with a phone
 *     opens the query page without handing the holder's data to anyone;
 *   - the number is carried once, in the address, and bound into the signature as COSE external_aad,
 *     so it cannot be swapped without breaking the signature (saves ~36 QR characters).
 * COSE_Sign1 = Tag 18 [ protected bstr {1: alg, 4: kid}, {}, payload bstr, signature ]
 *   alg ES256 (-7, 64-byte r‖s) for EC P-256 keys, PS256 (-37) for RSA keys;
 *   kid = first 8 bytes of SHA-256 over the signer certificate's SubjectPublicKeyInfo.
 * Claims (CBOR map, integer keys): 1 name, 2 masked ID number (第十九条: never the whole number),
 *   3 occupation, 4 job ("" when none), 5 level code, 6 issue date as YYYYMMDD integer, 7 organisation code,
 *   8 status list index (non-negative integer; the certificate's bit in the organisation's signed status lists,
 *   pipeline/status/; absent in certificates made before status lists: their status is then not checked offline).
 */
import { createHash, createPublicKey, constants, sign as cryptoSign, verify as cryptoVerify, X509Certificate, type KeyObject } from 'node:crypto';
import { decode as cborDecode, Tag } from 'cbor2';
import { CborTag, encodeCbor, type CborValue } from './cbor.js';
import { createRequire } from 'node:module';
import QRCode from 'qrcode';
import { concatTransformationMatrix, fill, PDFOperator, PDFOperatorNames, popGraphicsState, pushGraphicsState, rectangle, setFillingGrayscaleColor, type PDFPage } from '../pdf/lib.js';
import type { LevelCode } from '../core/record.js';
import { decodeBase45, encodeBase45 } from './base45.js';
import type { Check } from '../core/check.js';
import { once, remember } from '../core/memo.js';
import { maskId } from '../core/privacy.js';
import { pemCertificates } from '../pki/pem.js';

export const QR_PREFIX = 'SC1:';

/** What the caller gives: the full ID number goes in and only its mask (maskId) ever reaches the code. */
export interface QrInput {
  readonly number: string;
  readonly name: string;
  readonly idNo: string;
  readonly occupation: string;
  readonly job: string;
  readonly level: LevelCode;
  /** YYYY-MM-DD */
  readonly issueDate: string;
  readonly orgCode: string;
  /** The status list index the registry allocated (claim 8); omitted for a certificate that has none. */
  readonly statusIndex?: number;
}

/** What a QR code carries after decoding. */
export interface QrPayload {
  readonly number: string;
  readonly name: string;
  readonly idMasked: string;
  readonly occupation: string;
  readonly job: string;
  readonly level: LevelCode;
  readonly issueDate: string;
  readonly orgCode: string;
  /** Claim 8; undefined in certificates made before status lists. */
  readonly statusIndex?: number;
}

export interface ParsedQr {
  readonly url: string;
  readonly payload: QrPayload;
  readonly kid: Buffer;
  readonly alg: 'ES256' | 'PS256';
  /** For verification: the COSE Sig_structure that was signed, and the signature. */
  readonly toBeSigned: Buffer;
  readonly signature: Buffer;
}

/** Anything with the organisation's private key and certificate (LoadedSigner from pipeline/sign fits). */
export interface QrSigner {
  readonly key: KeyObject;
  readonly certificate: X509Certificate;
}


const ALG = { ES256: -7, PS256: -37 } as const;
/** Maps stay Maps (integer keys); anything after the first item is an error, not ignored. */
const decodeCbor = (b: Uint8Array): unknown => cborDecode(b, { preferMap: true });

/** kid: first 8 bytes of SHA-256 over the SubjectPublicKeyInfo. */
export function qrKid(cert: X509Certificate | KeyObject): Buffer {
  const pub = cert instanceof X509Certificate ? cert.publicKey : cert.type === 'private' ? createPublicKey(cert) : cert;
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest().subarray(0, 8);
}

/** The COSE protected header of a signer, encoded once per signer certificate (its kid is a key export and a hash). */
const protectedHeaders = new WeakMap<X509Certificate, Buffer>();
function protectedHeader(cert: X509Certificate, alg: 'ES256' | 'PS256'): Buffer {
  return once(protectedHeaders, cert, () => encodeCbor(new Map<number, CborValue>([[1, ALG[alg]], [4, qrKid(cert)]])));
}

function sigStructure(protectedBytes: Buffer, number: string, payload: Buffer): Buffer {
  return encodeCbor(['Signature1', protectedBytes, new TextEncoder().encode(number), payload]);
}

/** The address part: scheme and host upper-cased (case-insensitive, keeps QR alphanumeric mode), path kept. */
export function qrAddress(verifyUrl: string, number: string): string {
  const u = new URL(verifyUrl);
  if (u.hash) throw new RangeError(`Expected a verifyUrl without a #fragment but received ${verifyUrl}`);
  const origin = `${u.protocol.toUpperCase()}//${u.host.toUpperCase()}`;
  const sep = u.search ? '&' : '?';
  return `${origin}${u.pathname}${u.search}${sep}n=${encodeURIComponent(number)}`;
}

export function buildQrText(input: QrInput, signer: QrSigner, opts: { verifyUrl?: string } = {}): string {
  if (!/^[0-9A-Z]{1,40}$/.test(input.number)) throw new RangeError(`Expected a certificate number of digits and capital letters but received ${JSON.stringify(input.number)}`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.issueDate)) throw new RangeError(`Expected issueDate as YYYY-MM-DD but received ${JSON.stringify(input.issueDate)}`);
  const keyType = signer.key.asymmetricKeyType;
  if (keyType !== 'ec' && keyType !== 'rsa') throw new RangeError(`Expected an EC or RSA key for the QR signature but received ${String(keyType)}`);
  const alg = keyType === 'ec' ? 'ES256' : 'PS256';
  const claims = new Map<number, CborValue>([
    [1, input.name],
    [2, maskId(input.idNo)], // 第十九条: the whole ID number never leaves the registry
    [3, input.occupation],
    [4, input.job],
    [5, input.level],
    [6, Number(input.issueDate.replace(/-/g, ''))],
    [7, input.orgCode],
  ]);
  if (input.statusIndex !== undefined) {
    if (!Number.isSafeInteger(input.statusIndex) || input.statusIndex < 0) throw new RangeError(`Expected a status list index as a non-negative integer but received ${String(input.statusIndex)}`);
    claims.set(8, input.statusIndex);
  }
  const payload = encodeCbor(claims);
  const protectedBytes = protectedHeader(signer.certificate, alg);
  const tbs = sigStructure(protectedBytes, input.number, payload);
  const signature =
    alg === 'ES256'
      ? cryptoSign('sha256', tbs, { key: signer.key, dsaEncoding: 'ieee-p1363' })
      : cryptoSign('sha256', tbs, { key: signer.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  const cose = encodeCbor(new CborTag(18, [protectedBytes, new Map(), payload, signature]));
  return `${qrAddress(opts.verifyUrl ?? 'http://jndj.osta.org.cn/', input.number)}#${QR_PREFIX}${encodeBase45(cose)}`;
}

/** Parses the QR text; throws a RangeError saying what is wrong. Does not check the signature. */
export function parseQrText(text: string): ParsedQr {
  const hash = text.indexOf(`#${QR_PREFIX}`);
  if (hash < 0) throw new RangeError(`not a skillcert QR code: no "#${QR_PREFIX}" payload`);
  const url = text.slice(0, hash);
  let number: string | null;
  try {
    number = new URL(url).searchParams.get('n');
  } catch {
    throw new RangeError(`the address part ${JSON.stringify(url.slice(0, 80))} is not a URL`);
  }
  if (!number || !/^[0-9A-Z]{1,40}$/.test(number)) throw new RangeError(`the address has no certificate number (?n=…)`);
  const cose = decodeBase45(text.slice(hash + 1 + QR_PREFIX.length));
  let tagged: unknown;
  try {
    tagged = decodeCbor(cose);
  } catch (err) {
    throw new RangeError(`the payload is not valid CBOR: ${(err as Error).message}`);
  }
  if (!(tagged instanceof Tag) || Number(tagged.tag) !== 18 || !Array.isArray(tagged.contents) || tagged.contents.length !== 4) {
    throw new RangeError('the payload is not a COSE_Sign1 (CBOR tag 18 with 4 elements)');
  }
  const [protectedBytes, , payloadBytes, signature] = tagged.contents as unknown[];
  if (!(protectedBytes instanceof Uint8Array) || !(payloadBytes instanceof Uint8Array) || !(signature instanceof Uint8Array)) {
    throw new RangeError('the COSE_Sign1 elements are not byte strings');
  }
  const header = decodeInner(protectedBytes, 'protected header');
  if (!(header instanceof Map)) throw new RangeError('the COSE protected header is not a map');
  const algId = header.get(1);
  const alg = algId === ALG.ES256 ? 'ES256' : algId === ALG.PS256 ? 'PS256' : undefined;
  if (!alg) throw new RangeError(`COSE algorithm ${String(algId)} is not ES256 (-7) or PS256 (-37)`);
  const kid = header.get(4);
  if (!(kid instanceof Uint8Array) || kid.length !== 8) throw new RangeError('the COSE kid is not 8 bytes');
  const claims = decodeInner(payloadBytes, 'payload');
  if (!(claims instanceof Map)) throw new RangeError('the payload is not a CBOR map');
  const str = (k: number, what: string) => {
    const v = claims.get(k);
    if (typeof v !== 'string') throw new RangeError(`claim ${k} (${what}) is missing or not text`);
    return v;
  };
  const level = claims.get(5);
  if (![1, 2, 3, 4, 5].includes(level as number)) throw new RangeError(`claim 5 (level) is ${String(level)}, expected 1-5`);
  const date = claims.get(6);
  if (typeof date !== 'number' || !/^\d{8}$/.test(String(date))) throw new RangeError(`claim 6 (issue date) is ${String(date)}, expected YYYYMMDD`);
  const d = String(date);
  const statusIndex = claims.get(8);
  if (statusIndex !== undefined && !(typeof statusIndex === 'number' && Number.isSafeInteger(statusIndex) && statusIndex >= 0)) {
    throw new RangeError(`claim 8 (status list index) is ${String(statusIndex)}, expected a non-negative integer`);
  }
  const payload: QrPayload = {
    number,
    name: str(1, 'name'),
    idMasked: str(2, 'masked ID number'),
    occupation: str(3, 'occupation'),
    job: str(4, 'job'),
    level: level as LevelCode,
    issueDate: `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`,
    orgCode: str(7, 'organisation code'),
    ...(statusIndex !== undefined && { statusIndex }),
  };
  const pb = Buffer.from(protectedBytes);
  return { url, payload, kid: Buffer.from(kid), alg, toBeSigned: sigStructure(pb, number, Buffer.from(payloadBytes)), signature: Buffer.from(signature) };
}

function decodeInner(bytes: Uint8Array, what: string): unknown {
  try {
    return decodeCbor(bytes);
  } catch (err) {
    throw new RangeError(`the COSE ${what} is not valid CBOR: ${(err as Error).message}`);
  }
}

/** Looks up the public key (or certificate) for a kid; undefined when the kid is unknown. */
export type KeyForKid = (kid: Buffer) => KeyObject | X509Certificate | undefined;

/**
 * Certificates of PEM texts and their key ids, read once: a verification service is handed the same organisation
 * certificates for every upload, and a parse and a key export each cost more than the QR signature check.
 */
const keyedPems = new Map<string, readonly (readonly [string, X509Certificate])[]>();
const kids = new WeakMap<X509Certificate, string>();
const kidHex = (x: X509Certificate): string => once(kids, x, () => qrKid(x).toString('hex'));

/** A KeyForKid over certificates (PEM text or X509Certificate). */
export function keysFromCertificates(certs: readonly (string | X509Certificate)[]): KeyForKid {
  const map = new Map<string, X509Certificate>();
  for (const c of certs) {
    if (typeof c !== 'string') {
      map.set(kidHex(c), c);
      continue;
    }
    const keyed = remember(keyedPems, c, 256, () => pemCertificates(c).map((der) => new X509Certificate(der)).map((x) => [kidHex(x), x] as const));
    for (const [kid, x] of keyed) map.set(kid, x);
  }
  return (kid) => map.get(kid.toString('hex'));
}

/** Checks a QR text: format, known key, signature. Returns the checks and the payload when it could be read. */
export function verifyQrText(text: string, keyForKid: KeyForKid): { checks: Check[]; payload?: QrPayload; url?: string } {
  let parsed: ParsedQr;
  try {
    parsed = parseQrText(text);
  } catch (err) {
    return { checks: [{ id: 'qr.format', ok: false, message: `the QR code cannot be read: ${(err as Error).message}` }] };
  }
  const checks: Check[] = [{ id: 'qr.format', ok: true, message: `a skillcert QR payload (${parsed.alg}) for certificate ${parsed.payload.number}` }];
  const found = keyForKid(parsed.kid);
  if (!found) {
    checks.push({ id: 'qr.key', ok: false, message: `the QR code is signed with key id ${parsed.kid.toString('hex')}, which is not one of the configured organisation keys` });
    return { checks, payload: parsed.payload, url: parsed.url };
  }
  const key = found instanceof X509Certificate ? found.publicKey : found.type === 'private' ? createPublicKey(found) : found;
  checks.push({ id: 'qr.key', ok: true, message: `key id ${parsed.kid.toString('hex')} is a configured organisation key` });
  let ok = false;
  try {
    ok =
      parsed.alg === 'ES256'
        ? key.asymmetricKeyType === 'ec' && cryptoVerify('sha256', parsed.toBeSigned, { key, dsaEncoding: 'ieee-p1363' }, parsed.signature)
        : key.asymmetricKeyType === 'rsa' && cryptoVerify('sha256', parsed.toBeSigned, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, parsed.signature);
  } catch {
    ok = false;
  }
  checks.push(
    ok
      ? { id: 'qr.signature', ok: true, message: `the QR payload and certificate number ${parsed.payload.number} are signed by the organisation` }
      : { id: 'qr.signature', ok: false, message: `the QR signature does not verify: the payload or the certificate number ${parsed.payload.number} was changed after signing` },
  );
  return { checks, payload: parsed.payload, url: parsed.url };
}

export type QrErrorCorrection = 'L' | 'M' | 'Q' | 'H';

/**
 * Where drawQr draws: a pdf-lib PDFPage, or the certificate overlay (render/overlay.ts), which also takes content
 * as text — a symbol's thousand rectangles then cost no PDFOperator objects.
 */
export type QrPage = Pick<PDFPage, 'getMediaBox' | 'pushOperators'> & { readonly pushContent?: (text: string) => void };

/** Square box in PDF points, bottom-left origin: the symbol itself (its modules); the quiet zone lies around it. */
export interface QrBox {
  readonly x: number;
  readonly y: number;
  readonly size: number;
}

export interface QrDrawOptions {
  /** Lowest acceptable error-correction level; default M. */
  readonly errorCorrection?: QrErrorCorrection;
  /**
   * Align the modules to the pixel grid of a render at this resolution (default 150 dpi, what the verifier
   * renders): every module is then exactly a whole number of pixels there, and at 300 and 600 dpi, so the
   * render is crisp. false: the modules fill the box exactly, anti-aliased at any resolution.
   */
  readonly alignDpi?: number | false;
  /** Unaligned drawing only: the smallest module worth printing, default 0.36 mm (2.1 px at 150 dpi). */
  readonly minModuleMm?: number;
  /** White margin painted around the symbol, in modules; default 4 (ISO/IEC 18004). 0 paints none. */
  readonly quietZone?: number;
}

export interface QrDrawing {
  readonly version: number;
  readonly modules: number;
  readonly errorCorrection: QrErrorCorrection;
  /** Module size in millimetres. */
  readonly moduleMm: number;
  /** Symbol size (without the quiet zone) in millimetres: the box, or a little less when aligned. */
  readonly symbolMm: number;
  /** Pixels per module at alignDpi, when aligned. */
  readonly pixelsPerModule?: number;
  readonly rectangles: number;
  /** Set when the payload is too long for the box to scan reliably. */
  readonly warning?: string;
}

const LEVELS: readonly QrErrorCorrection[] = ['L', 'M', 'Q', 'H'];
const ptToMm = (pt: number) => (pt * 25.4) / 72;

/*
 * Encoding. qrcode's defaults cost ~2.5 ms a symbol: it splits the text into segments with a shortest-path search
 * over every character, and masks the symbol eight times, scoring each mask through per-module method calls.
 * Here the segments come from the text's runs of one character class (a handful for a QR text: address, "?n=",
 * the number, "#", the base45 payload) and the eight masks are scored on the symbol packed as bits, 32 modules a
 * word; qrcode builds the symbol once with mask 0 and it is re-masked in place. Same symbol as qrcode would choose
 * (test/stamp/qr-encoding.test.ts); with the drawing ~0.75 ms a certificate against qrcode's ~2.5 ms for the symbol alone.
 */

type Mode = 'numeric' | 'alphanumeric' | 'byte';
/** Modes from the narrowest: a run of one class can also be written in any wider mode. */
const MODES: readonly Mode[] = ['numeric', 'alphanumeric', 'byte'];
/** Class (index into MODES) of each ASCII code; anything else is byte. */
const CLASS = new Uint8Array(128).fill(2);
for (const ch of '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:') CLASS[ch.charCodeAt(0)] = ch >= '0' && ch <= '9' ? 0 : 1;

/** Bits of the character count field (ISO/IEC 18004 table 3), by version range 1-9, 10-26, 27-40. */
function countBits(mode: Mode, version: number): number {
  const range = version <= 9 ? 0 : version <= 26 ? 1 : 2;
  return { numeric: [10, 12, 14], alphanumeric: [9, 11, 13], byte: [8, 16, 16] }[mode][range]!;
}

/** Data bits of `chars` characters (bytes, for byte mode) in a mode, fractional for the groups of 3 digits / 2 characters. */
const dataBits = (mode: Mode, chars: number) => (mode === 'numeric' ? (chars * 10) / 3 : mode === 'alphanumeric' ? chars * 5.5 : chars * 8);

/**
 * Segments for `text` in a symbol of `version`: each run of one character class is encoded in its own mode or
 * joined to a neighbour in a wider mode, whichever costs fewer bits (a shortest path over runs, mode headers
 * included; on a tie the narrower mode).
 */
export function qrSegments(text: string, version: number): QRCode.QRCodeSegment[] {
  // Runs of one class, as [class, start, end) in UTF-16 units (a surrogate pair is byte class, both halves).
  const runs: { cls: number; start: number; end: number }[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const cls = code < 128 ? CLASS[code]! : 2;
    const last = runs[runs.length - 1];
    if (last && last.cls === cls) last.end = i + 1;
    else runs.push({ cls, start: i, end: i + 1 });
  }
  // bits[3i + m]: fewest bits for runs 0..i with run i in a segment of mode m (Infinity: m narrower than the run);
  // from[3i + m]: the mode of run i - 1 on that path.
  const headers = MODES.map((m) => 4 + countBits(m, version));
  const bits = new Float64Array(runs.length * 3).fill(Infinity);
  const from = new Uint8Array(runs.length * 3);
  runs.forEach((run, i) => {
    const size = run.cls === 2 ? Buffer.byteLength(text.slice(run.start, run.end)) : run.end - run.start;
    for (let m = run.cls; m < 3; m++) {
      const cost = dataBits(MODES[m]!, size);
      if (i === 0) {
        bits[m] = headers[m]! + cost;
        continue;
      }
      for (let prev = 0; prev < 3; prev++) {
        const total = bits[3 * (i - 1) + prev]! + cost + (prev === m ? 0 : headers[m]!);
        if (total < bits[3 * i + m]!) {
          bits[3 * i + m] = total;
          from[3 * i + m] = prev;
        }
      }
    }
  });
  const last = runs.length - 1;
  let mode = 0;
  for (let m = 1; m < 3; m++) if (bits[3 * last + m]! < bits[3 * last + mode]!) mode = m;
  const modes = new Uint8Array(runs.length);
  for (let i = last; i >= 0; i--) {
    modes[i] = mode;
    mode = from[3 * i + mode]!;
  }
  const segments: { mode: Mode; start: number; end: number }[] = [];
  runs.forEach((run, i) => {
    const seg = segments[segments.length - 1];
    if (seg && seg.mode === MODES[modes[i]!]) seg.end = run.end;
    else segments.push({ mode: MODES[modes[i]!]!, start: run.start, end: run.end });
  });
  return segments.map(({ mode: m, start, end }) => {
    const data = text.slice(start, end);
    return (m === 'byte' ? { mode: m, data: Buffer.from(data, 'utf8') } : { mode: m, data }) as QRCode.QRCodeSegment;
  });
}

const EC_BITS: Record<QrErrorCorrection, number> = { L: 1, M: 0, Q: 3, H: 2 };

/** The 15 format bits (BCH(15,5) of level and mask, XOR 0x5412), as qrcode and ISO/IEC 18004 §7.9 compute them. */
function formatBits(level: QrErrorCorrection, mask: number): number {
  const data = (EC_BITS[level] << 3) | mask;
  let d = data << 10;
  for (let shift = 4; shift >= 0; shift--) if (d & (1 << (10 + shift))) d ^= 0x537 << shift;
  return ((data << 10) | d) ^ 0x5412;
}

const MASKS: readonly ((i: number, j: number) => boolean)[] = [
  (i, j) => (i + j) % 2 === 0,
  (i) => i % 2 === 0,
  (_, j) => j % 3 === 0,
  (i, j) => (i + j) % 3 === 0,
  (i, j) => (Math.floor(i / 2) + Math.floor(j / 3)) % 2 === 0,
  (i, j) => ((i * j) % 2) + ((i * j) % 3) === 0,
  (i, j) => (((i * j) % 2) + ((i * j) % 3)) % 2 === 0,
  (i, j) => (((i * j) % 3) + ((i + j) % 2)) % 2 === 0,
];

const popcount = (v: number): number => {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
};

/**
 * A symbol as bits: each line (a row, or a column) in `words` 32-bit words, module c of the line in bit c % 32 of
 * word c >> 5, the bits past the last module 0; rows and columns both, so that every penalty rule reads along a
 * line 32 modules at a time.
 */
interface Bits {
  readonly rows: Int32Array;
  readonly cols: Int32Array;
}

const wordsFor = (size: number) => (size + 31) >> 5;
/** The valid bits of a line's last word. */
const lastWordMask = (size: number) => (size % 32 === 0 ? -1 : (1 << size % 32) - 1);

function packBits(modules: ArrayLike<number>, size: number): Bits {
  const words = wordsFor(size);
  const rows = new Int32Array(size * words);
  const cols = new Int32Array(size * words);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      if (!modules[r * size + c]) continue;
      rows[r * words + (c >> 5)] |= 1 << (c & 31);
      cols[c * words + (r >> 5)] |= 1 << (r & 31);
    }
  }
  return { rows, cols };
}

/**
 * Rules N1 (each run of five or more modules of one colour: 3 points, and 1 per module beyond five) and N3 (each
 * 1:1:3:1:1 finder-like pattern with four light modules on one side, wholly inside the line: 40 points) along
 * `count` lines. Bit-parallel: a run of L ≥ 5 holds L - 4 windows of five modules, one of them at the run's start,
 * so its L - 2 points are the windows plus twice the windows that start a run.
 */
function linePenalty(lines: Int32Array, count: number, words: number, last: number): number {
  let points = 0;
  for (let o = 0, end = count * words; o < end; o += words) {
    for (let w = 0; w < words; w++) {
      const final = w === words - 1;
      const x0 = lines[o + w]!;
      const x1 = final ? 0 : lines[o + w + 1]!;
      const xp = w === 0 ? 0 : lines[o + w - 1]!;
      const y0 = ~x0 & (final ? last : -1);
      const y1 = final ? 0 : ~x1 & (w + 2 === words ? last : -1);
      const yp = w === 0 ? 0 : ~xp;
      // xj, yj: the dark / light modules j further along, for the 32 window starts of this word.
      const x2 = (x0 >>> 2) | (x1 << 30), x3 = (x0 >>> 3) | (x1 << 29), x4 = (x0 >>> 4) | (x1 << 28);
      const y2 = (y0 >>> 2) | (y1 << 30), y3 = (y0 >>> 3) | (y1 << 29), y4 = (y0 >>> 4) | (y1 << 28);
      const x1s = (x0 >>> 1) | (x1 << 31), y1s = (y0 >>> 1) | (y1 << 31);
      const dark5 = x0 & x1s & x2 & x3 & x4;
      const light5 = y0 & y1s & y2 & y3 & y4;
      points += popcount(dark5) + 2 * popcount(dark5 & ~((x0 << 1) | (xp >>> 31)));
      points += popcount(light5) + 2 * popcount(light5 & ~((y0 << 1) | (yp >>> 31)));
      // N3: dark, light, dark × 3, light, dark, then four light (or four light first).
      const x6 = (x0 >>> 6) | (x1 << 26), y5 = (y0 >>> 5) | (y1 << 27);
      const before = x0 & y1s & x2 & x3 & x4 & y5 & x6;
      const after = y0 & y1s & y2 & y3 & x4 & y5 & x6;
      if ((before | after) === 0) continue;
      const y7 = (y0 >>> 7) | (y1 << 25), y8 = (y0 >>> 8) | (y1 << 24), y9 = (y0 >>> 9) | (y1 << 23), y10 = (y0 >>> 10) | (y1 << 22);
      const x7 = (x0 >>> 7) | (x1 << 25), x8 = (x0 >>> 8) | (x1 << 24), x10 = (x0 >>> 10) | (x1 << 22);
      points += 40 * (popcount(before & y7 & y8 & y9 & y10) + popcount(after & x7 & x8 & y9 & x10));
    }
  }
  return points;
}

/** The penalty score of a masked symbol (ISO/IEC 18004 §7.8.3, rules N1-N4 as qrcode scores them). */
function penalty({ rows, cols }: Bits, size: number): number {
  const words = wordsFor(size);
  const last = lastWordMask(size);
  let points = linePenalty(rows, size, words, last) + linePenalty(cols, size, words, last);
  // N2 (each 2 × 2 block of one colour: 3 points) on pairs of rows, and the dark modules of N4.
  let dark = 0;
  for (let o = 0; o < size * words; o += words) {
    for (let w = 0; w < words; w++) {
      const a0 = rows[o + w]!;
      dark += popcount(a0);
      if (o + words >= size * words) continue;
      const final = w === words - 1;
      const mask = final ? last : -1;
      const nextMask = final ? 0 : w + 2 === words ? last : -1;
      const a1 = final ? 0 : rows[o + w + 1]!;
      const b0 = rows[o + words + w]!;
      const b1 = final ? 0 : rows[o + words + w + 1]!;
      const darkBlock = a0 & ((a0 >>> 1) | (a1 << 31)) & b0 & ((b0 >>> 1) | (b1 << 31));
      const la0 = ~a0 & mask, la1 = ~a1 & nextMask, lb0 = ~b0 & mask, lb1 = ~b1 & nextMask;
      const lightBlock = la0 & ((la0 >>> 1) | (la1 << 31)) & lb0 & ((lb0 >>> 1) | (lb1 << 31));
      points += 3 * popcount(darkBlock | lightBlock);
    }
  }
  // N4: the share of dark modules, in 5 % steps from 50 %.
  return points + Math.abs(Math.ceil((dark * 100) / (size * size) / 5) - 10) * 10;
}

/**
 * For each mask, the modules it flips — the pattern outside the function patterns, which depend on the version
 * only — as bytes and as bits.
 */
const flipsByVersion = new Map<number, { bytes: Uint8Array; bits: Bits }[]>();

function maskFlips(version: number, reserved: Uint8Array, size: number): { bytes: Uint8Array; bits: Bits }[] {
  let flips = flipsByVersion.get(version);
  if (!flips) {
    flips = MASKS.map((mask) => {
      const bytes = new Uint8Array(size * size);
      for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) bytes[r * size + c] = !reserved[r * size + c] && mask(r, c) ? 1 : 0;
      return { bytes, bits: packBits(bytes, size) };
    });
    flipsByVersion.set(version, flips);
  }
  return flips;
}

/** Where format bit i (0-14) sits, twice: [row, column] (ISO/IEC 18004 §7.9.1, as qrcode places it). */
function formatPlaces(size: number, i: number): [[number, number], [number, number]] {
  return [
    [i < 6 ? i : i < 8 ? i + 1 : size - 15 + i, 8],
    [8, i < 8 ? size - i - 1 : i < 9 ? 15 - i : 15 - i - 1],
  ];
}

/**
 * The symbol masked with the pattern of lowest penalty, from the one qrcode built with mask 0 (format bits
 * included in the score, as qrcode scores): the same symbol qrcode builds when it chooses the mask itself. Each
 * mask is scored on bits (the symbol with mask 0 packed once, then one XOR per word); only the chosen one is
 * written back as modules.
 */
function withBestMask(qr: QRCode.QRCode, level: QrErrorCorrection): QRCode.QRCode {
  const { size, reservedBit } = qr.modules;
  const flips = maskFlips(qr.version, reservedBit, size);
  const data = packBits(qr.modules.data, size);
  const words = wordsFor(size);
  const m: Bits = { rows: new Int32Array(data.rows.length), cols: new Int32Array(data.cols.length) };
  const set = (lines: Int32Array, line: number, at: number, bit: number) => {
    const k = line * words + (at >> 5);
    lines[k] = bit ? lines[k]! | (1 << (at & 31)) : lines[k]! & ~(1 << (at & 31));
  };
  let best = 0;
  let lowest = Infinity;
  for (let p = 0; p < 8; p++) {
    // data holds the symbol with mask 0: undo it and apply mask p in one XOR.
    const f0 = flips[0]!.bits;
    const fp = flips[p]!.bits;
    for (let i = 0; i < m.rows.length; i++) {
      m.rows[i] = data.rows[i]! ^ f0.rows[i]! ^ fp.rows[i]!;
      m.cols[i] = data.cols[i]! ^ f0.cols[i]! ^ fp.cols[i]!;
    }
    const bits = formatBits(level, p);
    for (let i = 0; i < 15; i++) {
      for (const [r, c] of formatPlaces(size, i)) {
        set(m.rows, r, c, (bits >> i) & 1);
        set(m.cols, c, r, (bits >> i) & 1);
      }
    }
    const score = penalty(m, size);
    if (score < lowest) {
      lowest = score;
      best = p;
    }
  }
  // The symbol is ours alone (just built): re-mask it in place.
  const modules = qr.modules.data;
  const f0 = flips[0]!.bytes;
  const fb = flips[best]!.bytes;
  for (let i = 0; i < modules.length; i++) modules[i] = modules[i]! ^ f0[i]! ^ fb[i]!;
  const bits = formatBits(level, best);
  for (let i = 0; i < 15; i++) for (const [r, c] of formatPlaces(size, i)) modules[r * size + c] = (bits >> i) & 1;
  qr.maskPattern = best as QRCode.QRCodeMaskPattern;
  return qr;
}

const VERSION_RANGES: readonly [number, number][] = [[1, 9], [10, 26], [27, 40]];

/**
 * The symbol for `text` at `level`, in `version` or (without one) the smallest version that holds it; undefined
 * when it does not fit. qrcode refuses data that does not fit before it builds anything, so a miss is cheap.
 * `segmentsByRange` lets a caller trying several versions compute the segments once per version range.
 */
export function qrSymbol(text: string, level: QrErrorCorrection, version?: number, segmentsByRange = new Map<number, QRCode.QRCodeSegment[]>()): QRCode.QRCode | undefined {
  const build = (segments: QRCode.QRCodeSegment[], v: number | undefined, maskPattern: QRCode.QRCodeMaskPattern) => {
    try {
      return QRCode.create(segments, { errorCorrectionLevel: level, maskPattern, ...(v ? { version: v } : {}) });
    } catch {
      return undefined;
    }
  };
  // Segment headers depend on the version range, so the smallest version is looked for range by range.
  for (const [from, to] of VERSION_RANGES) {
    if (version && (version < from || version > to)) continue;
    let segments = segmentsByRange.get(to);
    if (!segments) segmentsByRange.set(to, (segments = qrSegments(text, to)));
    const first = build(segments, version, 0);
    if (!first || first.version > to) continue;
    return withBestMask(first, level);
  }
  return undefined;
}

/**
 * qrcode's own capacity table (data bits of a version at a level), the figure its create() checks the data against;
 * a module of the package, not of its typed surface.
 */
const requireQr = createRequire(import.meta.url);
type QrLevelObject = { readonly bit: number };
const qrVersion = requireQr('qrcode/lib/core/version.js') as { getCapacity(version: number, level: QrLevelObject, mode: object): number };
/** (compared by identity inside qrcode: its own objects, not look-alikes) */
const MIXED = (requireQr('qrcode/lib/core/mode.js') as { MIXED: object }).MIXED;
const LEVEL_OBJECTS = requireQr('qrcode/lib/core/error-correction-level.js') as Record<QrErrorCorrection, QrLevelObject>;

/** Exact bits of the segments in a symbol of `version` (mode indicator, character count, data; ISO/IEC 18004 §7.4). */
function segmentBits(segments: readonly QRCode.QRCodeSegment[], version: number): number {
  let bits = 0;
  for (const sg of segments) {
    const mode = sg.mode as Mode;
    const n = (sg.data as string | Uint8Array).length;
    bits += 4 + countBits(mode, version) + (mode === 'numeric' ? 10 * Math.floor(n / 3) + [0, 4, 7][n % 3]! : mode === 'alphanumeric' ? 11 * Math.floor(n / 2) + 6 * (n % 2) : 8 * n);
  }
  return bits;
}

/** Whether the segments fit a symbol of `version` at `level` — without building it (as create() would, to find out). */
const fits = (segments: readonly QRCode.QRCodeSegment[], version: number, level: QrErrorCorrection) =>
  segmentBits(segments, version) <= qrVersion.getCapacity(version, LEVEL_OBJECTS[level], MIXED);

interface Layout {
  readonly qr: QRCode.QRCode;
  readonly level: QrErrorCorrection;
  /** Module size in points and the symbol's bottom-left corner. */
  readonly unit: number;
  readonly x: number;
  readonly y: number;
  readonly k?: number;
}

/**
 * Pixel-grid layout: the largest whole number k ≥ 2 of grid pixels per module for which a version fits the
 * box at the minimum level; then the largest version that still fits (filling the box) with the highest
 * level its capacity allows — at a fixed module size a bigger version and a higher level cost nothing.
 */
function alignedLayout(page: QrPage, text: string, box: QrBox, dpi: number, minLevel: QrErrorCorrection): Layout | undefined {
  const g = 72 / dpi;
  const boxPx = box.size / g;
  const segments = new Map<number, QRCode.QRCodeSegment[]>();
  const pick = (k: number, floor: number) => {
    const version = Math.min(40, Math.floor((Math.floor(boxPx / k) - 17) / 4));
    if (version < 1) return undefined;
    const to = VERSION_RANGES.find(([, last]) => version <= last)![1];
    let inRange = segments.get(to);
    if (!inRange) segments.set(to, (inRange = qrSegments(text, to)));
    for (let li = LEVELS.length - 1; li >= floor; li--) {
      // Most candidates do not fit: they are counted out, and only the one that fits is built.
      if (!fits(inRange, version, LEVELS[li]!)) continue;
      const qr = qrSymbol(text, LEVELS[li]!, version, segments);
      if (qr) return { qr, level: LEVELS[li]!, k };
    }
    return undefined;
  };
  // From the largest module a version-1 symbol (21 modules) allows down to 2 pixels.
  let chosen: { qr: QRCode.QRCode; level: QrErrorCorrection; k: number } | undefined;
  for (let k = Math.floor(boxPx / 21); k >= 2 && !chosen; k--) chosen = pick(k, LEVELS.indexOf(minLevel));
  chosen ??= pick(2, 0);
  if (!chosen) return undefined;
  const unit = chosen.k * g;
  const size = chosen.qr.modules.size * unit;
  // Centre in the box, then snap the top-left corner to the grid of a render of the media box (pdftoppm's default).
  const media = page.getMediaBox();
  const top = media.y + media.height;
  const left = media.x + Math.round((box.x + (box.size - size) / 2 - media.x) / g) * g;
  const topRow = Math.round((top - (box.y + (box.size + size) / 2)) / g);
  return { qr: chosen.qr, level: chosen.level, unit, x: left, y: top - topRow * g - size, k: chosen.k };
}

/**
 * Draws the QR code as ONE filled path of merged rectangles (a single fill, so anti-aliasing leaves no
 * hairline seams between modules) on a white quiet zone. The box is the symbol's place; keep the quiet
 * zone (4 modules ≈ 1.4 mm) clear in the layout.
 *
 * Error correction: at least M (15 % of the symbol may be lost to a stain or a seal's edge); the payload
 * is signed, so the code only has to survive print and camera, not forgery. Measured with zbarimg on
 * pdftoppm -r 150 renders of a 24 mm box at 24 positions, for texts of 261 / 362 / 389 characters:
 * modules filling the box exactly (alignDpi false) decode 24 / 23 / 22 of 24 at M and 24 / 10 / 20 at Q —
 * modules of 2.2-2.5 px are anti-aliased into grey edges that zbar sometimes misreads. Aligned to the
 * 150 dpi grid (the default) every module is exactly 2 px (0.34 mm; 4 px at 300 dpi), the symbol is
 * version 13 (69 modules, 23.4 mm) and the spare capacity goes to a higher level: 24 / 24 in every case.
 */
export function drawQr(page: QrPage, text: string, box: QrBox, opts: QrDrawOptions = {}): QrDrawing {
  const minLevel = opts.errorCorrection ?? 'M';
  const minModuleMm = opts.minModuleMm ?? 0.36;
  const quiet = opts.quietZone ?? 4;
  const dpi = opts.alignDpi ?? 150;
  let layout = dpi === false ? undefined : alignedLayout(page, text, box, dpi, minLevel);
  let warning: string | undefined;
  if (!layout) {
    const symbol = (level: QrErrorCorrection) => {
      const qr = qrSymbol(text, level);
      if (!qr) throw new RangeError(`the QR text of ${text.length} characters does not fit a QR code (version 40) at level ${level}; shorten the payload`);
      return qr;
    };
    let level = minLevel;
    let qr = symbol(level);
    for (let i = LEVELS.indexOf(level) - 1; i >= 0 && ptToMm(box.size / qr.modules.size) < minModuleMm; i--) {
      level = LEVELS[i]!;
      qr = symbol(level);
    }
    const unit = box.size / qr.modules.size;
    layout = { qr, level, unit, x: box.x, y: box.y };
    if (ptToMm(unit) < minModuleMm || dpi !== false) {
      warning = `QR modules are ${ptToMm(unit).toFixed(3)} mm (version ${qr.version}, ${qr.modules.size} modules in ${ptToMm(box.size).toFixed(1)} mm)${dpi !== false ? `, under 2 px at ${dpi} dpi` : `, below ${minModuleMm} mm`}: shorten the payload or enlarge the box`;
    }
  }
  const { qr, unit, x, y } = layout;
  const n = qr.modules.size;
  const modules = qr.modules.data;
  const rects = mergeModules(n, (r, c) => modules[r * n + c] === 1);
  const q = quiet * unit;
  const ops: PDFOperator[] = [pushGraphicsState()];
  if (quiet > 0) ops.push(setFillingGrayscaleColor(1), rectangle(x - q, y - q, n * unit + 2 * q, n * unit + 2 * q), fill());
  // Module units from the symbol's top-left corner, y pointing up: row r is at y = n - r - h.
  ops.push(concatTransformationMatrix(unit, 0, 0, unit, x, y), setFillingGrayscaleColor(0));
  // Module coordinates are whole numbers: written as they are, not through PDFNumber's general formatting.
  if (page.pushContent) {
    let text = '';
    for (const { r, c, w, h } of rects) text += `${c} ${n - r - h} ${w} ${h} re\n`;
    page.pushOperators(...ops);
    page.pushContent(text.slice(0, -1));
    page.pushOperators(fill(), popGraphicsState());
  } else {
    const re = rects.map(({ r, c, w, h }) => PDFOperator.of(PDFOperatorNames.AppendRectangle, [String(c), String(n - r - h), String(w), String(h)]));
    page.pushOperators(...ops, ...re, fill(), popGraphicsState());
  }
  return {
    version: qr.version,
    modules: n,
    errorCorrection: layout.level,
    moduleMm: ptToMm(unit),
    symbolMm: ptToMm(unit * n),
    ...(layout.k ? { pixelsPerModule: layout.k } : {}),
    rectangles: rects.length,
    ...(warning ? { warning } : {}),
  };
}

/** Dark modules as rectangles: runs along each row, then identical runs in consecutive rows stacked. */
export function mergeModules(n: number, dark: (r: number, c: number) => boolean): { r: number; c: number; w: number; h: number }[] {
  const out: { r: number; c: number; w: number; h: number }[] = [];
  // By run (start c, width w): the rectangle it extends and the last row it reached — a rectangle is stacked on
  // when the same run was in the row above. Arrays, not maps: a symbol has ~1,000 runs.
  const key = (c: number, w: number) => c * (n + 1) + w;
  const lastRow = new Int32Array(n * (n + 2)).fill(-2);
  const rectOf = new Int32Array(n * (n + 2));
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; ) {
      if (!dark(r, c)) {
        c++;
        continue;
      }
      let e = c;
      while (e < n && dark(r, e)) e++;
      const k = key(c, e - c);
      if (lastRow[k] === r - 1) out[rectOf[k]!]!.h++;
      else {
        rectOf[k] = out.length;
        out.push({ r, c, w: e - c, h: 1 });
      }
      lastRow[k] = r;
      c = e;
    }
  }
  return out;
}
