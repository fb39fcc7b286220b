/**
 * RFC 3161 timestamps: the signature timestamp of PAdES B-T (over the signature value) and the document timestamp of
 * B-LTA (over the PDF's byte ranges, `covered` as a function of the imprint's hash); the token must be over that
 * and come from a trusted TSA.
 */
import { createHash } from 'node:crypto';
import * as asn1js from '../pki/asn1js.js';
import { children, hashOfOid, octetsOf, OID, oidOf, parseAsn1, type HashName } from '../pki/asn1.js';
import { buildPath, cn, invalidAt, isTimeStampingCert, type Cert } from '../pki/chain.js';
import { isoTime } from '../core/time.js';
import { fail, pass, type Check } from '../core/check.js';
import { algorithm as algorithmOf, essBinding, messageDigestOf, parseCms, verifySignerSignature } from './cms.js';

export interface TimestampVerification {
  readonly checks: Check[];
  /** The TSA's time, when the token verified completely (signature, imprint, trusted TSA valid at that time). */
  readonly trustedTime?: Date;
  /** The token's time even when something failed, for messages. */
  readonly genTime?: Date;
  /** The TSA's path to its anchor, when it has one (for its revocation data). */
  readonly tsaPath?: readonly Cert[];
}

export function verifyTimestampToken(
  token: asn1js.AsnType,
  covered: Buffer | ((hash: HashName) => Buffer),
  anchors: readonly Cert[],
  o: { id?: string; what?: string } = {},
): TimestampVerification {
  const id = o.id ?? 'timestamp';
  const what = o.what ?? "this signature's value";
  const imprintOf = (h: HashName) => (typeof covered === 'function' ? covered(h) : createHash(h).update(covered).digest());
  let p;
  try {
    p = parseCms(token, anchors);
  } catch (err) {
    return { checks: [fail(`${id}.signature`, `the timestamp token cannot be read: ${(err as Error).message}`)] };
  }
  if (p.eContentType !== OID.tstInfo || !p.eContent) {
    return { checks: [fail(`${id}.signature`, `the timestamp token holds ${p.eContentType}, not a TSTInfo`)] };
  }
  let tst: TstInfo;
  try {
    tst = readTstInfo(p.eContent);
  } catch (err) {
    return { checks: [fail(`${id}.signature`, `the TSTInfo cannot be read: ${(err as Error).message}`)] };
  }
  const { genTime, imprint } = tst;
  const checks: Check[] = [];

  const imprintHash = hashOfOid(tst.hashOid);
  const expected = imprintHash ? imprintOf(imprintHash) : undefined;
  const imprintOk = !!expected && expected.equals(imprint);
  checks.push(
    imprintOk
      ? pass(`${id}.imprint`, `the timestamp of ${isoTime(genTime)} is over ${what} (${imprintHash})`)
      : fail(`${id}.imprint`, `the timestamp's message imprint ${imprint.toString('hex').slice(0, 16)}… is not the ${imprintHash ?? 'unknown hash'} of ${what}${expected ? ` (${expected.toString('hex').slice(0, 16)}…)` : ''}: it belongs to another signature`),
  );

  const md = messageDigestOf(p);
  const mdOk = !!md && !!p.hash && createHash(p.hash).update(p.eContent).digest().equals(md);
  const sig = verifySignerSignature(p);
  const ess = essBinding(p);
  const sigOk = mdOk && sig.ok && ess.ok === true;
  checks.push(
    sigOk
      ? pass(`${id}.signature`, `the timestamp token is signed by "${p.signer ? cn(p.signer) : '?'}" and verifies`)
      : fail(`${id}.signature`, !mdOk ? 'the timestamp token\'s message digest does not match its TSTInfo' : !sig.ok ? `timestamp token: ${sig.message}` : `timestamp token: ${ess.message}`),
  );

  let trusted = false;
  let tsaPath: readonly Cert[] | undefined;
  if (p.signer) {
    const eku = isTimeStampingCert(p.signer);
    const path = buildPath(p.signer, p.certs, anchors);
    const bad = path.ok ? invalidAt(path.path, genTime) : undefined;
    trusted = eku.ok && path.ok && !bad;
    if (path.ok) tsaPath = path.path;
    checks.push(
      trusted
        ? pass(`${id}.trusted`, `the TSA "${cn(p.signer)}" ${path.message}, valid at ${isoTime(genTime)}`)
        : fail(`${id}.trusted`, !eku.ok ? eku.message : !path.ok ? `TSA ${path.message}` : `the TSA chain was not valid at ${isoTime(genTime)}: ${bad!.message}`),
    );
  } else {
    checks.push(fail(`${id}.trusted`, 'the TSA certificate is neither in the token nor among the trust anchors'));
  }
  const all = imprintOk && sigOk && trusted;
  return { checks, genTime, ...(all ? { trustedTime: genTime } : {}), ...(tsaPath ? { tsaPath } : {}) };
}

interface TstInfo {
  readonly genTime: Date;
  readonly hashOid: string;
  readonly imprint: Buffer;
}

/**
 * TSTInfo ::= SEQUENCE { version INTEGER, policy OID, messageImprint SEQUENCE { hashAlgorithm AlgorithmIdentifier,
 * hashedMessage OCTET STRING }, serialNumber INTEGER, genTime GeneralizedTime, … } (RFC 3161 §2.4.2): the fields a
 * verifier needs, off asn1js's tree as cms.ts reads SignedData (pkijs's schema match of it was ~3 % of a verification).
 */
function readTstInfo(der: Buffer): TstInfo {
  const [version, policy, messageImprint, serial, genTime] = children(parseAsn1(der, 'the TSTInfo'), 'TSTInfo');
  if (!(version instanceof asn1js.Integer) || !(serial instanceof asn1js.Integer)) throw new Error('TSTInfo: expected a version and a serial number');
  oidOf(policy, 'TSTInfo policy');
  const [algorithm, hashed] = children(messageImprint, 'TSTInfo messageImprint');
  const hashOid = algorithmOf(algorithm, 'TSTInfo hashAlgorithm').oid;
  if (!(genTime instanceof asn1js.GeneralizedTime)) throw new Error('TSTInfo genTime: expected a GeneralizedTime');
  return { genTime: genTime.toDate(), hashOid, imprint: octetsOf(hashed, 'TSTInfo hashedMessage') };
}
