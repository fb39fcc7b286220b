/**
 * `skillcert serve`'s JSON API (issue 14), through fastify's inject on the real app: certificates from a real run,
 * the real verifier, a real SQLite registry. A PDF upload gets the verdict and checks `skillcert verify` gives;
 * anything malformed gets a verdict or a 4xx with a reason, never a 500; the query answers the status only; and
 * no log line ever carries an ID number, a name asked about, or the PDF.
 */
import test from 'ava';
import { Writable } from 'node:stream';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { openRegistry, type Registry } from '../../pipeline/registry/index.js';
import { buildApp, buildWeb, loadTrust, organisationCertificates, type Trust } from '../../pipeline/serve/index.js';
import { verifyFiles } from '../../pipeline/verify/certificate.js';
import { flipSignedByte } from '../helpers/tamper.js';
import { removeTempDirs, requireBuiltCli } from '../helpers/cli.js';
import { changeStatus, issue, PROFILE, revoke, type Issued } from './_fixture.js';

test.before(() => requireBuiltCli());
test.after.always(removeTempDirs);

let issued: Issued;
let registry: Registry;
let trust: Trust;
let app: FastifyInstance;
const logLines: string[] = [];

test.before(async () => {
  issued = await issue(4, 7300);
  await revoke(issued, issued.certs[2]!.number);
  await changeStatus(issued, issued.certs[3]!.number, 'suspend');
  trust = loadTrust({ profiles: [PROFILE] });
  registry = await openRegistry(issued.registry);
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  app = await buildApp({ registry, trust, webDir: await buildWeb(), log: { stream }, limits: { queryPerMinute: 8, pdfBytes: 1 << 20 } });
  await app.ready();
});

test.after.always(async () => {
  await app?.close();
  await registry?.close();
});

interface Verdict { verdict: string; number?: string; status?: string; checks: { id: string; ok: boolean | null; message: string }[] }

const upload = (body: Buffer, type = 'application/pdf') => app.inject({ method: 'POST', url: '/api/verify', headers: { 'content-type': type }, payload: body });
const failedIds = (v: Verdict) => v.checks.filter((c) => c.ok === false).map((c) => c.id);

test('an uploaded certificate gets the verdict and the checks of skillcert verify', async (t) => {
  const { file, number } = issued.certs[0]!;
  const r = await upload(readFileSync(file));
  t.is(r.statusCode, 200, r.body);
  const v = r.json<Verdict>();
  const cli = (await verifyFiles([file], { trustAnchors: trust.anchors, orgCertificates: organisationCertificates(trust.list), registry: issued.registry }))[0]!;
  t.is(v.verdict, 'valid');
  t.is(cli.verdict, 'valid');
  t.is(v.number, number);
  t.is(v.status, 'issued');
  t.deepEqual(v.checks.map((c) => [c.id, c.ok]), cli.checks.map((c) => [c.id, c.ok]));
  for (const id of ['signature.wholeFile', 'signature.digest', 'signer.trusted', 'qr.signature', 'qr.printedText', 'number.format', 'registry.status']) t.true(v.checks.some((c) => c.id === id && c.ok === true), id);
});

test('a certificate with one signed byte changed is invalid, and says why', async (t) => {
  const { bytes } = flipSignedByte(readFileSync(issued.certs[1]!.file));
  const v = (await upload(bytes)).json<Verdict>();
  t.is(v.verdict, 'invalid');
  t.true(failedIds(v).includes('signature.digest'), failedIds(v).join());
});

test('a revoked certificate is invalid with status revoked and the reason', async (t) => {
  const v = (await upload(readFileSync(issued.certs[2]!.file))).json<Verdict>();
  t.is(v.verdict, 'invalid');
  t.is(v.status, 'revoked');
  t.regex(v.checks.find((c) => c.id === 'registry.status')!.message, /was revoked .*测试/);
});

test('a suspended certificate is invalid with status suspended', async (t) => {
  const v = (await upload(readFileSync(issued.certs[3]!.file))).json<Verdict>();
  t.is(v.verdict, 'invalid');
  t.is(v.status, 'suspended');
});

test('the service serves the signed status lists the registry holds', async (t) => {
  for (const purpose of ['revocation', 'suspension'] as const) {
    const r = await app.inject({ url: `/status/0000-${purpose}.jwt` });
    t.is(r.statusCode, 200, purpose);
    t.is(r.body, (await registry.statusList('0000', purpose)) ?? 'none');
    t.regex(r.body, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  }
});

test('malformed uploads get "invalid: not a readable PDF" or a 4xx with a reason, never a 500', async (t) => {
  const pdf = readFileSync(issued.certs[0]!.file);
  const cases: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['random bytes', Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251))],
    ['a header and nothing else', Buffer.from('%PDF-1.7\n')],
    ['truncated to half', pdf.subarray(0, pdf.length >> 1)],
    ['the first 1000 bytes', pdf.subarray(0, 1000)],
  ];
  for (const [what, body] of cases) {
    const r = await upload(body);
    t.true(r.statusCode < 500, `${what}: ${r.statusCode} ${r.body}`);
    if (r.statusCode === 200) {
      const v = r.json<Verdict>();
      t.not(v.verdict, 'valid', what);
    } else t.truthy(r.json<{ reason: string }>().reason, what);
  }
  const random = (await upload(cases[1]![1])).json<Verdict>();
  t.deepEqual(random.checks.map((c) => [c.id, c.ok]), [['file.readable', false]]);
  t.regex(random.checks[0]!.message, /^not a readable PDF/);
});

test('uploads over the size limit or of another type are refused with a reason', async (t) => {
  const big = await upload(Buffer.alloc((1 << 20) + 1, 0x20));
  t.is(big.statusCode, 413);
  t.regex(big.json<{ reason: string }>().reason, /larger than the limit of 1048576 bytes/);
  const wrong = await upload(Buffer.from('{}'), 'application/json');
  t.is(wrong.statusCode, 415, wrong.body);
  const text = await upload(Buffer.from('hello'), 'text/plain');
  t.is(text.statusCode, 415, text.body);
  t.regex(text.json<{ reason: string }>().reason, /application\/pdf/);
});

test.serial('the query answers the status for the right triple only, never echoes, and is rate-limited per client', async (t) => {
  const [a, , revoked, suspended] = issued.certs as [Issued['certs'][0], Issued['certs'][0], Issued['certs'][0], Issued['certs'][0]];
  const q = (body: object, ip = '10.0.0.1') => app.inject({ method: 'POST', url: '/api/query', payload: body, remoteAddress: ip });
  const right = await q({ number: a.number, name: a.name, idNo: a.idNo });
  t.deepEqual(right.json(), { found: true, status: 'issued' });
  // lower-case x, spaces around: the same person
  t.deepEqual((await q({ number: ` ${a.number.toLowerCase()} `, name: a.name, idNo: ` ${a.idNo.toLowerCase()}` })).json(), { found: true, status: 'issued' });
  t.deepEqual((await q({ number: revoked.number, name: revoked.name, idNo: revoked.idNo })).json(), { found: true, status: 'revoked' });
  t.deepEqual((await q({ number: suspended.number, name: suspended.name, idNo: suspended.idNo })).json(), { found: true, status: 'suspended' });
  const wrongId = await q({ number: a.number, name: a.name, idNo: revoked.idNo });
  t.deepEqual(wrongId.json(), { found: false });
  t.deepEqual((await q({ number: a.number, name: revoked.name, idNo: a.idNo })).json(), { found: false });
  const missing = await q({ number: a.number, name: a.name });
  t.is(missing.statusCode, 400);
  t.false(missing.body.includes(a.name) || missing.body.includes(a.number));
  const long = await q({ number: a.number, name: a.name, idNo: a.idNo.repeat(4) });
  t.is(long.statusCode, 400);
  t.false(long.body.includes(a.idNo), 'a refused value is not echoed');
  for (const r of [right, wrongId]) t.false(r.body.includes(a.idNo) || r.body.includes(a.name), r.body);
  // eight a minute per client (refused ones count): the ninth is refused, another client is not
  const limited = await q({ number: a.number, name: a.name, idNo: a.idNo });
  t.is(limited.statusCode, 429, limited.body);
  t.deepEqual((await q({ number: a.number, name: a.name, idNo: a.idNo }, '10.0.0.2')).json(), { found: true, status: 'issued' });
});

test('the page is served under a strict Content-Security-Policy and loads no inline script', async (t) => {
  for (const url of ['/', '/v?n=S000011084012265000001']) {
    const r = await app.inject({ url });
    t.is(r.statusCode, 200);
    const csp = String(r.headers['content-security-policy']);
    t.regex(csp, /default-src 'none'/);
    t.regex(csp, /script-src 'self'(;|$)/);
    t.notRegex(csp, /unsafe-inline|unsafe-eval|https?:/);
    t.is(r.headers['referrer-policy'], 'no-referrer');
    t.notRegex(r.body, /<script(?![^>]*\bsrc=)[^>]*>/, 'every script has a src');
    t.notRegex(r.body, /\son[a-z]+=/i, 'no inline event handler');
    t.notRegex(r.body, /(src|href)="(https?:)?\/\//, 'nothing from another host');
  }
  t.deepEqual((await app.inject({ url: '/site.json' })).json(), { service: true });
  const list = (await app.inject({ url: '/trust.json' })).json<{ organisations: { orgCode: string; certificates: string[] }[] }>();
  t.deepEqual(list.organisations.map((o) => o.orgCode), ['0000']);
  t.regex(list.organisations[0]!.certificates[0]!, /^-----BEGIN CERTIFICATE-----/);
  for (const url of ['/status/0000-other.jwt', '/status/..%2F..%2Fetc%2Fpasswd', '/status/9999-revocation.jwt']) t.is((await app.inject({ url })).statusCode, 404, url);
});

test.after('no log line carries an ID number, a queried name or the PDF', (t) => {
  const log = logLines.join('');
  t.true(logLines.length > 10, 'requests were logged');
  for (const c of issued.certs) {
    t.false(log.includes(c.idNo), 'ID number');
    t.false(log.includes(c.idNo.slice(6, 14)), 'birth date part of the ID number');
    t.false(log.includes(c.name), 'name');
  }
  t.false(log.includes('%PDF'), 'PDF bytes');
  t.notRegex(log, /"body"|"headers"/);
});

test('a malformed JSON body gets a 400 with a reason, not a stack trace', async (t) => {
  const r = await app.inject({ method: 'POST', url: '/api/query', headers: { 'content-type': 'application/json' }, payload: '{"number":' });
  t.is(r.statusCode, 400);
  t.notRegex(r.body, /at .*\.js:\d+/);
  t.truthy(r.json<{ reason: string }>().reason);
});
