/**
 * QR claim 8 (the status list index) and the verifier's status.list check over it, without a registry: a payload
 * with claim 8 round-trips; one without it (an older certificate) is "not checked: no status index"; lists of
 * another organisation, or only one of the two lists, decide nothing.
 */
import test from 'ava';
import { cborEncodedClaims } from './_qr.js';
import { buildQrText, keysFromCertificates, parseQrText, verifyQrText, type QrInput } from '../../pipeline/stamp/qr.js';
import { signStatusList } from '../../pipeline/status/index.js';
import { statusListCheck } from '../../pipeline/verify/status-list.js';
import { pem, testSigner } from '../sign/_identity.js';

const INPUT: QrInput = { number: 'S000011082003253000007', name: '王建国', idNo: '110108198503121234', occupation: '电工', job: '', level: 3, issueDate: '2026-11-20', orgCode: '0000' };
const NOW = new Date('2026-11-21T00:00:00Z');
const list = (purpose: 'revocation' | 'suspension', indexes: number[], orgCode = '0000') =>
  signStatusList({ orgCode, purpose, indexes, validFrom: new Date('2026-11-20T00:00:00Z'), validUntil: new Date('2026-11-27T00:00:00Z') }, testSigner('org'));

test('claim 8 round-trips through the signed QR payload, and is absent when not given', (t) => {
  const signer = testSigner('org');
  const text = buildQrText({ ...INPUT, statusIndex: 70_001 }, signer);
  t.is(parseQrText(text).payload.statusIndex, 70_001);
  const v = verifyQrText(text, keysFromCertificates([pem('org')]));
  t.true(v.checks.every((c) => c.ok === true));
  t.is(v.payload?.statusIndex, 70_001);
  t.false('statusIndex' in parseQrText(buildQrText(INPUT, signer)).payload);
  t.throws(() => buildQrText({ ...INPUT, statusIndex: -1 }, signer), { instanceOf: RangeError, message: /non-negative integer/ });
  t.deepEqual([...cborEncodedClaims(text).keys()], [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('the status.list check says revoked, suspended or issued from the two lists of the payload\'s organisation', async (t) => {
  const payload = { ...parseQrText(buildQrText({ ...INPUT, statusIndex: 5 }, testSigner('org'))).payload };
  const trusted = [pem('org')];
  const revoked = await statusListCheck(payload, [await list('revocation', [5]), await list('suspension', [])], trusted, NOW);
  t.like(revoked, { status: 'revoked', check: { id: 'status.list', ok: false } });
  const suspended = await statusListCheck(payload, [await list('revocation', [4, 6]), await list('suspension', [5])], trusted, NOW);
  t.like(suspended, { status: 'suspended', check: { ok: false } });
  const issued = await statusListCheck(payload, [await list('revocation', [4]), await list('suspension', [6])], trusted, NOW);
  t.like(issued, { status: 'issued', check: { ok: true } });
  t.is(await statusListCheck(payload, undefined, trusted, NOW), undefined, 'no list given: no check, as before');
});

test('no status index, another organisation\'s lists, or one list only: the status is not decided', async (t) => {
  const old = parseQrText(buildQrText(INPUT, testSigner('org'))).payload;
  const none = await statusListCheck(old, [await list('revocation', [])], [pem('org')], NOW);
  t.like(none, { check: { ok: null } });
  t.regex(none!.check.message, /^not checked: no status index/);
  const payload = parseQrText(buildQrText({ ...INPUT, statusIndex: 5 }, testSigner('org'))).payload;
  const foreign = await statusListCheck(payload, [await list('revocation', [5], '0001'), await list('suspension', [5], '0001')], [pem('org')], NOW);
  t.like(foreign, { check: { ok: null } });
  t.regex(foreign!.check.message, /no valid revocation and suspension list of organisation 0000/);
  const half = await statusListCheck(payload, [await list('revocation', [])], [pem('org')], NOW);
  t.regex(half!.check.message, /no valid suspension list/);
  // A set bit is an answer even when the other list is missing.
  t.like(await statusListCheck(payload, [await list('revocation', [5])], [pem('org')], NOW), { status: 'revoked' });
});
