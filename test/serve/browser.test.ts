/**
 * The verification page in a real browser (issue 14, part 5): the system Chromium through puppeteer-core, the real
 * service on a loopback port, certificates from a real run. Every page state a verifier meets: a PDF dropped
 * (valid, one byte changed, revoked), the QR landing (a good fragment, one character changed, from the service
 * and from the static copy of publish-verifier), a photo of the paper, the query with right and wrong triples and
 * its rate limit — and every request the server receives is recorded, to show the fragment never reaches it.
 * UPDATE_SCREENSHOTS=1 writes the README's screenshots to docs/.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { ROOT } from '../../pipeline/core/paths.js';
import { openRegistry, type Registry } from '../../pipeline/registry/index.js';
import { CHROMIUM } from '../../pipeline/render/browser.js';
import { buildApp, buildWeb, loadTrust } from '../../pipeline/serve/index.js';
import { publishVerifier } from '../../pipeline/serve/publish.js';
import { flipSignedByte } from '../helpers/tamper.js';
import { rasterise } from '../helpers/pdf.js';
import { removeTempDirs, requireBuiltCli, tempDir } from '../helpers/cli.js';
import { changeStatus, issue, PROFILE, revoke, type Issued } from './_fixture.js';

test.before(() => requireBuiltCli());
test.after.always(removeTempDirs);

let issued: Issued;
let registry: Registry;
let app: FastifyInstance;
let base: string;
let staticSite: FastifyInstance;
let staticBase: string;
let browser: Browser;
let work: string;
/** Every request the service received: its raw URL, headers and body. */
const received: string[] = [];
/** Every request the browser made, to any host. */
const made: string[] = [];
let qrText: string;
let pagePng: string;

const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs') : undefined;

test.before(async () => {
  issued = await issue(4, 7700);
  await revoke(issued, issued.certs[2]!.number);
  await changeStatus(issued, issued.certs[3]!.number, 'suspend');
  work = tempDir('skillcert-serve-browser-');
  registry = await openRegistry(issued.registry);
  const trust = loadTrust({ profiles: [PROFILE] });
  app = await buildApp({ registry, trust, webDir: await buildWeb(), log: { level: 'silent' }, limits: { queryPerMinute: 4 } });
  app.addHook('preHandler', async (req) => {
    received.push(`${req.raw.url} ${JSON.stringify(req.headers)} ${Buffer.isBuffer(req.body) ? `<${req.body.length} bytes>` : JSON.stringify(req.body ?? '')}`);
  });
  app.addHook('onRequest', async (req) => {
    received.push(`${req.raw.url} ${JSON.stringify(req.headers)}`);
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  // The static copy, on a plain static host of its own.
  const site = join(work, 'site');
  await publishVerifier({ out: site, registry: issued.registry, profiles: [PROFILE] });
  staticSite = Fastify();
  await staticSite.register(fastifyStatic, { root: site, redirect: true });
  staticBase = await staticSite.listen({ host: '127.0.0.1', port: 0 });
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    pipe: true,
    userDataDir: join(work, 'chromium'),
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-default-apps'],
  });
  pagePng = rasterise(issued.certs[0]!.file, 150, join(work, 'page'));
  qrText = qrOf(pagePng);
});

test.after.always(async () => {
  await browser?.close();
  await app?.close();
  await staticSite?.close();
  await registry?.close();
});

async function open(url: string): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1000, height: 900 });
  page.on('request', (r) => void made.push(r.url()));
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready="true"]');
  return page;
}

async function shot(page: Page, name: string, selector: string): Promise<void> {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  const box = await page.$(selector);
  await box!.screenshot({ path: join(SCREENSHOTS, name) as `${string}.png` });
}

async function dropPdf(page: Page, file: string): Promise<{ verdict: string; text: string }> {
  const input = await page.$('#pdf-input');
  await input!.uploadFile(file);
  const v = await page.waitForSelector('#pdf-result [data-verdict]', { timeout: 30_000 });
  return { verdict: (await v!.evaluate((e) => e.getAttribute('data-verdict')))!, text: await page.$eval('#pdf-result', (e) => e.textContent ?? '') };
}

const qrOf = (png: string) => execFileSync('zbarimg', ['--raw', '-q', '--nodbus', png], { encoding: 'utf8' }).trim();
/** The demo profile's QR address is the service's default port; the test's service listens elsewhere. */
const landingUrl = (origin: string, text = qrText) => text.replace(/^HTTP:\/\/127\.0\.0\.1:8480/, origin.replace(/\/$/, ''));

async function land(url: string): Promise<{ verdict: string; text: string; page: Page }> {
  const page = await open(url);
  const v = await page.waitForSelector('#qr-result [data-verdict]');
  return { verdict: (await v!.evaluate((e) => e.getAttribute('data-verdict')))!, text: await page.$eval('#qr-result', (e) => e.textContent ?? ''), page };
}

test.serial('a dropped certificate PDF is shown valid, with every check below the verdict', async (t) => {
  const page = await open(base);
  const r = await dropPdf(page, issued.certs[0]!.file);
  t.is(r.verdict, 'valid', r.text);
  t.regex(r.text, /有效 · VALID/);
  t.regex(r.text, new RegExp(issued.certs[0]!.number));
  for (const id of ['signature.wholeFile', 'signer.trusted', 'qr.printedText', 'number.format', 'registry.status']) t.regex(r.text, new RegExp(`${id.replace('.', '\\.')}: `), id);
  t.is(await page.$$eval('#pdf-result li.fail', (l) => l.length), 0);
  await shot(page, 'serve-valid.png', '#pdf');
  await page.close();
});

test.serial('a PDF with one byte changed is shown invalid, saying why', async (t) => {
  const file = join(work, 'tampered.pdf');
  writeFileSync(file, flipSignedByte(readFileSync(issued.certs[1]!.file)).bytes);
  const page = await open(base);
  const r = await dropPdf(page, file);
  t.is(r.verdict, 'invalid', r.text);
  t.regex(r.text, /无效 · INVALID/);
  t.regex(r.text, /signature\.digest: /);
  t.true((await page.$$eval('#pdf-result li.fail', (l) => l.map((e) => e.getAttribute('data-check')))).includes('signature.digest'));
  await shot(page, 'serve-invalid.png', '#pdf');
  await page.close();
});

test.serial('a revoked certificate is shown revoked', async (t) => {
  const page = await open(base);
  const r = await dropPdf(page, issued.certs[2]!.file);
  t.is(r.verdict, 'revoked', r.text);
  t.regex(r.text, /已撤销 · REVOKED/);
  t.regex(r.text, /测试/);
  await shot(page, 'serve-revoked.png', '#pdf');
  await page.close();
});

test.serial('a suspended certificate is shown suspended', async (t) => {
  const page = await open(base);
  const r = await dropPdf(page, issued.certs[3]!.file);
  t.is(r.verdict, 'suspended', r.text);
  t.regex(r.text, /已暂停 · SUSPENDED/);
  t.regex(r.text, /第二十条/);
  await page.close();
});

test.serial('a file that is not a PDF is shown "invalid: not a readable PDF"', async (t) => {
  const file = join(work, 'not.pdf');
  writeFileSync(file, 'this is not a PDF');
  const page = await open(base);
  const r = await dropPdf(page, file);
  t.is(r.verdict, 'invalid');
  t.regex(r.text, /not a readable PDF/);
  await page.close();
});

test.serial('the QR landing verifies the signed payload in the browser and shows the masked holder data', async (t) => {
  const c = issued.certs[0]!;
  t.true(qrText.startsWith(`HTTP://127.0.0.1:8480/v?n=${c.number}#SC1:`), qrText);
  const page = await open(landingUrl(base));
  const v = await page.waitForSelector('#qr-result [data-verdict]');
  const text = await page.$eval('#qr-result', (e) => e.textContent ?? '');
  t.is(await v!.evaluate((e) => e.getAttribute('data-verdict')), 'valid', text);
  t.regex(text, /请与纸质证书核对/);
  t.regex(text, /Compare with the paper/);
  t.true(text.includes(c.name));
  t.true(text.includes(`${c.idNo.slice(0, 4)}**********${c.idNo.slice(-4)}`), 'the masked ID number');
  t.false(text.includes(c.idNo), 'never the whole ID number');
  t.regex(text, /qr\.signature: signed by /);
  t.regex(text, /status\.list: neither revoked nor suspended in the organisation's signed status lists/);
  await shot(page, 'serve-qr.png', '#qr');
  await page.close();
});

test.serial('the QR landing says revoked and suspended from the signed status lists, from the service and from the static copy', async (t) => {
  const revokedQr = qrOf(rasterise(issued.certs[2]!.file, 150, join(work, 'revoked')));
  const suspendedQr = qrOf(rasterise(issued.certs[3]!.file, 150, join(work, 'suspended')));
  for (const origin of [base, staticBase]) {
    const r = await land(landingUrl(origin, revokedQr));
    t.is(r.verdict, 'revoked', `${origin}: ${r.text}`);
    t.regex(r.text, /status\.list: certificate .* is revoked in the organisation's signed revocation list/);
    if (origin === base) await shot(r.page, 'serve-qr-revoked.png', '#qr');
    await r.page.close();
    const s = await land(landingUrl(origin, suspendedQr));
    t.is(s.verdict, 'suspended', `${origin}: ${s.text}`);
    await s.page.close();
  }
});

test.serial('a QR fragment with one character changed is rejected', async (t) => {
  const url = landingUrl(base);
  const at = url.indexOf('#SC1:') + 40;
  const changed = `${url.slice(0, at)}${url[at] === 'A' ? 'B' : 'A'}${url.slice(at + 1)}`;
  const page = await open(changed);
  const v = await page.waitForSelector('#qr-result [data-verdict]');
  const text = await page.$eval('#qr-result', (e) => e.textContent ?? '');
  t.is(await v!.evaluate((e) => e.getAttribute('data-verdict')), 'invalid', text);
  t.regex(text, /qr\.(signature|format): /);
  t.false(text.includes(issued.certs[0]!.name), 'no unverified holder data is shown');
  await page.close();
});

test.serial('the QR landing works from the static copy of publish-verifier too', async (t) => {
  const page = await open(landingUrl(staticBase));
  const v = await page.waitForSelector('#qr-result [data-verdict]');
  const text = await page.$eval('#qr-result', (e) => e.textContent ?? '');
  t.is(await v!.evaluate((e) => e.getAttribute('data-verdict')), 'valid', text);
  // the static copy says what needs the service
  t.false(await page.$eval('#pdf-static', (e) => (e as unknown as { hidden: boolean }).hidden));
  t.true(await page.$eval('#dropzone', (e) => (e as unknown as { hidden: boolean }).hidden));
  await page.close();
});

test.serial('a photo of the paper is read and verified in the browser', async (t) => {
  const page = await open(base);
  const input = await page.$('#photo-input');
  await input!.uploadFile(pagePng);
  const v = await page.waitForSelector('#photo-result [data-verdict]', { timeout: 30_000 });
  const text = await page.$eval('#photo-result', (e) => e.textContent ?? '');
  t.is(await v!.evaluate((e) => e.getAttribute('data-verdict')), 'valid', text);
  t.true(text.includes(issued.certs[0]!.number));
  await page.close();
});

test.serial('the query form answers the status for the right triple, "no such certificate" otherwise, and is rate-limited', async (t) => {
  const [a, , revoked, suspended] = issued.certs as [Issued['certs'][0], Issued['certs'][0], Issued['certs'][0], Issued['certs'][0]];
  const page = await open(base);
  const ask = async (number: string, name: string, idNo: string) => {
    await page.$eval('#query-result', (e) => e.replaceChildren());
    for (const [field, value] of [['number', number], ['name', name], ['idNo', idNo]] as const) {
      await page.$eval(`#query-form [name=${field}]`, (e, v) => ((e as unknown as { value: string }).value = v), value);
    }
    await page.click('#query-form button');
    const el = await page.waitForSelector('#query-result .verdict');
    return { answer: await el!.evaluate((e) => e.getAttribute('data-answer') ?? e.className), text: await el!.evaluate((e) => e.textContent ?? '') };
  };
  const right = await ask(a.number, a.name, a.idNo);
  t.is(right.answer, 'issued', right.text);
  t.regex(right.text, /matches: .*issued/);
  await shot(page, 'serve-query.png', '#query');
  t.is((await ask(revoked.number, revoked.name, revoked.idNo)).answer, 'revoked');
  t.is((await ask(suspended.number, suspended.name, suspended.idNo)).answer, 'suspended');
  const wrong = await ask(a.number, a.name, revoked.idNo);
  t.is(wrong.answer, 'none');
  t.regex(wrong.text, /no such certificate/);
  // four a minute: the fifth is refused
  const limited = await ask(a.number, a.name, a.idNo);
  t.regex(limited.text, /too many queries/);
  await page.close();
});

test.after.always('the fragment never reached the server, and the page asked no other host', (t) => {
  if (!qrText) return t.pass();
  const payload = qrText.slice(qrText.indexOf('#SC1:') + 5);
  t.true(received.length > 20, `${received.length} requests recorded`);
  for (const r of received) {
    t.false(r.includes('SC1'), r.slice(0, 200));
    // not even a piece of it (a space in it is %20 in a URL)
    for (let i = 0; i + 24 <= payload.length; i += 24) t.false(r.includes(payload.slice(i, i + 24).replace(/ /g, '%20')), r.slice(0, 200));
  }
  const hosts = new Set(made.map((u) => new URL(u).origin));
  t.deepEqual([...hosts].sort(), [new URL(base).origin, new URL(staticBase).origin].sort());
  return undefined;
});
