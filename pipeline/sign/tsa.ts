/**
 * RFC 3161 time-stamping client: the token goes into the SignerInfo as the unsigned attribute
 * id-aa-signatureTimeStampToken over the signature value, which makes the signature PAdES B-T.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from '../pki/asn1js.js';
import * as pkijs from '../pki/pkijs.js';
import { SkillcertError } from '../core/errors.js';
import { OID, toDer } from '../pki/asn1.js';
import { bytesOf, elementAt, elementsIn, smallIntOf, TAG, tlv, valueOf } from '../pki/der.js';
import type { TimestampFn } from './cms.js';

export interface TsaOptions {
  readonly url: string;
  /** Per request; the default is 15 s. */
  readonly timeoutMs?: number;
  /** For tests or proxies; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}

const oid = (value: string) => toDer(new asn1js.ObjectIdentifier({ value }));
const SIGNED_DATA = oid(OID.signedData);
const TST_INFO = oid(OID.tstInfo);
const SHA256_OID = oid(OID.sha256);
const SHA256_ALGORITHM = toDer(new pkijs.AlgorithmIdentifier({ algorithmId: OID.sha256 }).toSchema());
const CERT_REQ_TRUE = Buffer.from([0x01, 0x01, 0xff]);

const FAIL_INFO = ['badAlg', '', 'badRequest', '', '', 'badDataFormat', '', '', '', '', '', '', '', '', 'timeNotAvailable', 'unacceptedPolicy', 'unacceptedExtension', 'addInfoNotAvailable', '', '', '', '', '', '', '', 'systemFailure'];

/** A TimestampFn for createCadesSignature that asks the TSA at `opts.url`. */
export function timestamper(opts: TsaOptions): TimestampFn {
  return (signatureValue) => requestTimestamp(signatureValue, opts);
}

/** Asks the TSA for a token over SHA-256(data); checks status, imprint and nonce; returns the token (ContentInfo DER). */
export function requestTimestamp(data: Buffer, opts: TsaOptions): Promise<Buffer> {
  return requestTimestampOfDigest(createHash('sha256').update(data).digest(), opts);
}

/** The same for data already hashed (a document timestamp over a PDF's byte ranges): `imprint` is a SHA-256. */
export async function requestTimestampOfDigest(imprint: Buffer, opts: TsaOptions): Promise<Buffer> {
  const nonce = randomBytes(8);
  nonce[0] = (nonce[0]! & 0x7f) | 0x01; // a positive INTEGER without a leading zero byte
  // TimeStampReq (RFC 3161 §2.4.1): version 1, messageImprint, nonce, certReq TRUE — assembled from DER parts.
  const req = tlv(TAG.SEQUENCE, tlv(TAG.INTEGER, Buffer.from([1])), tlv(TAG.SEQUENCE, SHA256_ALGORITHM, tlv(TAG.OCTET_STRING, imprint)), tlv(TAG.INTEGER, nonce), CERT_REQ_TRUE);
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const fail = (msg: string, cause?: unknown) =>
    new SkillcertError('E_SIGN', `time-stamping authority ${opts.url}: ${msg}`, { field: 'signer.tsaUrl' }, cause ? { cause } : undefined);
  let body: Buffer;
  try {
    const res = await doFetch(opts.url, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
      body: req,
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw fail(`answered HTTP ${res.status} ${res.statusText}`);
    body = Buffer.from(await res.arrayBuffer());
  } catch (err) {
    if (err instanceof SkillcertError) throw err;
    const e = err as Error;
    throw fail(e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `request failed: ${e.message}`, err);
  }
  let answer: TimestampAnswer;
  try {
    answer = readAnswer(body);
  } catch (err) {
    throw fail(`the answer (${body.length} bytes) is not a TimeStampResp: ${(err as Error).message}`, err);
  }
  if (answer.status !== 0 && answer.status !== 1) {
    const failed = FAIL_INFO.filter((name, i) => name && answer.failInfo.length > i >> 3 && (answer.failInfo[i >> 3]! & (0x80 >> (i & 7))) !== 0);
    throw fail(`refused the request: status ${answer.status}${answer.text ? ` (${answer.text})` : ''}${failed.length ? ` [${failed.join(', ')}]` : ''}`);
  }
  if (!answer.token) throw fail('granted the request but sent no token');
  if (!answer.tst) throw fail('the token does not hold a TSTInfo');
  const { sha256, imprint: gotImprint, nonce: gotNonce } = answer.tst;
  if (!sha256 || !gotImprint.equals(imprint)) {
    throw fail(`the token's message imprint ${gotImprint.toString('hex')} is not the SHA-256 of the signature (${imprint.toString('hex')})`);
  }
  if (!gotNonce || !gotNonce.equals(nonce)) throw fail(`the token's nonce ${gotNonce?.toString('hex') ?? '(none)'} is not the request's ${nonce.toString('hex')}`);
  return answer.token;
}

interface TimestampAnswer {
  readonly status: number;
  readonly text: string;
  /** PKIFailureInfo, the BIT STRING's bytes (bit 0 is the first byte's high bit). */
  readonly failInfo: Buffer;
  /** The TimeStampToken (a CMS ContentInfo) as the TSA sent it. */
  readonly token?: Buffer;
  readonly tst?: { readonly sha256: boolean; readonly imprint: Buffer; readonly nonce?: Buffer };
}

/**
 * A TimeStampResp read by position with the DER walker of pki/der.ts (RFC 3161 §2.4.2; the token a CMS SignedData,
 * RFC 5652 §5.1, whose content is the TSTInfo), keeping the token's bytes as sent: in the batch profile pkijs's
 * schema-matching parse of the answer and the re-encoding of its token cost ~11 ms a token, asn1js's parse alone
 * ~3 ms — two tokens a certificate at B-LTA, more than a whole B-B certificate — and this a few microseconds.
 * The token's signature is not checked here: the verifier does that (verify/timestamp.ts), with the DSS's chain.
 */
function readAnswer(body: Buffer): TimestampAnswer {
  const resp = elementAt(body, 0, 'TimeStampResp');
  const [statusInfo, token] = elementsIn(body, resp, 'TimeStampResp');
  const [status, ...rest] = elementsIn(body, statusInfo!, 'PKIStatusInfo');
  const strings = rest.find((e) => e.tag === TAG.SEQUENCE);
  const bits = rest.find((e) => e.tag === TAG.BIT_STRING);
  const answer = {
    status: smallIntOf(body, status!, 'PKIStatus'),
    // PKIFreeText: UTF8Strings
    text: strings ? elementsIn(body, strings, 'PKIFreeText').map((t) => valueOf(body, t).toString('utf8')).join('; ') : '',
    // a BIT STRING's first value byte counts its unused bits
    failInfo: bits ? valueOf(body, bits).subarray(1) : Buffer.alloc(0),
  };
  if (!token) return answer;
  const tokenBytes = Buffer.from(bytesOf(body, token));
  const [contentType, content] = elementsIn(body, token, 'TimeStampToken');
  if (!contentType || !bytesOf(body, contentType).equals(SIGNED_DATA) || content?.tag !== TAG.CONTEXT_0) throw new Error('the token is not a SignedData');
  const [, , encap] = elementsIn(body, elementsIn(body, content, 'TimeStampToken content')[0]!, 'SignedData');
  const [eContentType, eContent] = elementsIn(body, encap!, 'encapContentInfo');
  if (!eContentType || !bytesOf(body, eContentType).equals(TST_INFO) || eContent?.tag !== TAG.CONTEXT_0) return { ...answer, token: tokenBytes };
  // The OCTET STRING may come in chunks (a constructed one, as pkijs writes it): BER that DER signers avoid.
  const octets = elementsIn(body, eContent, 'eContent')[0]!;
  const tst =
    octets.tag === TAG.OCTET_STRING ? valueOf(body, octets)
    : octets.tag === (TAG.OCTET_STRING | 0x20) ? Buffer.concat(elementsIn(body, octets, 'eContent').map((c) => valueOf(body, c)))
    : undefined;
  if (!tst) throw new Error('eContent: expected an OCTET STRING');
  // TSTInfo: version, policy, messageImprint, serialNumber, genTime, accuracy?, ordering?, nonce?, tsa [0]?, extensions [1]?
  const [, , messageImprint, , , ...optional] = elementsIn(tst, elementAt(tst, 0, 'TSTInfo'), 'TSTInfo');
  const [hashAlgorithm, hashed] = elementsIn(tst, messageImprint!, 'messageImprint');
  const algorithm = elementsIn(tst, hashAlgorithm!, 'hashAlgorithm')[0]!;
  const nonce = optional.find((e) => e.tag === TAG.INTEGER);
  return {
    ...answer,
    token: tokenBytes,
    tst: {
      sha256: bytesOf(tst, algorithm).equals(SHA256_OID),
      imprint: Buffer.from(valueOf(tst, hashed!)),
      ...(nonce ? { nonce: Buffer.from(valueOf(tst, nonce)) } : {}),
    },
  };
}

