/**
 * RFC 3161 time-stamping client: the token goes into the SignerInfo as the unsigned attribute
 * id-aa-signatureTimeStampToken over the signature value, which makes the signature PAdES B-T.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { SkillcertError } from '../core/errors.js';
import { OID, octetsOf, toDer } from '../pki/asn1.js';
import type { TimestampFn } from './cms.js';

export interface TsaOptions {
  readonly url: string;
  /** Per request; the default is 15 s. */
  readonly timeoutMs?: number;
  /** For tests or proxies; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}

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
  const req = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OID.sha256 }),
      hashedMessage: new asn1js.OctetString({ valueHex: imprint }),
    }),
    nonce: new asn1js.Integer({ valueHex: nonce }),
    certReq: true,
  });
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const fail = (msg: string, cause?: unknown) =>
    new SkillcertError('E_SIGN', `time-stamping authority ${opts.url}: ${msg}`, { field: 'signer.tsaUrl' }, cause ? { cause } : undefined);
  let body: Buffer;
  try {
    const res = await doFetch(opts.url, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
      body: toDer(req.toSchema()),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw fail(`answered HTTP ${res.status} ${res.statusText}`);
    body = Buffer.from(await res.arrayBuffer());
  } catch (err) {
    if (err instanceof SkillcertError) throw err;
    const e = err as Error;
    throw fail(e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `request failed: ${e.message}`, err);
  }
  let resp: pkijs.TimeStampResp;
  try {
    resp = pkijs.TimeStampResp.fromBER(body);
  } catch (err) {
    throw fail(`the answer (${body.length} bytes) is not a TimeStampResp: ${(err as Error).message}`, err);
  }
  const status = resp.status.status;
  if (status !== 0 && status !== 1) {
    const text = resp.status.statusStrings?.map((s) => s.valueBlock.value).join('; ') ?? '';
    const bits = resp.status.failInfo ? Buffer.from(resp.status.failInfo.valueBlock.valueHexView) : Buffer.alloc(0);
    const failed = FAIL_INFO.filter((name, i) => name && bits.length > i >> 3 && (bits[i >> 3]! & (0x80 >> (i & 7))) !== 0);
    throw fail(`refused the request: status ${status}${text ? ` (${text})` : ''}${failed.length ? ` [${failed.join(', ')}]` : ''}`);
  }
  if (!resp.timeStampToken) throw fail('granted the request but sent no token');
  const token = resp.timeStampToken;
  const sd = new pkijs.SignedData({ schema: token.content });
  const eContent = sd.encapContentInfo.eContent;
  if (sd.encapContentInfo.eContentType !== OID.tstInfo || !eContent) throw fail('the token does not hold a TSTInfo');
  const tst = pkijs.TSTInfo.fromBER(octetsOf(eContent, 'TSTInfo'));
  const gotImprint = Buffer.from(tst.messageImprint.hashedMessage.valueBlock.valueHexView);
  if (tst.messageImprint.hashAlgorithm.algorithmId !== OID.sha256 || !gotImprint.equals(imprint)) {
    throw fail(`the token's message imprint ${gotImprint.toString('hex')} is not the SHA-256 of the signature (${imprint.toString('hex')})`);
  }
  const gotNonce = tst.nonce ? Buffer.from(tst.nonce.valueBlock.valueHexView) : undefined;
  if (!gotNonce || !gotNonce.equals(nonce)) throw fail(`the token's nonce ${gotNonce?.toString('hex') ?? '(none)'} is not the request's ${nonce.toString('hex')}`);
  return toDer(token.toSchema());
}
