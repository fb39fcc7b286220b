import test from 'ava';
import { decodeBase45, encodeBase45 } from '../../pipeline/stamp/base45.js';
import { buildQrText, type QrInput } from '../../pipeline/stamp/qr.js';
import { keysFromCertificates, parseQrText, verifyQrCode, verifyQrCodeWithCertificates } from '../../pipeline/verify/qr.js';
import { pem, testSigner } from '../sign/_identity.js';

const A: QrInput = {
  number: 'Y000111020001225000001',
  name: '王小明',
  idNo: '110105194912310021',
  occupation: '电工',
  job: '',
  level: 4,
  issueDate: '2022-05-01',
  orgCode: '0001',
};
const B: QrInput = { ...A, number: 'Y000111020001225000002', name: '李四', idNo: '110105195001010014' };

const orgKeys = () => keysFromCertificates([pem('org')]);
const oks = (r: ReturnType<typeof verifyQrCode>) => Object.fromEntries(r.checks.map((c) => [c.id, c.ok]));

const split = (text: string) => {
  const i = text.indexOf('#SC1:') + 5;
  return { head: text.slice(0, i), cose: decodeBase45(text.slice(i)) };
};

test('a genuine QR text passes format, key and signature checks, and carries the certificate fields', (t) => {
  const r = verifyQrCode(buildQrText(A, testSigner()), orgKeys());
  t.deepEqual(oks(r), { 'qr.format': true, 'qr.key': true, 'qr.signature': true });
  t.deepEqual(r.payload, { number: A.number, name: '王小明', idMasked: '1101**********0021', occupation: '电工', job: '', level: 4, issueDate: '2022-05-01', orgCode: '0001' });
});

test('the QR code never holds the whole ID number (第十九条), only its mask', (t) => {
  const text = buildQrText(A, testSigner());
  const { cose } = split(text);
  t.false(cose.includes(Buffer.from(A.idNo)), 'not in the CBOR');
  t.false(text.includes(A.idNo));
  t.false(cose.includes(Buffer.from(A.idNo.slice(4, 14))), 'not even the middle digits');
  t.true(cose.includes(Buffer.from('1101**********0021')));
});

test('the number of another certificate in the address breaks the signature (the number is bound as external_aad)', (t) => {
  const text = buildQrText(A, testSigner());
  const swapped = text.replace(`n=${A.number}`, `n=${B.number}`);
  const r = verifyQrCode(swapped, orgKeys());
  t.deepEqual(oks(r), { 'qr.format': true, 'qr.key': true, 'qr.signature': false });
  t.regex(r.checks[2]!.message, /certificate number Y000111020001225000002 was changed after signing/);
});

test('the payload of another certificate under this certificate\'s address is rejected', (t) => {
  const a = buildQrText(A, testSigner());
  const b = buildQrText(B, testSigner());
  const mixed = split(a).head + b.slice(b.indexOf('#SC1:') + 5);
  t.is(verifyQrCode(mixed, orgKeys()).checks.find((c) => c.id === 'qr.signature')!.ok, false);
});

test('a flipped byte in the holder\'s name, or in the signature, fails the signature check', (t) => {
  const text = buildQrText(A, testSigner());
  const { head, cose } = split(text);
  // 王 (E7 8E 8B) → 珋 (E7 8F 8B): still valid UTF-8 and valid CBOR, a different name.
  const at = cose.indexOf(Buffer.from('王'));
  const renamed = Buffer.from(cose);
  renamed[at + 1] = 0x8f;
  const r = verifyQrCode(head + encodeBase45(renamed), orgKeys());
  t.is(r.payload!.name, '珋小明');
  t.deepEqual(oks(r), { 'qr.format': true, 'qr.key': true, 'qr.signature': false });

  const sigFlipped = Buffer.from(cose);
  sigFlipped[sigFlipped.length - 5] = sigFlipped[sigFlipped.length - 5]! ^ 0x40;
  t.is(verifyQrCode(head + encodeBase45(sigFlipped), orgKeys()).checks.find((c) => c.id === 'qr.signature')!.ok, false);
});

test('a QR code signed by a key that is not configured is reported with its key id', (t) => {
  const text = buildQrText(A, testSigner('other-org'));
  const r = verifyQrCode(text, orgKeys());
  t.deepEqual(oks(r), { 'qr.format': true, 'qr.key': false });
  t.regex(r.checks[1]!.message, new RegExp(`key id ${parseQrText(text).kid.toString('hex')}, which is not one of the configured organisation keys`));
});

test('an RSA organisation key signs with PS256 and verifies', (t) => {
  const text = buildQrText(A, testSigner('org-rsa'));
  t.is(parseQrText(text).alg, 'PS256');
  t.deepEqual(oks(verifyQrCodeWithCertificates(text, [pem('org-rsa')])), { 'qr.format': true, 'qr.key': true, 'qr.signature': true });
});

test('text that is not a skillcert QR code fails the format check with the reason', (t) => {
  const cases: [string, RegExp][] = [
    ['http://jndj.osta.org.cn/', /no "#SC1:" payload/],
    ['HTTP://X/?n=Y000111020001225000001#SC1:abc', /invalid base45 character "a"/],
    ['HTTP://X/#SC1:ABC', /no certificate number/],
    [`HTTP://X/?n=Y000111020001225000001#SC1:${encodeBase45(Buffer.from([0x82, 0x01, 0x02]))}`, /not a COSE_Sign1/],
  ];
  for (const [text, re] of cases) {
    const r = verifyQrCode(text, orgKeys());
    t.is(r.checks.length, 1);
    t.is(r.checks[0]!.ok, false);
    t.regex(r.checks[0]!.message, re);
  }
});
