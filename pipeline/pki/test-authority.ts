/**
 * A TEST ONLY public-key infrastructure that behaves like a real one, on loopback: root CA → issuing CA →
 * organisation signing certificates whose AIA names an OCSP responder and whose CRL distribution point names a CRL,
 * both served here, and an RFC 3161 time-stamping authority under the root with its own CRL distribution point.
 * Certificates, CRLs, OCSP responses and timestamp tokens by pkijs (@peculiar/x509 2.2 needs a Reflect metadata
 * polyfill that is not installed); the PKCS#12 files by `openssl pkcs12`; HTTP by fastify.
 *
 * Two lives:
 *   - the tests' and the bench's (`persistent: false`): made fresh in a temporary folder on a free port, because the
 *     addresses in the certificates must name this server's port; gone at close;
 *   - the demo's (`persistent: true`, a fixed port): made once into a folder and loaded from it at every start, so
 *     that the demo's certificates, its trust anchor and its profiles stay the same from one run to the next.
 * Revocation is live: `revoke(name, at)` changes what the OCSP responder and the CRL say. Entities: `org` (good),
 * `branch` (the second identity of style two), `org-revoked` (revoked a day before the PKI was made),
 * `org-expired` (valid 2018-2019 only). Nothing here may ever sign a real certificate: every name says TEST ONLY.
 */
import { execFileSync } from 'node:child_process';
import { createHash, webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from './asn1js.js';
import Fastify from 'fastify';
import * as pkijs from './pkijs.js';
import { writeAtomic } from '../core/files.js';
import { OID, toDer } from './asn1.js';
import { pemOf } from './pem.js';

pkijs.setEngine('node-webcrypto', new pkijs.CryptoEngine({ name: 'node-webcrypto', crypto: webcrypto as unknown as never }));

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;
const TSA_POLICY = '1.3.6.1.4.1.99999.1.1';
const STATE = 'authority.json';

/** The tests' signers, then one each for the demo's other organisations (a key is an organisation's own). */
export const ENTITY_NAMES = ['org', 'branch', 'org-revoked', 'org-expired', 'org-jingdian', 'committee-cnc', 'committee-welding'] as const;
export type EntityName = (typeof ENTITY_NAMES)[number];

export interface TestAuthorityOptions {
  /** Where the PEMs, PKCS#12 files and (persistent) the keys live; a temporary folder by default. */
  readonly dir?: string;
  /** 0 (the default) takes a free port. */
  readonly port?: number;
  /** Keep the material in `dir` and load it again at the next start (the demo's PKI). */
  readonly persistent?: boolean;
  /** The moment `org-revoked` is dated from (a day before it); default now. */
  readonly now?: Date;
}

export interface TestAuthority {
  readonly url: string;
  readonly tsaUrl: string;
  /** PEM of the root: the trust anchor. */
  readonly rootPem: string;
  readonly issuingPem: string;
  readonly tsaPem: string;
  /** The folder holding root.pem, issuing.pem, chain.pem, tsa.pem, <name>.pem, <name>.p12 and password.txt. */
  readonly dir: string;
  /** The PKCS#12 of a signer, and the file holding its password, as a profile names them. */
  p12(name: EntityName): { file: string; passwordFile: string };
  revoke(name: EntityName, at: Date): void;
  /** Requests answered, by route: 'ocsp', 'crl/root.crl', 'crl/issuing.crl', 'tsa'. */
  readonly requests: Map<string, number>;
  close(): Promise<void>;
}

/** A certificate made here, with its key pair. */
interface Issued {
  readonly pkijs: pkijs.Certificate;
  readonly der: Buffer;
  readonly pem: string;
  readonly ski: Buffer;
  readonly privateKey: webcrypto.CryptoKey;
  revokedAt?: Date;
}

interface Material {
  readonly root: Issued;
  readonly issuing: Issued;
  readonly tsa: Issued;
  readonly entities: Map<EntityName, Issued>;
}

/** What a persistent authority keeps: each certificate's DER and PKCS#8 key, base64. */
interface State {
  readonly url: string;
  readonly certs: Record<string, { der: string; key: string; revokedAt?: string }>;
}

interface CertSpec {
  readonly name: string;
  readonly org?: string;
  readonly issuer?: Issued;
  readonly keys: webcrypto.CryptoKeyPair;
  readonly from: Date;
  readonly to: Date;
  readonly ca?: boolean;
  readonly tsa?: boolean;
  readonly crl?: string;
  readonly ocsp?: string;
}

/** A one-attribute name (CN): pkijs puts several attributes into ONE multi-valued RDN, which tools print as "O=… + CN=…". */
const dn = (cn: string) => new pkijs.RelativeDistinguishedNames({ typesAndValues: [new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: cn }) })] });

const ext = (extnID: string, critical: boolean, value: { toSchema(): asn1js.AsnType } | asn1js.AsnType) =>
  new pkijs.Extension({ extnID, critical, extnValue: ('toSchema' in value ? value.toSchema() : value).toBER(false) });

const uri = (value: string) => new pkijs.GeneralName({ type: 6, value });

/** keyUsage bits (RFC 5280 §4.2.1.3) as a DER BIT STRING: trailing zero bits are unused. */
function keyUsage(bits: number): asn1js.BitString {
  let unused = 0;
  while (unused < 7 && !(bits & (1 << unused))) unused++;
  return new asn1js.BitString({ valueHex: new Uint8Array([bits]), unusedBits: unused });
}

const keyPair = () => webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as Promise<webcrypto.CryptoKeyPair>;

function issued(der: Buffer, privateKey: webcrypto.CryptoKey): Issued {
  const c = pkijs.Certificate.fromBER(der);
  const ski = createHash('sha1').update(c.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView).digest();
  return { pkijs: c, der, pem: pemOf('CERTIFICATE', der), ski, privateKey };
}

async function makeCert(o: CertSpec): Promise<Issued> {
  const c = new pkijs.Certificate();
  c.version = 2;
  const serial = webcrypto.getRandomValues(new Uint8Array(9));
  serial[0] = (serial[0]! & 0x7f) | 0x10;
  c.serialNumber = new asn1js.Integer({ valueHex: serial });
  c.subject = dn(o.org ? `${o.name} (${o.org})` : o.name);
  c.issuer = o.issuer ? o.issuer.pkijs.subject : c.subject;
  c.notBefore.value = o.from;
  c.notAfter.value = o.to;
  await c.subjectPublicKeyInfo.importKey(o.keys.publicKey as never);
  const ski = createHash('sha1').update(c.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView).digest();
  c.extensions = [
    ext('2.5.29.19', true, new pkijs.BasicConstraints(o.ca ? { cA: true, ...(o.issuer ? { pathLenConstraint: 0 } : {}) } : {})),
    ext('2.5.29.15', true, keyUsage(o.ca ? 0x06 : 0xc0)),
    ...(o.tsa ? [ext('2.5.29.37', true, new pkijs.ExtKeyUsage({ keyPurposes: ['1.3.6.1.5.5.7.3.8'] }))] : []),
    ext('2.5.29.14', false, new asn1js.OctetString({ valueHex: ski })),
    ...(o.issuer ? [ext('2.5.29.35', false, new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: o.issuer.ski }) }))] : []),
    ...(o.crl ? [ext('2.5.29.31', false, new pkijs.CRLDistributionPoints({ distributionPoints: [new pkijs.DistributionPoint({ distributionPoint: [uri(o.crl)] })] }))] : []),
    ...(o.ocsp ? [ext('1.3.6.1.5.5.7.1.1', false, new pkijs.InfoAccess({ accessDescriptions: [new pkijs.AccessDescription({ accessMethod: '1.3.6.1.5.5.7.48.1', accessLocation: uri(o.ocsp) })] }))] : []),
  ];
  await c.sign((o.issuer?.privateKey ?? o.keys.privateKey) as never, 'SHA-256');
  return issued(Buffer.from(c.toSchema(true).toBER(false)), o.keys.privateKey);
}

/** The whole hierarchy, made anew for a server at `url`. */
async function makeMaterial(url: string, now: Date): Promise<Material> {
  const rootKeys = await keyPair();
  const root = await makeCert({ name: 'skillcert TEST ONLY PKI Root CA', keys: rootKeys, from: new Date('2015-01-01T00:00:00Z'), to: new Date('2045-01-01T00:00:00Z'), ca: true });
  const issuing = await makeCert({ name: 'skillcert TEST ONLY PKI Issuing CA', issuer: root, keys: await keyPair(), from: new Date('2016-01-01T00:00:00Z'), to: new Date('2044-01-01T00:00:00Z'), ca: true, crl: `${url}/crl/root.crl` });
  const tsa = await makeCert({ name: 'skillcert TEST ONLY PKI Time-Stamping Authority', issuer: root, keys: await keyPair(), from: new Date('2020-01-01T00:00:00Z'), to: new Date('2040-01-01T00:00:00Z'), tsa: true, crl: `${url}/crl/root.crl` });
  const entities = new Map<EntityName, Issued>();
  const signer = async (name: EntityName, cn: string, from: string, to: string, org = '演示评价机构 (TEST ONLY)') =>
    entities.set(name, await makeCert({ name: cn, org, issuer: issuing, keys: await keyPair(), from: new Date(from), to: new Date(to), crl: `${url}/crl/issuing.crl`, ocsp: `${url}/ocsp` }));
  await signer('org', 'skillcert TEST ONLY PKI organisation signer', '2020-01-01T00:00:00Z', '2040-01-01T00:00:00Z');
  await signer('branch', 'skillcert TEST ONLY PKI branch signer', '2020-01-01T00:00:00Z', '2040-01-01T00:00:00Z', '演示分支机构 (TEST ONLY)');
  await signer('org-revoked', 'skillcert TEST ONLY PKI REVOKED organisation signer', '2020-01-01T00:00:00Z', '2040-01-01T00:00:00Z');
  await signer('org-expired', 'skillcert TEST ONLY PKI EXPIRED organisation signer', '2018-01-01T00:00:00Z', '2019-12-31T23:59:59Z');
  await signer('org-jingdian', 'skillcert TEST ONLY PKI organisation signer', '2020-01-01T00:00:00Z', '2040-01-01T00:00:00Z', '演示评价机构·京电 (TEST ONLY)');
  await signer('committee-cnc', 'skillcert TEST ONLY PKI committee signer', '2020-01-01T00:00:00Z', '2040-01-01T00:00:00Z', '演示竞赛组委会·数控 (TEST ONLY)');
  await signer('committee-welding', 'skillcert TEST ONLY PKI committee signer', '2020-01-01T00:00:00Z', '2040-01-01T00:00:00Z', '演示竞赛组委会·焊工 (TEST ONLY)');
  entities.get('org-revoked')!.revokedAt = new Date(now.getTime() - DAY);
  return { root, issuing, tsa, entities };
}

const importKey = (b64: string) => webcrypto.subtle.importKey('pkcs8', Buffer.from(b64, 'base64'), ALG, true, ['sign']);
const exportKey = async (k: webcrypto.CryptoKey) => Buffer.from(await webcrypto.subtle.exportKey('pkcs8', k)).toString('base64');

async function loadMaterial(state: State): Promise<Material> {
  const get = async (name: string) => {
    const s = state.certs[name];
    if (!s) throw new Error(`${STATE} lacks ${name}`);
    const i = issued(Buffer.from(s.der, 'base64'), await importKey(s.key));
    if (s.revokedAt) i.revokedAt = new Date(s.revokedAt);
    return i;
  };
  const entities = new Map<EntityName, Issued>();
  for (const n of ENTITY_NAMES) entities.set(n, await get(n));
  return { root: await get('root'), issuing: await get('issuing'), tsa: await get('tsa'), entities };
}

async function saveState(dir: string, url: string, m: Material): Promise<void> {
  const certs: State['certs'] = {};
  const all: [string, Issued][] = [['root', m.root], ['issuing', m.issuing], ['tsa', m.tsa], ...m.entities];
  for (const [name, i] of all) certs[name] = { der: i.der.toString('base64'), key: await exportKey(i.privateKey), ...(i.revokedAt ? { revokedAt: i.revokedAt.toISOString() } : {}) };
  await writeAtomic(join(dir, STATE), JSON.stringify({ url, certs } satisfies State, null, 1));
}

/** The files the profiles and the independent tools (openssl, pdfsig) read. */
async function writeFiles(dir: string, m: Material): Promise<void> {
  const write = (name: string, data: string | Buffer) => writeFileSync(join(dir, name), data, { mode: 0o600 });
  write('root.pem', m.root.pem);
  write('issuing.pem', m.issuing.pem);
  write('tsa.pem', m.tsa.pem);
  write('chain.pem', m.issuing.pem + m.root.pem);
  write('password.txt', Buffer.from(webcrypto.getRandomValues(new Uint8Array(12))).toString('hex'));
  for (const [name, e] of m.entities) {
    write(`${name}.pem`, e.pem);
    write(`${name}.key`, pemOf('PRIVATE KEY', new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', e.privateKey))));
    execFileSync('openssl', ['pkcs12', '-export', '-name', `${name} (TEST ONLY)`, '-inkey', `${name}.key`, '-in', `${name}.pem`, '-certfile', 'chain.pem', '-passout', 'file:password.txt', '-keypbe', 'AES-256-CBC', '-certpbe', 'AES-256-CBC', '-macalg', 'sha256', '-out', `${name}.p12`], { cwd: dir });
    rmSync(join(dir, `${name}.key`));
  }
}

const sameSerial = (a: asn1js.Integer, b: asn1js.Integer) =>
  Buffer.from(a.valueBlock.valueHexView).toString('hex').replace(/^00/, '') === Buffer.from(b.valueBlock.valueHexView).toString('hex').replace(/^00/, '');

/** RFC 6960: good / revoked / unknown for each certificate asked about, signed by the issuing CA. */
async function ocspResponse(m: Material, der: Buffer): Promise<Buffer> {
  const req = pkijs.OCSPRequest.fromBER(der);
  const t = new Date();
  const basic = new pkijs.BasicOCSPResponse();
  basic.tbsResponseData.responderID = m.issuing.pkijs.subject;
  basic.tbsResponseData.producedAt = t;
  for (const r of req.tbsRequest.requestList) {
    const e = [...m.entities.values()].find((en) => sameSerial(r.reqCert.serialNumber, en.pkijs.serialNumber));
    const certStatus = !e
      ? new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 } })
      : e.revokedAt && e.revokedAt <= t
        ? new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value: [new asn1js.GeneralizedTime({ valueDate: e.revokedAt })] })
        : new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 } });
    basic.tbsResponseData.responses.push(new pkijs.SingleResponse({ certID: r.reqCert, certStatus, thisUpdate: t, nextUpdate: new Date(t.getTime() + DAY) }));
  }
  await basic.sign(m.issuing.privateKey as never, 'SHA-256');
  const resp = new pkijs.OCSPResponse({
    responseStatus: new asn1js.Enumerated({ value: 0 }),
    responseBytes: new pkijs.ResponseBytes({ responseType: '1.3.6.1.5.5.7.48.1.1', response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER(false) }) }),
  });
  return toDer(resp.toSchema());
}

/** The root's CRL (the issuing CA and the TSA: nothing revoked) or the issuing CA's (the revoked signers). */
async function crl(m: Material, name: string, crlNumber: number): Promise<Buffer | undefined> {
  const t = new Date();
  const issuer = name === 'root.crl' ? m.root : name === 'issuing.crl' ? m.issuing : undefined;
  if (!issuer) return undefined;
  const revoked = issuer === m.issuing ? [...m.entities.values()].filter((e) => e.revokedAt && e.revokedAt <= t) : [];
  const list = new pkijs.CertificateRevocationList();
  list.version = 1;
  list.issuer = issuer.pkijs.subject;
  list.thisUpdate = new pkijs.Time({ type: 0, value: t });
  list.nextUpdate = new pkijs.Time({ type: 0, value: new Date(t.getTime() + DAY) });
  if (revoked.length) {
    list.revokedCertificates = revoked.map((e) => new pkijs.RevokedCertificate({ userCertificate: e.pkijs.serialNumber, revocationDate: new pkijs.Time({ type: 0, value: e.revokedAt! }) }));
  }
  list.crlExtensions = new pkijs.Extensions({
    extensions: [
      ext('2.5.29.35', false, new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: issuer.ski }) })),
      ext('2.5.29.20', false, new asn1js.Integer({ value: crlNumber })),
    ],
  });
  await list.sign(issuer.privateKey as never, 'SHA-256');
  return Buffer.from(list.toSchema(true).toBER(false));
}

/**
 * RFC 3161 (with RFC 5816's ESS signing-certificate-v2, which `openssl ts -verify` requires): a TimeStampResp
 * granting a token over the request's imprint, with its nonce, signed by the TSA. In process, so that a batch's
 * timestamps cost what a remote TSA costs a signer (a round trip), not a program started per token.
 */
async function timestampResponse(m: Material, der: Buffer, serial: number): Promise<Buffer> {
  const req = pkijs.TimeStampReq.fromBER(der);
  const tst = new pkijs.TSTInfo({
    version: 1,
    policy: TSA_POLICY,
    messageImprint: req.messageImprint,
    serialNumber: new asn1js.Integer({ value: serial }),
    genTime: new Date(Math.floor(Date.now() / 1000) * 1000),
    accuracy: new pkijs.Accuracy({ seconds: 1 }),
    ordering: false,
    ...(req.nonce ? { nonce: req.nonce } : {}),
    tsa: new pkijs.GeneralName({ type: 4, value: m.tsa.pkijs.subject }),
  });
  const content = toDer(tst.toSchema());
  const essCertIdV2 = new asn1js.Sequence({ value: [new asn1js.OctetString({ valueHex: createHash('sha256').update(m.tsa.der).digest() })] });
  const attr = (type: string, value: asn1js.AsnType) => new pkijs.Attribute({ type, values: [value] });
  const sd = new pkijs.SignedData({
    version: 3,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID.tstInfo, eContent: new asn1js.OctetString({ valueHex: content }) }),
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({ issuer: m.tsa.pkijs.issuer, serialNumber: m.tsa.pkijs.serialNumber }),
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({
          type: 0,
          attributes: [
            attr(OID.contentType, new asn1js.ObjectIdentifier({ value: OID.tstInfo })),
            attr(OID.messageDigest, new asn1js.OctetString({ valueHex: createHash('sha256').update(content).digest() })),
            attr(OID.signingCertificateV2, new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [essCertIdV2] })] })),
          ],
        }),
      }),
    ],
    certificates: req.certReq ? [m.tsa.pkijs] : [],
  });
  await sd.sign(m.tsa.privateKey as never, 0, 'SHA-256');
  const token = new pkijs.ContentInfo({ contentType: OID.signedData, content: sd.toSchema(true) });
  const resp = new pkijs.TimeStampResp({ status: new pkijs.PKIStatusInfo({ status: 0 }), timeStampToken: token });
  return toDer(resp.toSchema());
}

/** Starts the authority; a persistent one loads its material when it was made for this address, else makes it. */
export async function startTestAuthority(opts: TestAuthorityOptions = {}): Promise<TestAuthority> {
  const persistent = opts.persistent ?? false;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'skillcert-pki-'));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const requests = new Map<string, number>();
  const count = (k: string) => requests.set(k, (requests.get(k) ?? 0) + 1);
  let m: Material | undefined;
  let crlNumber = 0;
  let tsaSerial = Date.now();

  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  // No keep-alive: a client reusing a socket the server is closing sees "fetch failed" (undici).
  app.addHook('onSend', async (_req, reply) => void reply.header('connection', 'close'));
  app.post('/ocsp', async (req, reply) => {
    count('ocsp');
    return reply.type('application/ocsp-response').send(await ocspResponse(m!, req.body as Buffer));
  });
  // RFC 6960 A.1: GET with the DER request base64 (URL-encoded) after the address.
  app.get<{ Params: { '*': string } }>('/ocsp/*', async (req, reply) => {
    count('ocsp');
    return reply.type('application/ocsp-response').send(await ocspResponse(m!, Buffer.from(decodeURIComponent(req.params['*']), 'base64')));
  });
  app.get<{ Params: { name: string } }>('/crl/:name', async (req, reply) => {
    count(`crl/${req.params.name}`);
    const bytes = await crl(m!, req.params.name, ++crlNumber);
    return bytes ? reply.type('application/pkix-crl').send(bytes) : reply.code(404).send();
  });
  app.post('/tsa', async (req, reply) => {
    count('tsa');
    return reply.type('application/timestamp-reply').send(await timestampResponse(m!, req.body as Buffer, ++tsaSerial));
  });
  await app.listen({ port: opts.port ?? 0, host: '127.0.0.1' });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : opts.port}`;

  try {
    const stateFile = join(dir, STATE);
    const state = persistent && existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as State) : undefined;
    // material made for another address, or before an entity was added, is made anew
    if (state && state.url === url && ENTITY_NAMES.every((n) => state.certs[n])) {
      m = await loadMaterial(state);
    } else {
      m = await makeMaterial(url, opts.now ?? new Date());
      await writeFiles(dir, m);
      if (persistent) await saveState(dir, url, m);
    }
  } catch (err) {
    await app.close();
    throw err;
  }
  const material = m;
  return {
    url,
    tsaUrl: `${url}/tsa`,
    rootPem: material.root.pem,
    issuingPem: material.issuing.pem,
    tsaPem: material.tsa.pem,
    dir,
    requests,
    p12: (name) => ({ file: join(dir, `${name}.p12`), passwordFile: join(dir, 'password.txt') }),
    revoke(name, at) {
      material.entities.get(name)!.revokedAt = at;
    },
    async close() {
      await app.close();
      if (!persistent) rmSync(dir, { recursive: true, force: true });
    },
  };
}
