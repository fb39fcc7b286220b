import test from 'ava';
import { CompactSign, decodeProtectedHeader } from 'jose';
import { SkillcertError } from '../../pipeline/core/errors.js';
import { bitAt, STATUS_LIST_BITS } from '../../pipeline/status/bitstring.js';
import { signStatusList, statusListAlg, verifyStatusList } from '../../pipeline/status/index.js';
import { pem, testSigner } from '../sign/_identity.js';

const FROM = new Date('2025-07-01T00:00:00.000Z');
const UNTIL = new Date('2025-07-08T00:00:00.000Z');
const NOW = { now: new Date('2025-07-02T00:00:00.000Z') };
const input = { orgCode: '0001', purpose: 'revocation' as const, indexes: [0, 5, 70_000], validFrom: FROM, validUntil: UNTIL };
const refused = (message: RegExp) => ({ instanceOf: SkillcertError, message });

test('a list signed with the organisation key (ES256) verifies with its certificate, with its bits, purpose and validity', async (t) => {
  const signer = testSigner('org');
  const jws = await signStatusList(input, signer);
  const header = decodeProtectedHeader(jws);
  t.like(header, { alg: 'ES256', typ: 'vc+jwt' });
  t.is(header.x5c?.[0], signer.certificate.raw.toString('base64'));
  const payload = JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8'));
  t.like(payload, {
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    id: 'urn:skillcert:status:0001:revocation',
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: 'urn:skillcert:org:0001',
    validFrom: '2025-07-01T00:00:00.000Z',
    validUntil: '2025-07-08T00:00:00.000Z',
    credentialSubject: { id: 'urn:skillcert:status:0001:revocation#list', type: 'BitstringStatusList', statusPurpose: 'revocation' },
  });
  const v = await verifyStatusList(jws, [pem('org')], NOW);
  t.is(v.orgCode, '0001');
  t.is(v.purpose, 'revocation');
  t.deepEqual(v.validFrom, FROM);
  t.deepEqual(v.validUntil, UNTIL);
  t.is(v.list.length * 8, STATUS_LIST_BITS);
  t.deepEqual([0, 1, 5, 6, 70_000, 70_001].map((i) => bitAt(v.list, i)), [true, false, true, false, true, false]);
});

test('an RSA organisation key signs PS256 and verifies the same way', async (t) => {
  const signer = testSigner('org-rsa');
  t.is(statusListAlg(signer.key), 'PS256');
  const jws = await signStatusList({ ...input, purpose: 'suspension' }, signer);
  t.is(decodeProtectedHeader(jws).alg, 'PS256');
  const v = await verifyStatusList(jws, [pem('org'), pem('org-rsa')], NOW);
  t.is(v.purpose, 'suspension');
  t.true(bitAt(v.list, 5));
});

test('a list is refused against another organisation certificate, and when signed by an untrusted key claiming a trusted x5c', async (t) => {
  const jws = await signStatusList(input, testSigner('org'));
  await t.throwsAsync(verifyStatusList(jws, [pem('other-org')], NOW), refused(/not one of the trusted organisation certificates/));
  await t.throwsAsync(verifyStatusList(jws, [], NOW), refused(/not one of the trusted/));
  // Signed by other-org's key, but naming org's certificate in x5c: the signature must fail with org's key.
  const payload = Buffer.from(jws.split('.')[1]!, 'base64url');
  const forged = await new CompactSign(payload)
    .setProtectedHeader({ alg: 'ES256', typ: 'vc+jwt', x5c: [testSigner('org').certificate.raw.toString('base64')] })
    .sign(testSigner('other-org').key);
  await t.throwsAsync(verifyStatusList(forged, [pem('org')], NOW), refused(/signature does not verify/));
});

test('one bit changed in the signed list, or the payload swapped, fails the signature', async (t) => {
  const jws = await signStatusList(input, testSigner('org'));
  const [h, p, s] = jws.split('.') as [string, string, string];
  const vc = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  const other = await signStatusList({ ...input, indexes: [] }, testSigner('org'));
  vc.credentialSubject.encodedList = JSON.parse(Buffer.from(other.split('.')[1]!, 'base64url').toString('utf8')).credentialSubject.encodedList;
  const swapped = `${h}.${Buffer.from(JSON.stringify(vc)).toString('base64url')}.${s}`;
  await t.throwsAsync(verifyStatusList(swapped, [pem('org')], NOW), refused(/signature does not verify/));
  const flipped = `${h}.${p}.${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
  await t.throwsAsync(verifyStatusList(flipped, [pem('org')], NOW), refused(/signature does not verify/));
});

test('a list is refused outside validFrom..validUntil, and with the wrong typ', async (t) => {
  const jws = await signStatusList(input, testSigner('org'));
  await t.throwsAsync(verifyStatusList(jws, [pem('org')], { now: new Date('2025-07-09T00:00:00Z') }), refused(/expired on 2025-07-08T00:00:00.000Z/));
  await t.throwsAsync(verifyStatusList(jws, [pem('org')], { now: new Date('2025-06-30T00:00:00Z') }), refused(/valid only from/));
  const signer = testSigner('org');
  const wrongTyp = await new CompactSign(Buffer.from(jws.split('.')[1]!, 'base64url'))
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c: [signer.certificate.raw.toString('base64')] })
    .sign(signer.key);
  await t.throwsAsync(verifyStatusList(wrongTyp, [pem('org')], NOW), refused(/typ is "JWT"/));
  await t.throwsAsync(verifyStatusList('not a jws', [pem('org')], NOW), refused(/not a compact JWS/));
});

test('a signed payload that is not a BitstringStatusListCredential is refused, saying which part', async (t) => {
  const signer = testSigner('org');
  const jws = await signStatusList(input, signer);
  const vc = JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8'));
  const sign = (body: unknown) =>
    new CompactSign(Buffer.from(JSON.stringify(body))).setProtectedHeader({ alg: 'ES256', typ: 'vc+jwt', x5c: [signer.certificate.raw.toString('base64')] }).sign(signer.key);
  await t.throwsAsync(verifyStatusList(await sign({ ...vc, credentialSubject: { ...vc.credentialSubject, statusPurpose: 'refresh' } }), [pem('org')], NOW), refused(/credentialSubject.statusPurpose/));
  await t.throwsAsync(verifyStatusList(await sign({ ...vc, issuer: 'did:example:1' }), [pem('org')], NOW), refused(/issuer/));
  await t.throwsAsync(verifyStatusList(await sign({ ...vc, id: 'urn:skillcert:status:0002:revocation' }), [pem('org')], NOW), refused(/not the revocation list of organisation 0001/));
});
