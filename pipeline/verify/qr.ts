/**
 * The QR part of verification: decoding the code from a picture (zbarimg) and checking its payload.
 * The codec itself (parse, signature) is in pipeline/stamp/qr.ts, shared with the signing side.
 */
import { execFile } from 'node:child_process';
import { SkillcertError } from '../core/errors.js';
import { keysFromCertificates, verifyQrText, type KeyForKid, type QrPayload } from '../stamp/qr.js';
import type { Check } from '../core/check.js';

export { keysFromCertificates, parseQrText, verifyQrText, type KeyForKid, type QrPayload } from '../stamp/qr.js';

/** Checks a decoded QR text against the organisation keys: format, known key id, signature. */
export function verifyQrCode(text: string, keyForKid: KeyForKid): { checks: Check[]; payload?: QrPayload } {
  return verifyQrText(text, keyForKid);
}

/** Convenience: the keys are the organisations' certificates (PEM). */
export function verifyQrCodeWithCertificates(text: string, certificatePems: readonly string[]): { checks: Check[]; payload?: QrPayload } {
  return verifyQrText(text, keysFromCertificates(certificatePems));
}

/**
 * Decodes every QR code in an image file with `zbarimg --raw -q` (PNG, JPEG, …; a page rendered with
 * `pdftoppm -r 150 -png`, or a photo of the paper). Returns [] when there is none.
 */
export function decodeQrFromPng(file: string, opts: { timeoutMs?: number } = {}): Promise<string[]> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      'zbarimg',
      ['--raw', '-q', '--nodbus', '-Sdisable', '-Sqrcode.enable', file],
      { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 4 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        // zbarimg exits 4 when the image holds no symbol.
        if (err && (err as { code?: unknown }).code === 4) return resolvePromise([]);
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          return reject(
            new SkillcertError('E_VERIFY', code === 'ENOENT' ? 'zbarimg is not installed (Debian package zbar-tools)' : `zbarimg failed on ${file}: ${stderr.trim() || err.message}`, {}, { cause: err }),
          );
        }
        // --raw ends each symbol with a newline; our payloads never contain one.
        resolvePromise(stdout.split('\n').filter((l) => l.length > 0));
      },
    );
  });
}
