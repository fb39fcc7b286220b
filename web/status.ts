/**
 * The certificate's status on the QR landing, from the organisation's signed status lists (W3C Bitstring Status
 * List semantics, herd privacy: the page fetches whole lists, never asks about one certificate).
 */
import type { PageCheck, QrClaims } from './qr.js';

export interface StatusAnswer {
  readonly status: string;
  readonly check: PageCheck;
}

export async function statusOf(claims: QrClaims, _here: (path: string) => string): Promise<StatusAnswer> {
  if (claims.statusIndex === undefined) return { status: 'not checked', check: { id: 'status.list', ok: null, message: 'not checked: no status index in this QR code (a certificate from before status lists)' } };
  return { status: 'not checked', check: { id: 'status.list', ok: null, message: 'not checked: no status source' } };
}
