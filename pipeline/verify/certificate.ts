/**
 * `skillcert verify`: one verdict per certificate, from every check a verifier needs (SPEC §6):
 * the signature covers the whole file and its digest matches, the signer chains to a trust anchor and was valid
 * at signing time, the QR code verifies and agrees with what the page prints in the field boxes of its style's
 * parameter sheet (fields.ts), the number is well formed for its jurisdiction, and the registry's status.
 * The QR code is read from the page's own drawing operators (page.ts, vector-qr.ts), no rendering; only a page
 * whose QR box is not vector rectangles is rendered at 150 dpi and decoded with zbarimg, as from paper.
 * Verdicts follow EU DSS: valid (every check passed), invalid (one failed), indeterminate (none failed, some
 * could not be decided).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { validateAny } from '../number/index.js';
import { openRegistry, type Registry, type StatusReport } from '../registry/index.js';
import { fail, pass, unknown, type Check } from '../core/check.js';
import { buildPath, certFromDer, cn, parseAnchors } from '../pki/chain.js';
import { pemCertificates } from '../pki/pem.js';
import { pdfDocumentOf, pdfSignerCertificate, verifyPdfSignatures, type SignatureReport } from './pdf-signature.js';
import { decodeQrFromPng, keysFromCertificates, type QrPayload } from './qr.js';
import { SkillcertError } from '../core/errors.js';
import { verifyQrText } from '../stamp/qr.js';
import { PDFDocument } from '../pdf/lib.js';
import { PT_PER_MM, type Sheet } from '../render/sheet.js';
import { printedFieldsCheck, sheetOfPage } from './fields.js';
import { readPage, type PageDrawing } from './page.js';
import { qrFromDrawing } from './vector-qr.js';
import { statusListCheck } from './status-list.js';

export type Verdict = 'valid' | 'invalid' | 'indeterminate';

/** What a status source (the registry) says of the certificate; `not checked` when the verifier has none. */
export type CertificateStatus = 'issued' | 'revoked' | 'suspended' | 'superseded' | 'unknown' | 'pending' | 'not checked';

export interface FileVerdict {
  readonly file: string;
  /** From the checks of the file itself and, when one was given, the status source's answer. */
  readonly verdict: Verdict;
  readonly number?: string;
  /**
   * The certificate's status, apart from the verdict: a verifier without a registry (an HR desk) still tells a
   * genuine certificate (valid, status not checked) from a changed or forged one (invalid).
   */
  readonly status?: CertificateStatus;
  readonly checks: readonly Check[];
  /** Each signature and document timestamp with its ETSI EN 319 102-1 indication and PAdES level. */
  readonly signatures?: readonly SignatureReport[];
}

/** What the status check asks of a registry: `skillcert serve`'s verification threads ask the service's one. */
export type StatusSource = Pick<Registry, 'status'>;

export interface VerifyOptions {
  /** PEM text of the trust anchors. */
  readonly trustAnchors: readonly string[];
  /** The registry (a SQLite path, or an open one) for the status check; without it that check is indeterminate. */
  readonly registry?: string | StatusSource;
  /** Verification time (default: now, read by the caller). */
  readonly at?: Date;
  /** Organisation certificates (PEM) whose keys may sign QR codes; the PDF's own signer is always one. */
  readonly orgCertificates?: readonly string[];
  /** Fetch fresh revocation data besides the file's DSS. */
  readonly online?: boolean;
  /** Signed status lists (JWS texts, loadStatusLists): the `status.list` check, without a registry too. */
  readonly statusLists?: readonly string[];
}

export function verdictOf(checks: readonly Check[]): Verdict {
  if (checks.some((c) => c.ok === false)) return 'invalid';
  return checks.some((c) => c.ok === null) ? 'indeterminate' : 'valid';
}

export function numberCheck(number: string): Check {
  const v = validateAny(number);
  return v.ok ? pass('number.format', `${number} is a well-formed ${v.rule.name} number`) : fail('number.format', `${number} is not a valid ${v.rule.name} number: ${v.message}`);
}

export function statusOf(s: StatusReport): CertificateStatus {
  if (s.status === 'unknown' || s.status === 'revoked') return s.status;
  if (s.status === 'issued' && s.suspendedAt) return 'suspended';
  if (s.status === 'numbered' || s.pendingRender) return 'pending';
  return s.digest === 'current' ? 'issued' : s.digest === 'superseded' ? 'superseded' : 'unknown';
}

/** The status source's answer for a certificate (and this PDF's digest): its check, or `not checked` without one. */
async function statusFrom(registry: StatusSource | undefined, number: string, sha256?: string): Promise<{ check?: Check; status: CertificateStatus }> {
  if (!registry) return { status: 'not checked' };
  const s = await registry.status(number, sha256);
  return { check: registryCheck(s), status: statusOf(s) };
}

export function registryCheck(s: StatusReport): Check {
  if (s.status === 'unknown') return fail('registry.status', `the registry has no certificate ${s.number}`);
  if (s.status === 'revoked') return fail('registry.status', `certificate ${s.number} was revoked${s.revokedAt ? ` on ${s.revokedAt.slice(0, 10)}` : ''}${s.revokeReason ? `: ${s.revokeReason}` : ''} (第十八条)`);
  if (s.suspendedAt) return fail('registry.status', `certificate ${s.number} is suspended since ${s.suspendedAt.slice(0, 10)} (第二十条: queries of suspicious certificate data are suspended)`);
  if (s.status === 'numbered') return unknown('registry.status', `certificate ${s.number} is numbered but its signed PDF is not recorded yet`);
  if (s.digest === 'superseded') return fail('registry.status', `this PDF of ${s.number} was superseded${s.corrected ? ' by a correction (第十七条)' : s.lastReissue ? ' by a reissue (第二十二条)' : ''}; the current one has SHA-256 ${s.currentSha256?.slice(0, 16)}…`);
  if (s.digest === 'unknown') return fail('registry.status', `certificate ${s.number} is registered, but this PDF is not one the registry issued (its SHA-256 is unknown)`);
  const extra = s.pendingRender ? '; a correction or reissue is pending, this PDF will be superseded' : s.corrected ? '; corrected, and this is the current version' : '';
  return s.pendingRender ? unknown('registry.status', `issued${extra}`) : pass('registry.status', `issued and current in the registry${extra}`);
}

/**
 * Runs a tool with the bytes on its standard input and returns its standard output: the PDF (an upload to the
 * service, too) is never written to disk. Exit codes in `quiet` mean "nothing found" and yield an empty output.
 */
function piped(cmd: string, args: readonly string[], input: Uint8Array, quiet: readonly number[] = []): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {}); // a tool that stops reading early (a broken PDF) closes its input: its exit code says why
    child.on('error', (e: NodeJS.ErrnoException) => reject(new SkillcertError('E_VERIFY', e.code === 'ENOENT' ? `${cmd} is not installed` : `${cmd} failed: ${e.message}`, {}, { cause: e })));
    child.on('close', (code) => {
      if (code === 0) return resolvePromise(Buffer.concat(out));
      if (code !== null && quiet.includes(code)) return resolvePromise(Buffer.alloc(0));
      reject(new SkillcertError('E_VERIFY', `${cmd} failed (exit ${code ?? 'killed'}): ${Buffer.concat(err).toString('utf8').trim().split('\n')[0] ?? ''}`));
    });
    child.stdin.end(input);
  });
}

async function qrFromPage(pdf: Uint8Array): Promise<string[]> {
  const png = await piped('pdftoppm', ['-r', '150', '-png', '-f', '1', '-l', '1', '-singlefile', '-'], pdf);
  // zbarimg exits 4 when the image holds no symbol; --raw ends each symbol with a newline.
  const text = await piped('zbarimg', ['--raw', '-q', '--nodbus', '-Sdisable', '-Sqrcode.enable', '-'], png, [4]);
  return text.toString('utf8').split('\n').filter((l) => l.length > 0);
}

async function withRegistry<T>(r: VerifyOptions['registry'], f: (reg: StatusSource | undefined) => Promise<T>): Promise<T> {
  if (r === undefined || typeof r !== 'string') return f(r);
  const reg = await openRegistry(r);
  try {
    return await f(reg);
  } finally {
    await reg.close();
  }
}

/** Page 1's drawing and the parameter sheet it follows, or why they cannot be had. */
async function pageOf(bytes: Uint8Array): Promise<{ drawing?: PageDrawing; sheet?: Sheet; problem?: string }> {
  let drawing: PageDrawing;
  try {
    // A file pdf-lib could not read for the signatures is loaded again here, for the reason in the message.
    drawing = readPage((await pdfDocumentOf(bytes)) ?? (await PDFDocument.load(bytes, { ignoreEncryption: true, updateMetadata: false, throwOnInvalidObject: false })));
  } catch (err) {
    return { problem: `the page's drawing cannot be read (${(err as Error).message.split('\n')[0]})` };
  }
  const found = sheetOfPage(drawing);
  return 'sheet' in found ? { drawing, sheet: found.sheet } : { drawing, problem: found.message };
}

/** The QR box of the sheet with room for its quiet zone (4 modules, about 1.4 mm) and a pasted one's margin. */
const QR_MARGIN_MM = 3;
function qrArea(sheet: Sheet, media: PageDrawing['media']) {
  const box = sheet.images.find((i) => i.kind === 'qr');
  if (!box) return undefined;
  return {
    x0: media.x0 + (box.x - QR_MARGIN_MM) * PT_PER_MM, x1: media.x0 + (box.x + box.w + QR_MARGIN_MM) * PT_PER_MM,
    y0: media.y1 - (box.y + box.h + QR_MARGIN_MM) * PT_PER_MM, y1: media.y1 - (box.y - QR_MARGIN_MM) * PT_PER_MM,
  };
}

async function verifyOne(file: string, opts: VerifyOptions, registry: StatusSource | undefined): Promise<FileVerdict> {
  return verifyBytes(await readFile(file), file, opts, registry);
}

/**
 * Verifies one PDF held in memory (an upload to `skillcert serve`): the same checks and verdict as verifyFiles,
 * under `label`; never throws for a bad file: an unreadable one is invalid, "not a readable PDF".
 */
export async function verifyPdfBytes(bytes: Uint8Array, label: string, opts: VerifyOptions): Promise<FileVerdict> {
  // A PDF starts with %PDF- within its first 1024 bytes (ISO 32000-1 §7.5.2, as readers accept it).
  if (!Buffer.from(bytes.subarray(0, 1024)).includes('%PDF-')) return { file: label, verdict: 'invalid', checks: [fail('file.readable', 'not a readable PDF: no %PDF- header')] };
  return withRegistry(opts.registry, async (registry) => {
    try {
      return await verifyBytes(bytes, label, opts, registry);
    } catch (err) {
      return { file: label, verdict: 'invalid', checks: [fail('file.readable', `not a readable PDF: ${(err as Error).message}`)] };
    }
  });
}

async function verifyBytes(bytes: Uint8Array, file: string, opts: VerifyOptions, registry: StatusSource | undefined): Promise<FileVerdict> {
  const sig = await verifyPdfSignatures(bytes, { trustAnchors: opts.trustAnchors, ...(opts.at ? { at: opts.at } : {}), ...(opts.online ? { online: true } : {}) });
  const checks: Check[] = [...sig.checks];
  const signer = await pdfSignerCertificate(bytes);
  const page = await pageOf(bytes);
  const area = page.drawing && page.sheet ? qrArea(page.sheet, page.drawing.media) : undefined;
  const vector = page.drawing && area ? qrFromDrawing(page.drawing, area) : undefined;
  let codes: string[];
  let how: string;
  if (vector?.ok) {
    codes = [vector.text];
    how = `QR code read from the page's drawing operators (${vector.modules} × ${vector.modules} modules in ${vector.rectangles} rectangles, no rendering)`;
  } else {
    // Not vector (or no sheet to find it by): as from paper, a 150 dpi render and zbarimg.
    const why = vector ? `${vector.reason}` : page.problem ?? 'the sheet has no QR box';
    codes = await qrFromPage(bytes);
    how = `QR code decoded from a 150 dpi render, because it could not be read as vector rectangles: ${why}`;
  }
  let number: string | undefined;
  let payload: QrPayload | undefined;
  if (codes.length === 0) {
    checks.push(fail('qr.decode', `no QR code could be decoded from a 150 dpi render of the page${vector && !vector.ok ? ` (${vector.reason})` : ''}`));
  } else {
    const keys = keysFromCertificates([...(signer ? [signer] : []), ...(opts.orgCertificates ?? [])]);
    const q = verifyQrText(codes[0]!, keys);
    checks.push(pass('qr.decode', `${how}${codes.length > 1 ? ` (${codes.length} codes; the first checked)` : ''}`), ...q.checks);
    if (q.payload) {
      ({ payload } = q);
      number = q.payload.number;
      checks.push(page.drawing && page.sheet ? printedFieldsCheck(q.payload, page.drawing, page.sheet) : fail('qr.printedText', `the printed text cannot be compared with the QR code: ${page.problem}`));
    }
  }
  let status: CertificateStatus | undefined;
  if (number) {
    checks.push(numberCheck(number));
    const found = await statusFrom(registry, number, createHash('sha256').update(bytes).digest('hex'));
    if (found.check) checks.push(found.check);
    // The lists must be signed by the certificate that signed this PDF (its chain is checked above), or by one of the
    // organisation certificates given for QR codes (a key rotated since), as for the QR signature.
    const listed = payload && (await statusListCheck(payload, opts.statusLists, [...(signer ? [signer] : []), ...(opts.orgCertificates ?? [])], opts.at));
    if (listed) checks.push(listed.check);
    status = found.status === 'not checked' && listed?.status ? listed.status : found.status;
  }
  return { file, verdict: verdictOf(checks), ...(number ? { number } : {}), ...(status ? { status } : {}), checks, signatures: sig.signatures };
}

/** Verifies PDFs (files, or every .pdf in a folder), each independently: one bad file never hides another. */
export async function verifyFiles(paths: readonly string[], opts: VerifyOptions): Promise<FileVerdict[]> {
  const files: string[] = [];
  for (const p of paths) {
    if ((await stat(p)).isDirectory()) files.push(...(await readdir(p)).filter((f) => f.toLowerCase().endsWith('.pdf')).sort().map((f) => join(p, f)));
    else files.push(p);
  }
  return withRegistry(opts.registry, async (registry) => {
    const out: FileVerdict[] = [];
    for (const f of files) {
      try {
        out.push(await verifyOne(f, opts, registry));
      } catch (err) {
        out.push({ file: f, verdict: 'invalid', checks: [fail('file.readable', `cannot verify ${f}: ${(err as Error).message}`)] });
      }
    }
    return out;
  });
}

/** Verifies a QR code alone (its text, or a photo/scan of the paper): signature, number, registry. */
export async function verifyQr(input: { text?: string; png?: string }, opts: VerifyOptions): Promise<FileVerdict> {
  const label = input.png ?? 'QR text';
  // A QR text never contains a line break (URL and base45); one pasted or decoded across lines is joined.
  const texts = (input.text !== undefined ? [input.text] : input.png ? await decodeQrFromPng(input.png) : []).map((t) => t.replace(/[\r\n]+/g, ''));
  if (texts.length === 0) return { file: label, verdict: 'invalid', checks: [fail('qr.decode', `no QR code found in ${label}`)] };
  // Only an organisation certificate that chains to a trust anchor may vouch for a QR code: a certificate anyone
  // can make is no evidence.
  const anchors = parseAnchors(opts.trustAnchors);
  const checks: Check[] = [];
  // Each PEM is an organisation certificate, optionally followed by the CA certificates on its way to an anchor.
  const trusted = (opts.orgCertificates ?? []).flatMap((pem) => {
    const [cert, ...intermediates] = pemCertificates(pem).map(certFromDer);
    if (!cert) return [];
    const path = buildPath(cert, intermediates, anchors);
    if (!path.ok) checks.push(fail('qr.issuer', `the organisation certificate "${cn(cert)}" is not trusted: ${path.message}`));
    return path.ok ? [cert] : [];
  });
  const q = verifyQrText(texts[0]!, keysFromCertificates(trusted.map((cert) => cert.x509)));
  checks.push(...q.checks);
  let status: CertificateStatus | undefined;
  if (q.payload) {
    checks.push(pass('qr.address', `the code was found behind ${q.url}; a genuine code points to the organisation's own verification address`));
    checks.push(numberCheck(q.payload.number));
    const found = await withRegistry(opts.registry, (reg) => statusFrom(reg, q.payload!.number));
    if (found.check) checks.push(found.check);
    const listed = await statusListCheck(q.payload, opts.statusLists, trusted.map((cert) => cert.x509), opts.at);
    if (listed) checks.push(listed.check);
    status = found.status === 'not checked' && listed?.status ? listed.status : found.status;
  }
  return { file: label, verdict: verdictOf(checks), ...(q.payload ? { number: q.payload.number } : {}), ...(status ? { status } : {}), checks };
}
