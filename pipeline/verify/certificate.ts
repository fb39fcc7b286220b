/**
 * `skillcert verify`: one verdict per certificate, from every check a verifier needs (SPEC §6):
 * the signature covers the whole file and its digest matches, the signer chains to a trust anchor and was valid
 * at signing time, the QR code (decoded from a 150 dpi render of the page, as from paper) verifies and agrees
 * with the printed text, the number is well formed for its jurisdiction, and the registry's status.
 * Verdicts follow EU DSS: valid (every check passed), invalid (one failed), indeterminate (none failed, some
 * could not be decided).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { validateAny } from '../number/index.js';
import { dateZh, EMPTY_JOB, levelLabel } from '../core/record.js';
import { openRegistry, type Registry, type StatusReport } from '../registry/index.js';
import { fail, pass, unknown, type Check } from '../core/check.js';
import { buildPath, certFromDer, cn, parseAnchors } from '../pki/chain.js';
import { pemCertificates } from '../pki/pem.js';
import { pdfSignerCertificate, verifyPdfSignature } from './pdf-signature.js';
import { decodeQrFromPng, keysFromCertificates, type QrPayload } from './qr.js';
import { SkillcertError } from '../core/errors.js';
import { verifyQrText } from '../stamp/qr.js';
import { maskId } from '../core/privacy.js';
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
}

export interface VerifyOptions {
  /** PEM text of the trust anchors. */
  readonly trustAnchors: readonly string[];
  /** The registry (a SQLite path, or an open one) for the status check; without it that check is indeterminate. */
  readonly registry?: string | Registry;
  /** Verification time (default: now, read by the caller). */
  readonly at?: Date;
  /** Organisation certificates (PEM) whose keys may sign QR codes; the PDF's own signer is always one. */
  readonly orgCertificates?: readonly string[];
  /** Signed status lists (JWS texts, loadStatusLists): the `status.list` check, without a registry too. */
  readonly statusLists?: readonly string[];
}

export function verdictOf(checks: readonly Check[]): Verdict {
  if (checks.some((c) => c.ok === false)) return 'invalid';
  return checks.some((c) => c.ok === null) ? 'indeterminate' : 'valid';
}

const compact = (s: string) => s.replace(/\s+/g, '');

/** The printed text must say what the signed QR payload says (a QR pasted from another certificate fails here). */
export function printedAgreement(payload: QrPayload, text: string): Check {
  const page = compact(text);
  const expected: [string, string][] = [
    ['证书编号', payload.number],
    ['姓名', payload.name],
    ['职业名称', payload.occupation],
    ['工种/职业方向', payload.job || EMPTY_JOB],
    ['职业技能等级', levelLabel(payload.level)],
    ['发证日期', dateZh(payload.issueDate)],
  ];
  const missing = expected.filter(([, v]) => !page.includes(compact(v))).map(([k, v]) => `${k} "${v}"`);
  // The printed ID number is whole (第八条); the QR carries it masked (第十九条): they agree when the mask matches.
  const idPrinted = text.split(/\s+/).some((token) => token.length === payload.idMasked.length && maskId(token) === payload.idMasked);
  if (!idPrinted) missing.push(`证件号码 matching ${payload.idMasked}`);
  return missing.length === 0
    ? pass('qr.printedText', 'the QR payload agrees with the printed name, ID number, occupation, job, level, number and issue date')
    : fail('qr.printedText', `the QR code does not match the printed certificate: not printed: ${missing.join(', ')} (a QR code from another certificate?)`);
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
async function statusFrom(registry: Registry | undefined, number: string, sha256?: string): Promise<{ check?: Check; status: CertificateStatus }> {
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

async function pageText(pdf: Uint8Array): Promise<string> {
  return (await piped('pdftotext', ['-enc', 'UTF-8', '-f', '1', '-l', '1', '-', '-'], pdf)).toString('utf8');
}

async function qrFromPage(pdf: Uint8Array): Promise<string[]> {
  const png = await piped('pdftoppm', ['-r', '150', '-png', '-f', '1', '-l', '1', '-singlefile', '-'], pdf);
  // zbarimg exits 4 when the image holds no symbol; --raw ends each symbol with a newline.
  const text = await piped('zbarimg', ['--raw', '-q', '--nodbus', '-Sdisable', '-Sqrcode.enable', '-'], png, [4]);
  return text.toString('utf8').split('\n').filter((l) => l.length > 0);
}

async function withRegistry<T>(r: VerifyOptions['registry'], f: (reg: Registry | undefined) => Promise<T>): Promise<T> {
  if (r === undefined || typeof r !== 'string') return f(r);
  const reg = await openRegistry(r);
  try {
    return await f(reg);
  } finally {
    await reg.close();
  }
}

async function verifyOne(file: string, opts: VerifyOptions, registry: Registry | undefined): Promise<FileVerdict> {
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

async function verifyBytes(bytes: Uint8Array, file: string, opts: VerifyOptions, registry: Registry | undefined): Promise<FileVerdict> {
  const checks: Check[] = [...(await verifyPdfSignature(bytes, { trustAnchors: opts.trustAnchors, ...(opts.at ? { at: opts.at } : {}) }))];
  const signer = await pdfSignerCertificate(bytes);
  const codes = await qrFromPage(bytes);
  let number: string | undefined;
  let payload: QrPayload | undefined;
  if (codes.length === 0) {
    checks.push(fail('qr.decode', 'no QR code could be decoded from a 150 dpi render of the page'));
  } else {
    const keys = keysFromCertificates([...(signer ? [signer] : []), ...(opts.orgCertificates ?? [])]);
    const q = verifyQrText(codes[0]!, keys);
    checks.push(pass('qr.decode', `QR code decoded from a 150 dpi render${codes.length > 1 ? ` (${codes.length} codes; the first checked)` : ''}`), ...q.checks);
    if (q.payload) {
      ({ payload } = q);
      number = q.payload.number;
      checks.push(printedAgreement(q.payload, await pageText(bytes)));
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
  return { file, verdict: verdictOf(checks), ...(number ? { number } : {}), ...(status ? { status } : {}), checks };
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
  const trusted = (opts.orgCertificates ?? []).flatMap((pem) => pemCertificates(pem).map(certFromDer)).filter((cert) => {
    const path = buildPath(cert, [], anchors);
    if (!path.ok) checks.push(fail('qr.issuer', `the organisation certificate "${cn(cert)}" is not trusted: ${path.message}`));
    return path.ok;
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
