/**
 * PKCS#12 (RFC 7292) reader: asn1js for the structure, node:crypto for the keys and ciphers.
 * Handles what OpenSSL 3, Windows and Java write: PBES2 (PBKDF2 + AES/3DES, RFC 8018), the legacy
 * pbeWithSHAAnd3-KeyTripleDES-CBC, the classic PKCS#12 HMAC and PBMAC1 (RFC 9579) integrity.
 * RC2-40 (pre-2010 exports) needs OpenSSL's legacy provider and is refused with the command that re-exports.
 */
import { createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, pbkdf2Sync, timingSafeEqual, X509Certificate, type KeyObject } from 'node:crypto';
import * as asn1js from '../pki/asn1js.js';
import { children, explicit, hashOfOid, intOf, octetsOf, oidOf, OID, parseAsn1, type HashName } from '../pki/asn1.js';

const P12 = {
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  pbeSha3Des: '1.2.840.113549.1.12.1.3',
  pbeSha2Des: '1.2.840.113549.1.12.1.4',
  pbeShaRc2_128: '1.2.840.113549.1.12.1.5',
  pbeShaRc2_40: '1.2.840.113549.1.12.1.6',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbmac1: '1.2.840.113549.1.5.14',
} as const;

const PRF: Record<string, HashName | 'sha224'> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};

const CIPHER: Record<string, { name: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24 },
};

export class Pkcs12Error extends Error {
  constructor(message: string, readonly reason: 'password' | 'format' | 'unsupported' | 'content') {
    super(message);
    this.name = 'Pkcs12Error';
  }
}

export interface Pkcs12Contents {
  readonly key: KeyObject;
  /** The certificate whose public key matches the private key. */
  readonly certificate: X509Certificate;
  /** All certificates in the file, DER, the signer's first, then its issuers in chain order, then any others. */
  readonly certificates: readonly Buffer[];
}

const REEXPORT_HINT =
  're-export it with `openssl pkcs12 -export -keypbe AES-256-CBC -certpbe AES-256-CBC -macalg sha256 ...` (or `openssl pkcs12 -legacy` to read the old file first)';

/** Reads the private key and certificates of a PKCS#12 file. Throws Pkcs12Error with the reason. */
export function readPkcs12(p12: Uint8Array, password: string): Pkcs12Contents {
  let pfx: asn1js.AsnType[];
  try {
    pfx = children(parseAsn1(p12, 'PKCS#12 file'), 'PFX');
  } catch (err) {
    throw new Pkcs12Error(`not a PKCS#12 file: ${(err as Error).message}`, 'format');
  }
  try {
    const version = intOf(pfx[0], 'PFX.version');
    if (version !== 3) throw new Pkcs12Error(`PKCS#12 version is ${version}, expected 3`, 'format');
    const authSafe = children(pfx[1], 'PFX.authSafe');
    if (oidOf(authSafe[0], 'authSafe.contentType') !== OID.data) {
      throw new Pkcs12Error('PKCS#12 integrity by public key (signed authSafe) is not supported; use password integrity', 'unsupported');
    }
    const authSafeBytes = octetsOf(explicit(authSafe[1], 0, 'authSafe.content'), 'authSafe.content');
    if (pfx[2]) checkMac(pfx[2], authSafeBytes, password);

    const keys: KeyObject[] = [];
    const certs: Buffer[] = [];
    for (const [i, ci] of children(parseAsn1(authSafeBytes, 'AuthenticatedSafe'), 'AuthenticatedSafe').entries()) {
      const parts = children(ci, `AuthenticatedSafe[${i}]`);
      const type = oidOf(parts[0], 'ContentInfo.contentType');
      let safeContents: Buffer;
      if (type === OID.data) {
        safeContents = octetsOf(explicit(parts[1], 0, 'ContentInfo.content'), 'SafeContents');
      } else if (type === OID.encryptedData) {
        const ed = children(explicit(parts[1], 0, 'EncryptedData'), 'EncryptedData');
        const eci = children(ed[1], 'EncryptedContentInfo');
        if (!eci[2]) throw new Pkcs12Error('EncryptedContentInfo has no encryptedContent', 'format');
        safeContents = decrypt(eci[1]!, octetsOf(eci[2], 'encryptedContent'), password, 'the certificates');
      } else {
        throw new Pkcs12Error(`PKCS#12 content type ${type} (public-key privacy) is not supported`, 'unsupported');
      }
      for (const bag of children(parseAsn1(safeContents, 'SafeContents'), 'SafeContents')) {
        const b = children(bag, 'SafeBag');
        const bagId = oidOf(b[0], 'SafeBag.bagId');
        const value = explicit(b[1], 0, 'SafeBag.bagValue');
        if (bagId === P12.certBag) {
          const cb = children(value, 'CertBag');
          if (oidOf(cb[0], 'CertBag.certId') === P12.x509Certificate) certs.push(octetsOf(explicit(cb[1], 0, 'CertBag.certValue'), 'certValue'));
        } else if (bagId === P12.keyBag) {
          keys.push(createPrivateKey({ key: Buffer.from(value.toBER(false)), format: 'der', type: 'pkcs8' }));
        } else if (bagId === P12.shroudedKeyBag) {
          const epki = children(value, 'EncryptedPrivateKeyInfo');
          const pkcs8 = decrypt(epki[0]!, octetsOf(epki[1], 'encryptedData'), password, 'the private key');
          keys.push(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
        }
      }
    }
    return assemble(keys, certs);
  } catch (err) {
    if (err instanceof Pkcs12Error) throw err;
    throw new Pkcs12Error(`cannot read the PKCS#12 file: ${(err as Error).message}`, 'format');
  }
}

function assemble(keys: KeyObject[], certDers: Buffer[]): Pkcs12Contents {
  if (keys.length === 0) throw new Pkcs12Error('the PKCS#12 file holds no private key', 'content');
  if (keys.length > 1) throw new Pkcs12Error(`the PKCS#12 file holds ${keys.length} private keys; expected exactly one`, 'content');
  const key = keys[0]!;
  const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
  const keySpki = spki(createPublicKey(key));
  const certs = certDers.map((der) => ({ der, x: new X509Certificate(der) }));
  const leaf = certs.find((c) => spki(c.x.publicKey).equals(keySpki));
  if (!leaf) throw new Pkcs12Error(`none of the ${certs.length} certificates in the PKCS#12 file matches its private key`, 'content');
  // Chain order: leaf, then each issuer found among the others.
  const ordered = [leaf];
  const rest = certs.filter((c) => c !== leaf);
  for (let cur = leaf; ; ) {
    if (cur.x.checkIssued(cur.x)) break; // self-signed
    const issuer = rest.find((c) => !ordered.includes(c) && cur.x.checkIssued(c.x));
    if (!issuer) break;
    ordered.push(issuer);
    cur = issuer;
  }
  for (const c of rest) if (!ordered.includes(c)) ordered.push(c);
  return { key, certificate: leaf.x, certificates: ordered.map((c) => c.der) };
}

/** RFC 7292 appendix B: the MAC over the authSafe content proves the password before anything is decrypted. */
function checkMac(macDataNode: asn1js.AsnType, authSafe: Buffer, password: string): void {
  const macData = children(macDataNode, 'MacData');
  const digestInfo = children(macData[0], 'MacData.mac');
  const algId = children(digestInfo[0], 'DigestInfo.digestAlgorithm');
  const macOid = oidOf(algId[0], 'mac algorithm');
  const expected = octetsOf(digestInfo[1], 'DigestInfo.digest');
  let actual: Buffer;
  if (macOid === P12.pbmac1) {
    // RFC 9579: PBMAC1 with PBKDF2; the salt and iterations of MacData are ignored.
    const params = children(algId[1], 'PBMAC1-params');
    const kdf = pbkdf2Params(params[0]!);
    const hmacAlg = PRF[oidOf(children(params[1], 'messageAuthScheme')[0], 'messageAuthScheme')];
    if (!hmacAlg) throw new Pkcs12Error('PBMAC1 uses an unknown HMAC', 'unsupported');
    const key = pbkdf2Sync(Buffer.from(password, 'utf8'), kdf.salt, kdf.iterations, kdf.keyLength ?? 32, kdf.prf);
    actual = createHmac(hmacAlg, key).update(authSafe).digest();
  } else {
    const hash = hashOfOid(macOid);
    if (!hash) throw new Pkcs12Error(`PKCS#12 MAC algorithm ${macOid} is not supported`, 'unsupported');
    const salt = octetsOf(macData[1], 'MacData.macSalt');
    const iterations = macData[2] ? intOf(macData[2], 'MacData.iterations') : 1;
    const key = pkcs12Kdf(hash, bmpPassword(password), salt, iterations, 3, createHash(hash).digest().length);
    actual = createHmac(hash, key).update(authSafe).digest();
  }
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new Pkcs12Error('wrong password: the PKCS#12 integrity check (MAC) does not match', 'password');
  }
}

function pbkdf2Params(algNode: asn1js.AsnType): { salt: Buffer; iterations: number; keyLength?: number; prf: string } {
  const alg = children(algNode, 'keyDerivationFunc');
  if (oidOf(alg[0], 'keyDerivationFunc') !== P12.pbkdf2) throw new Pkcs12Error('only PBKDF2 key derivation is supported', 'unsupported');
  const p = children(alg[1], 'PBKDF2-params');
  const salt = octetsOf(p[0], 'PBKDF2 salt');
  const iterations = intOf(p[1], 'PBKDF2 iterationCount');
  let keyLength: number | undefined;
  let prf = 'sha1';
  for (const extra of p.slice(2)) {
    if (extra instanceof asn1js.Integer) keyLength = extra.valueBlock.valueDec;
    else {
      const oid = oidOf(children(extra, 'prf')[0], 'prf');
      const name = PRF[oid];
      if (!name) throw new Pkcs12Error(`PBKDF2 PRF ${oid} is not supported`, 'unsupported');
      prf = name;
    }
  }
  return { salt, iterations, keyLength, prf };
}

function decrypt(algNode: asn1js.AsnType, data: Buffer, password: string, what: string): Buffer {
  const alg = children(algNode, 'encryption algorithm');
  const oid = oidOf(alg[0], 'encryption algorithm');
  let cipher: string;
  let key: Buffer;
  let iv: Buffer;
  if (oid === P12.pbes2) {
    const params = children(alg[1], 'PBES2-params');
    const kdf = pbkdf2Params(params[0]!);
    const scheme = children(params[1], 'encryptionScheme');
    const schemeOid = oidOf(scheme[0], 'encryptionScheme');
    const c = CIPHER[schemeOid];
    if (!c) throw new Pkcs12Error(`PBES2 cipher ${schemeOid} is not supported; ${REEXPORT_HINT}`, 'unsupported');
    cipher = c.name;
    iv = octetsOf(scheme[1], 'encryptionScheme IV');
    key = pbkdf2Sync(Buffer.from(password, 'utf8'), kdf.salt, kdf.iterations, kdf.keyLength ?? c.keyLength, kdf.prf);
  } else if (oid === P12.pbeSha3Des || oid === P12.pbeSha2Des) {
    const p = children(alg[1], 'pkcs-12PbeParams');
    const salt = octetsOf(p[0], 'salt');
    const iterations = intOf(p[1], 'iterations');
    const pw = bmpPassword(password);
    const k = pkcs12Kdf('sha1', pw, salt, iterations, 1, 24);
    key = oid === P12.pbeSha2Des ? Buffer.concat([k.subarray(0, 16), k.subarray(0, 8)]) : k;
    iv = pkcs12Kdf('sha1', pw, salt, iterations, 2, 8);
    cipher = 'des-ede3-cbc';
  } else if (oid === P12.pbeShaRc2_40 || oid === P12.pbeShaRc2_128) {
    throw new Pkcs12Error(`${what} in the PKCS#12 file are encrypted with RC2 (a legacy algorithm); ${REEXPORT_HINT}`, 'unsupported');
  } else {
    throw new Pkcs12Error(`encryption algorithm ${oid} of ${what} is not supported; ${REEXPORT_HINT}`, 'unsupported');
  }
  try {
    const d = createDecipheriv(cipher, key, iv);
    return Buffer.concat([d.update(data), d.final()]);
  } catch {
    throw new Pkcs12Error(`cannot decrypt ${what} in the PKCS#12 file: wrong password?`, 'password');
  }
}

/** The password as a BMPString with a terminating NUL (RFC 7292 B.1). */
function bmpPassword(password: string): Buffer {
  const le = Buffer.from(password, 'utf16le');
  const be = Buffer.alloc(le.length + 2);
  for (let i = 0; i < le.length; i += 2) {
    be[i] = le[i + 1]!;
    be[i + 1] = le[i]!;
  }
  return be;
}

/** RFC 7292 appendix B.2 key derivation (ID 1 key, 2 IV, 3 MAC key). */
function pkcs12Kdf(hash: HashName, password: Buffer, salt: Buffer, iterations: number, id: 1 | 2 | 3, n: number): Buffer {
  const v = hash === 'sha384' || hash === 'sha512' ? 128 : 64;
  const fill = (src: Buffer, len: number) => {
    const out = Buffer.alloc(len);
    for (let i = 0; i < len; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const stretch = (src: Buffer) => (src.length === 0 ? Buffer.alloc(0) : fill(src, v * Math.ceil(src.length / v)));
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([stretch(salt), stretch(password)]);
  const out: Buffer[] = [];
  let produced = 0;
  for (;;) {
    let A = createHash(hash).update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash(hash).update(A).digest();
    out.push(A);
    produced += A.length;
    if (produced >= n) break;
    const B = fill(A, v);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const s = I[j + k]! + B[k]! + carry;
        I[j + k] = s & 0xff;
        carry = s >>> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, n);
}
