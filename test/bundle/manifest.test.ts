import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createHash, createPrivateKey, createPublicKey, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { CompactSign } from 'jose';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { startArchive, writeArchive } from '../../pipeline/bundle/archive.js';
import { writeBatchOutputs, type BatchOutputs } from '../../pipeline/bundle/index.js';
import { signDetached, verifyDetached } from '../../pipeline/bundle/jws.js';
import { writeManifest } from '../../pipeline/bundle/manifest.js';
import { verifyBundle, type BundleVerification, type CheckName } from '../../pipeline/verify/bundle.js';
import { caIssued, cleanup, fonts, organisation, selfSigned, syntheticSummary, tmp, validTime } from './helpers.js';

test.after.always(cleanup);

const id = selfSigned();
// The run's clock inside the certificate's validity, so the default `at` (the manifest's time) works.
const now = validTime(id.certificatePem);
const { summary } = syntheticSummary();
const dir = tmp();
let out: BatchOutputs;

test.before(async () => {
  // A certificate PDF another stage wrote: the manifest must list files it did not write itself.
  mkdirSync(join(dir, 'certificates'), { recursive: true });
  writeFileSync(join(dir, 'certificates', `${summary.issued[0]!.number}.pdf`), '%PDF-1.7 stand-in\n');
  out = await writeBatchOutputs(summary, organisation(), { dir, fonts, now, signer: id.signer });
});

const check = (v: BundleVerification, name: CheckName) => v.checks.find((c) => c.id === `bundle.${name}`)!;

/** Entries of a zip as name → bytes, in archive order. */
async function entries(zipFile: string): Promise<[string, Buffer][]> {
  const zip = await yauzl.openPromise(zipFile, { lazyEntries: true });
  const out: [string, Buffer][] = [];
  for await (const e of zip.eachEntry()) {
    const chunks: Buffer[] = [];
    for await (const c of await zip.openReadStreamPromise(e)) chunks.push(c as Buffer);
    out.push([e.fileName, Buffer.concat(chunks)]);
  }
  zip.close();
  return out;
}

/** A copy of the archive with entries changed (return a Buffer), dropped (null) or added. */
async function tamper(edit: (name: string, bytes: Buffer) => Buffer | null, add: [string, Buffer][] = []): Promise<string> {
  const zip = new yazl.ZipFile();
  for (const [name, bytes] of await entries(out.archive!)) {
    const b = edit(name, bytes);
    if (b) zip.addBuffer(b, name);
  }
  for (const [name, b] of add) zip.addBuffer(b, name);
  zip.end();
  const file = join(tmp(), 'tampered.zip');
  await pipeline(zip.outputStream, createWriteStream(file));
  return file;
}

test('the manifest lists every file of the batch folder with the size and SHA-256 sha256sum computes', (t) => {
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  t.is(m.format, 'skillcert-manifest/1');
  t.is(m.batchId, summary.batchId);
  t.is(m.profileId, 'haidian-qihang');
  t.is(m.created, now.toISOString());
  const paths = m.files.map((f: { path: string }) => f.path);
  t.deepEqual(paths, [
    `certificates/${summary.issued[0]!.number}.pdf`,
    'receipts/batch-receipt.pdf', 'receipts/signoff-sheet.pdf', 'report.json', 'report.txt',
    'tables/certificate-data.xlsx', 'tables/roster.xlsx', 'tables/summary-counts.xlsx',
  ]);
  for (const f of m.files) {
    const sum = execFileSync('sha256sum', [join(dir, f.path)], { encoding: 'utf8' }).split(' ')[0];
    t.is(f.sha256, sum, f.path);
    t.is(f.size, statSync(join(dir, f.path)).size, f.path);
  }
});

test('manifest.json.jws is a detached ES256 JWS over the manifest bytes with the certificate in x5c', (t) => {
  const jws = readFileSync(join(dir, 'manifest.json.jws'), 'utf8').trim();
  const [h, payload, sig] = jws.split('.');
  t.is(payload, '', 'detached content (RFC 7515 Appendix F)');
  const header = JSON.parse(Buffer.from(h!, 'base64url').toString());
  t.is(header.alg, 'ES256');
  const cert = new X509Certificate(Buffer.from(header.x5c[0], 'base64'));
  t.is(cert.fingerprint256, new X509Certificate(id.certificatePem).fingerprint256);
  // Checked here with node:crypto directly, not with the module's verifier.
  const input = `${h}.${readFileSync(join(dir, 'manifest.json')).toString('base64url')}`;
  t.true(cryptoVerify('sha256', Buffer.from(input), { key: createPublicKey(cert.publicKey.export({ type: 'spki', format: 'pem' })), dsaEncoding: 'ieee-p1363' }, Buffer.from(sig!, 'base64url')));
});

test('the signed bundle verifies: signature, chain to the anchor, digests, nothing missing or extra', async (t) => {
  const v = await verifyBundle(out.archive!, [id.certificatePem]);
  t.true(v.ok, JSON.stringify(v.checks, null, 1));
  t.deepEqual(v.checks.map((c) => c.id), ['archive', 'manifest', 'signature', 'chain', 'digests', 'missing', 'extra'].map((n) => `bundle.${n}`));
  t.is(v.at, now.toISOString(), 'certificates checked at the signing time by default');
  t.is(v.batchId, summary.batchId);
  t.regex(v.signer!, /skillcert test manifest signer/);
});

test('a changed file is caught by its digest, naming the file', async (t) => {
  const file = await tamper((name, b) => (name === 'tables/certificate-data.xlsx' ? Buffer.concat([b, Buffer.from('x')]) : b));
  const v = await verifyBundle(file, [id.certificatePem]);
  t.false(v.ok);
  t.false(check(v, 'digests').ok);
  t.deepEqual(check(v, 'digests').files, ['tables/certificate-data.xlsx']);
  t.regex(check(v, 'digests').message, /tables\/certificate-data\.xlsx: SHA-256 is [0-9a-f]{12}… but the manifest says/);
  t.true(check(v, 'signature').ok, 'the manifest itself is intact');
  t.true(check(v, 'missing').ok && check(v, 'extra').ok);
});

test('an extra file is caught', async (t) => {
  const file = await tamper((_, b) => b, [['certificates/forged.pdf', Buffer.from('%PDF forged')]]);
  const v = await verifyBundle(file, [id.certificatePem]);
  t.false(v.ok);
  t.deepEqual(check(v, 'extra').files, ['certificates/forged.pdf']);
  t.regex(check(v, 'extra').message, /1 file\(s\) in the archive are not in the manifest: certificates\/forged\.pdf/);
  t.true(check(v, 'digests').ok && check(v, 'missing').ok && check(v, 'signature').ok);
});

test('a removed file is caught', async (t) => {
  const file = await tamper((name, b) => (name === 'report.json' ? null : b));
  const v = await verifyBundle(file, [id.certificatePem]);
  t.false(v.ok);
  t.deepEqual(check(v, 'missing').files, ['report.json']);
  t.regex(check(v, 'missing').message, /listed in the manifest are missing from the archive: report\.json/);
  t.true(check(v, 'digests').ok && check(v, 'extra').ok);
});

test('a changed manifest (to hide a changed file) breaks the signature', async (t) => {
  const xlsx = 'tables/roster.xlsx';
  const forged = Buffer.from('forged roster');
  const { createHash } = await import('node:crypto');
  const file = await tamper((name, b) => {
    if (name === xlsx) return forged;
    if (name !== 'manifest.json') return b;
    const m = JSON.parse(b.toString());
    for (const f of m.files) if (f.path === xlsx) Object.assign(f, { size: forged.length, sha256: createHash('sha256').update(forged).digest('hex') });
    return Buffer.from(`${JSON.stringify(m, null, 2)}\n`);
  });
  const v = await verifyBundle(file, [id.certificatePem]);
  t.false(v.ok);
  t.false(check(v, 'signature').ok);
  t.regex(check(v, 'signature').message, /does not verify over manifest\.json: the manifest was changed after it was signed/);
  t.true(check(v, 'digests').ok, 'the forged manifest matches the forged file: only the signature catches it');
});

test('a missing signature or manifest is reported, not thrown', async (t) => {
  const noSig = await verifyBundle(await tamper((name, b) => (name === 'manifest.json.jws' ? null : b)), [id.certificatePem]);
  t.false(noSig.ok);
  t.regex(check(noSig, 'signature').message, /manifest\.json\.jws is missing: the bundle is not signed/);
  const noManifest = await verifyBundle(await tamper((name, b) => (name === 'manifest.json' ? null : b)), [id.certificatePem]);
  t.false(noManifest.ok);
  t.regex(check(noManifest, 'manifest').message, /manifest\.json is missing/);
  const notZip = join(tmp(), 'x.zip');
  writeFileSync(notZip, 'not a zip');
  const bad = await verifyBundle(notZip, [id.certificatePem]);
  t.false(bad.ok);
  t.regex(check(bad, 'archive').message, /cannot read the archive/);
});

test('a signer that does not chain to the trust anchors is refused', async (t) => {
  const stranger = selfSigned('someone else');
  const v = await verifyBundle(out.archive!, [stranger.certificatePem]);
  t.false(v.ok);
  t.true(check(v, 'signature').ok);
  t.false(check(v, 'chain').ok);
  t.regex(check(v, 'chain').message, /not trusted: .* not one of the 1 trust anchor\(s\)/);
  const none = await verifyBundle(out.archive!, []);
  t.regex(check(none, 'chain').message, /no trust anchor was given/);
});

test('a certificate checked outside its validity is refused with the dates', async (t) => {
  const later = new Date(now.getTime() + 400 * 86400_000);
  const v = await verifyBundle(out.archive!, [id.certificatePem], later);
  t.false(check(v, 'chain').ok);
  t.regex(check(v, 'chain').message, /expired on \d{4}-\d\d-\d\dT.* at \d{4}-/);
  const before = await verifyBundle(out.archive!, [id.certificatePem], new Date(now.getTime() - 2 * 86400_000));
  t.regex(check(before, 'chain').message, /is valid only from \d{4}-\d\d-\d\dT/);
});

test('an RSA signer issued by a CA verifies against the CA as anchor, with RS256 and PS256', async (t) => {
  const { root, leaf } = caIssued('rsa');
  for (const rsaAlgorithm of ['RS256', 'PS256'] as const) {
    const d = tmp();
    writeFileSync(join(d, 'a.txt'), 'a');
    const at = validTime(leaf.certificatePem);
    await writeManifest(d, { batchId: 'b', profileId: 'p', created: at }, { ...leaf.signer, rsaAlgorithm });
    const jws = readFileSync(join(d, 'manifest.json.jws'), 'utf8');
    t.is(JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString()).alg, rsaAlgorithm);
    const archive = join(d, 'bundle.zip');
    await writeArchive(d, ['a.txt', 'manifest.json', 'manifest.json.jws'], archive, at);
    const v = await verifyBundle(archive, [root]);
    t.true(v.ok, `${rsaAlgorithm}: ${JSON.stringify(v.checks)}`);
    t.regex(check(v, 'chain').message, /chains to the trust anchor "skillcert test root"/);
    t.false((await verifyBundle(archive, [selfSigned().certificatePem])).ok, 'an unrelated anchor does not do');
  }
});

test('the manifest\'s JWS, signed a piece at a time, is the one jose signs whole (RS256) and jose verifies every algorithm over a payload of several pieces', async (t) => {
  const payload = Buffer.alloc(7 * 1024 * 1024 + 5, 'manifest {"path": "certificates/…"}\n');
  const { leaf } = caIssued('rsa');
  const detached = await signDetached(payload, leaf.signer);
  const [protectedB64, , signature] = (await new CompactSign(payload).setProtectedHeader(JSON.parse(Buffer.from(detached.split('.')[0]!, 'base64url').toString())).sign(leaf.signer.privateKey)).split('.');
  t.is(detached, `${protectedB64}..${signature}`, 'RS256 is deterministic: the same bytes as jose\'s');
  t.true((await verifyDetached(detached, payload)).ok);
  t.true((await verifyDetached(await signDetached(payload, { ...leaf.signer, rsaAlgorithm: 'PS256' }), payload)).ok, 'PS256');
  for (const curve of ['P-256', 'P-384', 'P-521']) {
    const dir = tmp('skillcert-ec-');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${curve}`, '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '30', '-subj', '/CN=ec signer'], { stdio: 'ignore' });
    const signer = { privateKey: createPrivateKey(readFileSync(join(dir, 'key.pem'))), certificatePem: readFileSync(join(dir, 'cert.pem'), 'utf8') };
    const jws = await signDetached(payload, signer);
    const v = await verifyDetached(jws, payload);
    t.true(v.ok, `${curve}: ${v.reason}`);
    t.is(String(v.header?.alg), ({ 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' } as Record<string, string>)[curve]);
    const other = Buffer.from(payload);
    other[other.length - 1] ^= 1;
    t.false((await verifyDetached(jws, other)).ok, `${curve}: one byte changed in the last piece`);
  }
});

test('a key that does not match its certificate is refused before anything is signed', async (t) => {
  const a = selfSigned('a');
  const b = selfSigned('b');
  await t.throwsAsync(() => signDetached(Buffer.from('{}'), { privateKey: a.signer.privateKey, certificatePem: b.certificatePem }), { message: /does not belong to the certificate/ });
});

test('a JWS with the algorithm swapped for one the key does not have is rejected', async (t) => {
  const payload = Buffer.from('{"a":1}');
  const jws = await signDetached(payload, id.signer);
  const [h, , s] = jws.split('.');
  const header = JSON.parse(Buffer.from(h!, 'base64url').toString());
  for (const alg of ['RS256', 'none', 'HS256']) {
    const forged = `${Buffer.from(JSON.stringify({ ...header, alg })).toString('base64url')}..${s}`;
    t.false((await verifyDetached(forged, payload)).ok, alg);
  }
  t.true((await verifyDetached(jws, payload)).ok);
  t.false((await verifyDetached(jws, Buffer.from('{"a":2}'))).ok);
});

test('the archive is deterministic: same folder, same bytes; sorted names, one timestamp', async (t) => {
  const files = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).files.map((f: { path: string }) => f.path);
  const all = [...files, 'manifest.json', 'manifest.json.jws'];
  const a = join(tmp(), 'a.zip');
  const b = join(tmp(), 'b.zip');
  const written = await writeArchive(dir, all, a, now);
  await writeArchive(dir, [...all].reverse(), b, now);
  t.deepEqual(readFileSync(a), readFileSync(b));
  t.deepEqual(written, { file: a, sha256: createHash('sha256').update(readFileSync(a)).digest('hex') }, 'the digest taken while writing is the file\'s');
  const zip = await yauzl.openPromise(out.archive!, { lazyEntries: true });
  const names: string[] = [];
  const times = new Set<number>();
  for await (const e of zip.eachEntry()) { names.push(e.fileName); times.add(e.getLastModDate().getTime()); }
  zip.close();
  t.deepEqual(names, [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
  t.true(names.includes('manifest.json') && names.includes('manifest.json.jws'));
  t.false(names.some((n) => n.endsWith('.zip')), 'the archive does not contain itself');
  t.is(times.size, 1);
});

test('digests the run already knows are taken as given: right ones give the same manifest, a file changed since fails the bundle', async (t) => {
  const d = tmp();
  mkdirSync(join(d, 'certificates'));
  writeFileSync(join(d, 'certificates', 'x.pdf'), '%PDF-1.7 x\n');
  writeFileSync(join(d, 'a.txt'), 'a');
  const meta = { batchId: 'b', profileId: 'p', created: now };
  const hashed = (await writeManifest(d, meta, id.signer)).manifest;
  const right = new Map([['certificates/x.pdf', hashed.files.find((f) => f.path === 'certificates/x.pdf')!.sha256]]);
  t.deepEqual((await writeManifest(d, meta, id.signer, new Set(), right)).manifest, hashed);
  // The worker's digest no longer matches the file (changed after it was signed): the manifest says what was
  // signed, and verify-bundle names the file.
  await writeManifest(d, meta, id.signer, new Set(), new Map([['certificates/x.pdf', '0'.repeat(64)]]));
  const archive = join(d, 'bundle.zip');
  await writeArchive(d, ['a.txt', 'certificates/x.pdf', 'manifest.json', 'manifest.json.jws'], archive, now);
  const v = await verifyBundle(archive, [id.certificatePem]);
  t.false(v.ok);
  t.regex(JSON.stringify(v.checks), /certificates\/x\.pdf/);
});

test('a file that cannot be read fails the archive with its reason, and no partial archive is left', async (t) => {
  const d = tmp();
  writeFileSync(join(d, 'a.txt'), 'a');
  const target = join(d, 'out', 'bundle.zip');
  for (const files of [['a.txt', 'gone.pdf'], ['gone.pdf', 'a.txt'], ['0-gone-first.pdf', 'a.txt']]) {
    const err = await t.throwsAsync(writeArchive(d, files, target, now));
    t.regex(err!.message, /cannot write the archive .*bundle\.zip: .*ENOENT.*gone/, files.join(' '));
  }
  t.deepEqual(readdirSync(join(d, 'out')), [], 'neither the archive nor its temporary file');
});

test('the archive started on its own thread with the certificates is byte for byte the one written in one go', async (t) => {
  const d = tmp();
  mkdirSync(join(d, 'certificates'));
  const certs = Array.from({ length: 40 }, (_, i) => `certificates/S${String(i).padStart(4, '0')}.pdf`);
  for (const c of certs) writeFileSync(join(d, c), `%PDF-1.7 ${c}\n`.repeat(50));
  for (const f of ['manifest.json', 'manifest.json.jws', 'report.txt']) writeFileSync(join(d, f), f);
  const all = [...certs, 'manifest.json', 'manifest.json.jws', 'report.txt'];
  const whole = await writeArchive(d, all, join(d, 'whole.zip'), now);
  // Given out of order, and the certificates again among the rest: the thread keeps them once, in order.
  const early = startArchive(d, [...certs].reverse(), join(d, 'early.zip'), now);
  const written = await early.finish([...all].reverse());
  await early.close();
  t.deepEqual(readFileSync(written.file), readFileSync(whole.file));
  t.is(written.sha256, whole.sha256);
  // A file the bundle wrote sorts before the certificates: the thread's archive is dropped, the whole written in order.
  writeFileSync(join(d, 'a-note.txt'), 'n');
  const mixed = startArchive(d, certs, join(d, 'mixed.zip'), now);
  const m = await mixed.finish(['a-note.txt', ...all]);
  t.deepEqual(readFileSync(m.file), readFileSync((await writeArchive(d, ['a-note.txt', ...all], join(d, 'mixed-whole.zip'), now)).file));
  t.deepEqual((await entries(m.file)).map(([n]) => n), ['a-note.txt', ...all]);
  // Stopped before its end (the bundle failed): no archive and no temporary; a second close is harmless.
  const stopped = startArchive(d, certs, join(d, 'out', 'stopped.zip'), now);
  await stopped.close();
  await stopped.close();
  t.deepEqual(readdirSync(join(d, 'out')), []);
});

test('a certificate the archive\'s thread cannot read fails the archive with the reason, and no partial archive is left', async (t) => {
  const d = tmp();
  writeFileSync(join(d, 'a.txt'), 'a');
  const early = startArchive(d, ['certificates/gone.pdf'], join(d, 'out', 'bundle.zip'), now);
  const err = await t.throwsAsync(early.finish(['certificates/gone.pdf', 'manifest.json']));
  t.is((err as { code?: string }).code, 'E_IO');
  t.regex(err!.message, /cannot write the archive .*bundle\.zip: .*ENOENT.*gone\.pdf/);
  t.deepEqual(readdirSync(join(d, 'out')), []);
});

test('without a signer the manifest is written unsigned and the bundle reports it', async (t) => {
  const d = tmp();
  const o = await writeBatchOutputs(summary, organisation(), { dir: d, fonts, now });
  t.false(o.files.includes('manifest.json.jws'));
  const v = await verifyBundle(o.archive!, [id.certificatePem]);
  t.false(v.ok);
  t.true(check(v, 'digests').ok && check(v, 'missing').ok && check(v, 'extra').ok);
  t.false(check(v, 'signature').ok);
});
