/**
 * A TEST ONLY public-key infrastructure that behaves like a real one, on loopback, for the lasting-signature tests
 * (issue 15): root CA → issuing CA → organisation signing certificates whose AIA names an OCSP responder and whose
 * CRL distribution point names a CRL, both served here; a time-stamping authority (`openssl ts -reply`) under the
 * root with its own CRL distribution point. Certificates, CRLs and OCSP responses by pkijs (@peculiar/x509 2.2 needs
 * a Reflect metadata polyfill that is not installed).
 *
 * Made fresh in each test process (EC keys, a few milliseconds), because the addresses in the certificates must
 * name this server's port. Revocation is live: `revoke(name, at)` changes what the OCSP responder and the CRL say.
 * Fixtures: `org` (good), `branch` (the second identity of style two), `org-revoked` (revoked a day before the
 * PKI was made), `org-expired` (valid 2018-2019 only).
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash, webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { loadSigner, type LoadedSigner } from '../../pipeline/sign/identity.js';

pkijs.setEngine('node-webcrypto', new pkijs.CryptoEngine({ name: 'node-webcrypto', crypto: webcrypto as unknown as never }));

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export type EntityName = 'org' | 'branch' | 'org-revoked' | 'org-expired';

interface Entity {
  readonly cert: Issued;
  readonly keys: webcrypto.CryptoKeyPair;
  revokedAt?: Date;
}

export interface TestPki {
  readonly url: string;
  readonly tsaUrl: string;
  /** PEM of the root: the trust anchor. */
  readonly rootPem: string;
  readonly issuingPem: string;
  readonly tsaPem: string;
  /** The folder holding PEMs (root.pem, issuing.pem, tsa.pem, <name>.pem) for openssl. */
  readonly dir: string;
  signer(name: EntityName): LoadedSigner;
  /** The PKCS#12 of a signer, and its password, as a profile would name them. */
  p12(name: EntityName): { file: string; passwordFile: string };
  revoke(name: EntityName, at: Date): void;
  /** Requests answered, by route: 'ocsp', 'crl/root.crl', 'crl/issuing.crl', 'tsa'. */
  readonly requests: Map<string, number>;
  close(): Promise<void>;
}

const pemOf = (label: string, der: ArrayBuffer | Uint8Array) =>
  `-----BEGIN ${label}-----\n${Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;

/** A certificate made here: its pkijs object, DER, PEM, and what issuing below it needs. */
interface Issued {
  readonly pkijs: pkijs.Certificate;
  readonly der: Buffer;
  readonly pem: string;
  readonly serialHex: string;
  readonly ski: Buffer;
  readonly keys: webcrypto.CryptoKeyPair;
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

async function makeCert(o: CertSpec): Promise<Issued> {
  const c = new pkijs.Certificate();
  c.version = 2;
  const serialHex = serial();
  c.serialNumber = new asn1js.Integer({ valueHex: Buffer.from(serialHex, 'hex') });
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
  await c.sign((o.issuer ?? o).keys.privateKey as never, 'SHA-256');
  const der = Buffer.from(c.toSchema(true).toBER(false));
  return { pkijs: c, der, pem: pemOf('CERTIFICATE', der), serialHex, ski, keys: o.keys };
}

function serial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(9));
  b[0] = (b[0]! & 0x7f) | 0x10;
  return Buffer.from(b).toString('hex');
}

const body = (req: IncomingMessage) =>
  new Promise<Buffer>((ok, ko) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => ok(Buffer.concat(chunks)));
    req.on('error', ko);
  });

export async function startTestPki(opts: { now?: Date } = {}): Promise<TestPki> {
  const now = opts.now ?? new Date();
  const dir = mkdtempSync(join(tmpdir(), 'skillcert-pki-'));
  const requests = new Map<string, number>();
  const count = (k: string) => requests.set(k, (requests.get(k) ?? 0) + 1);
  // eslint-disable-next-line prefer-const
  let handlers: { ocsp(req: Buffer): Promise<Buffer>; crl(name: string): Promise<Buffer | undefined>; tsa(req: Buffer): Promise<Buffer> };
  const server = createServer((req, res) => {
    void (async () => {
      try {
        // No keep-alive: a client reusing a socket the server is closing sees "fetch failed" (undici).
        res.setHeader('connection', 'close');
        const path = (req.url ?? '/').replace(/^\//, '');
        if ((req.method === 'POST' && path === 'ocsp') || (req.method === 'GET' && path.startsWith('ocsp/'))) {
          // RFC 6960 A.1: POST with the DER request, or GET with it base64 (URL-encoded) after the address.
          count('ocsp');
          const der = req.method === 'POST' ? await body(req) : Buffer.from(decodeURIComponent(path.slice(5)), 'base64');
          res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(await handlers.ocsp(der));
        } else if (req.method === 'GET' && path.startsWith('crl/')) {
          count(path);
          const crl = await handlers.crl(path.slice(4));
          if (crl) res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(crl);
          else res.writeHead(404).end();
        } else if (req.method === 'POST' && path === 'tsa') {
          count('tsa');
          res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(await handlers.tsa(await body(req)));
        } else {
          res.writeHead(404).end();
        }
      } catch (err) {
        res.writeHead(500).end(String(err));
      }
    })();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const day = 86_400_000;
  const keys = () => webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as Promise<webcrypto.CryptoKeyPair>;
  const rootKeys = await keys();
  const root = await makeCert({ name: 'skillcert TEST ONLY PKI Root CA', keys: rootKeys, from: new Date('2015-01-01T00:00:00Z'), to: new Date('2045-01-01T00:00:00Z'), ca: true });
  const issue = (o: Omit<CertSpec, 'issuer'> & { issuer: Issued }) => makeCert(o);
  const issuingKeys = await keys();
  const issuing = await issue({ name: 'skillcert TEST ONLY PKI Issuing CA', issuer: root, keys: issuingKeys, from: new Date('2016-01-01T00:00:00Z'), to: new Date('2044-01-01T00:00:00Z'), ca: true, crl: `${url}/crl/root.crl` });
  const tsaKeys = await keys();
  const tsa = await issue({ name: 'skillcert TEST ONLY PKI Time-Stamping Authority', issuer: root, keys: tsaKeys, from: new Date('2020-01-01T00:00:00Z'), to: new Date('2040-01-01T00:00:00Z'), tsa: true, crl: `${url}/crl/root.crl` });

  const entities = new Map<EntityName, Entity>();
  const signerCert = async (name: EntityName, cn: string, from: Date, to: Date) => {
    const k = await keys();
    const cert = await issue({ name: cn, org: '演示评价机构 (TEST ONLY)', issuer: issuing, keys: k, from, to, crl: `${url}/crl/issuing.crl`, ocsp: `${url}/ocsp` });
    entities.set(name, { cert, keys: k });
  };
  await signerCert('org', 'skillcert TEST ONLY PKI organisation signer', new Date('2020-01-01T00:00:00Z'), new Date('2040-01-01T00:00:00Z'));
  await signerCert('branch', 'skillcert TEST ONLY PKI branch signer', new Date('2020-01-01T00:00:00Z'), new Date('2040-01-01T00:00:00Z'));
  await signerCert('org-revoked', 'skillcert TEST ONLY PKI REVOKED organisation signer', new Date('2020-01-01T00:00:00Z'), new Date('2040-01-01T00:00:00Z'));
  await signerCert('org-expired', 'skillcert TEST ONLY PKI EXPIRED organisation signer', new Date('2018-01-01T00:00:00Z'), new Date('2019-12-31T23:59:59Z'));
  entities.get('org-revoked')!.revokedAt = new Date(now.getTime() - day);

  // Files for openssl (the TSA, the oracles) and the PKCS#12 of each signer.
  const write = (name: string, text: string) => writeFileSync(join(dir, name), text, { mode: 0o600 });
  write('root.pem', root.pem);
  write('issuing.pem', issuing.pem);
  write('tsa.pem', tsa.pem);
  write('tsa.key', pemOf('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', tsaKeys.privateKey)));
  write('chain.pem', issuing.pem + root.pem);
  write('password.txt', Buffer.from(webcrypto.getRandomValues(new Uint8Array(12))).toString('hex'));
  write('tsaserial', '01\n');
  write(
    'tsa.cnf',
    [
      '[ tsa ]', 'default_tsa = tsa_test', '[ tsa_test ]', 'dir = .', 'serial = $dir/tsaserial', 'crypto_device = builtin',
      'signer_cert = $dir/tsa.pem', 'certs = $dir/root.pem', 'signer_key = $dir/tsa.key', 'signer_digest = sha256',
      'default_policy = 1.3.6.1.4.1.99999.1.1', 'digests = sha256, sha384, sha512', 'accuracy = secs:1', 'ordering = no',
      'tsa_name = yes', 'ess_cert_id_chain = no', 'ess_cert_id_alg = sha256', '',
    ].join('\n'),
  );
  for (const [name, e] of entities) {
    write(`${name}.pem`, e.cert.pem);
    write(`${name}.key`, pemOf('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', e.keys.privateKey)));
    execFileSync('openssl', ['pkcs12', '-export', '-name', name, '-inkey', `${name}.key`, '-in', `${name}.pem`, '-certfile', 'chain.pem', '-passout', 'file:password.txt', '-keypbe', 'AES-256-CBC', '-certpbe', 'AES-256-CBC', '-macalg', 'sha256', '-out', `${name}.p12`], { cwd: dir });
  }
  const password = readFileSync(join(dir, 'password.txt'), 'utf8');

  const sameSerial = (a: asn1js.Integer, hex: string) => Buffer.from(a.valueBlock.valueHexView).toString('hex').replace(/^00/, '') === hex.replace(/^00/, '');
  let crlNumber = 0;
  handlers = {
    async ocsp(der) {
      const req = pkijs.OCSPRequest.fromBER(der);
      const t = new Date();
      const basic = new pkijs.BasicOCSPResponse();
      basic.tbsResponseData.responderID = issuing.pkijs.subject;
      basic.tbsResponseData.producedAt = t;
      for (const r of req.tbsRequest.requestList) {
        const e = [...entities.values()].find((en) => sameSerial(r.reqCert.serialNumber, en.cert.serialHex));
        const certStatus = !e
          ? new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 } })
          : e.revokedAt && e.revokedAt <= t
            ? new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value: [new asn1js.GeneralizedTime({ valueDate: e.revokedAt })] })
            : new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 } });
        basic.tbsResponseData.responses.push(new pkijs.SingleResponse({ certID: r.reqCert, certStatus, thisUpdate: t, nextUpdate: new Date(t.getTime() + day) }));
      }
      await basic.sign(issuingKeys.privateKey as never, 'SHA-256');
      const resp = new pkijs.OCSPResponse({
        responseStatus: new asn1js.Enumerated({ value: 0 }),
        responseBytes: new pkijs.ResponseBytes({ responseType: '1.3.6.1.5.5.7.48.1.1', response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER(false) }) }),
      });
      return Buffer.from(resp.toSchema().toBER(false));
    },
    async crl(name) {
      const t = new Date();
      const [issuer, key, revoked] =
        name === 'root.crl' ? [root, rootKeys.privateKey, [] as Entity[]] : name === 'issuing.crl' ? [issuing, issuingKeys.privateKey, [...entities.values()].filter((e) => e.revokedAt && e.revokedAt <= t)] : [];
      if (!issuer || !key || !revoked) return undefined;
      const crl = new pkijs.CertificateRevocationList();
      crl.version = 1;
      crl.issuer = issuer.pkijs.subject;
      crl.thisUpdate = new pkijs.Time({ type: 0, value: t });
      crl.nextUpdate = new pkijs.Time({ type: 0, value: new Date(t.getTime() + day) });
      if (revoked.length) {
        crl.revokedCertificates = revoked.map((e) => new pkijs.RevokedCertificate({ userCertificate: new asn1js.Integer({ valueHex: Buffer.from(e.cert.serialHex, 'hex') }), revocationDate: new pkijs.Time({ type: 0, value: e.revokedAt! }) }));
      }
      crl.crlExtensions = new pkijs.Extensions({
        extensions: [
          ext('2.5.29.35', false, new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: issuer.ski }) })),
          ext('2.5.29.20', false, new asn1js.Integer({ value: ++crlNumber })),
        ],
      });
      await crl.sign(key as never, 'SHA-256');
      return Buffer.from(crl.toSchema(true).toBER(false));
    },
    tsa(der) {
      // One `openssl ts -reply` at a time: each reads and rewrites the serial file.
      const next = tsaQueue.then(() => tsaReply(der));
      tsaQueue = next.catch(() => undefined);
      return next;
    },
  };
  let tsaQueue: Promise<unknown> = Promise.resolve();
  const tsaReply = (der: Buffer) =>
      new Promise<Buffer>((ok, ko) => {
        const id = Math.random().toString(36).slice(2);
        writeFileSync(join(dir, `${id}.tsq`), der);
        execFile('openssl', ['ts', '-reply', '-config', 'tsa.cnf', '-queryfile', `${id}.tsq`, '-out', `${id}.tsr`], { cwd: dir }, (err, _out, stderr) => {
          try {
            if (err) throw err;
            const out = readFileSync(join(dir, `${id}.tsr`));
            rmSync(join(dir, `${id}.tsq`));
            rmSync(join(dir, `${id}.tsr`));
            ok(out);
          } catch (e) {
            ko(new Error(`openssl ts -reply (${der.length}-byte query): ${(e as Error).message} ${stderr}`));
          }
        });
      });

  const signers = new Map<EntityName, LoadedSigner>();
  return {
    url,
    tsaUrl: `${url}/tsa`,
    rootPem: root.pem,
    issuingPem: issuing.pem,
    tsaPem: tsa.pem,
    dir,
    requests,
    signer(name) {
      let s = signers.get(name);
      if (!s) signers.set(name, (s = loadSigner({ p12: readFileSync(join(dir, `${name}.p12`)), password, source: `test PKI ${name}.p12` })));
      return s;
    },
    p12: (name) => ({ file: join(dir, `${name}.p12`), passwordFile: join(dir, 'password.txt') }),
    revoke(name, at) {
      entities.get(name)!.revokedAt = at;
    },
    close: () =>
      new Promise<void>((ok) =>
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          ok();
        }),
      ),
  };
}
