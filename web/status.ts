/**
 * The certificate's status on the QR landing, from the organisation's signed status lists (W3C Bitstring Status
 * List semantics, herd privacy: the page fetches the organisation's two lists whole, from its own folder, and
 * never asks about one certificate). The lists are verified here with the status room's own pure code
 * (pipeline/status/credential.ts, jose + WebCrypto) against the organisation's certificates of trust.json.
 */
import { bitAt } from '../pipeline/status/bitstring.js';
import { statusListFile, verifyStatusList, type StatusPurpose } from '../pipeline/status/credential.js';
import type { Organisation, PageCheck, QrClaims } from './qr.js';

export interface StatusAnswer {
  /** issued (neither revoked nor suspended), revoked, suspended, or not checked. */
  readonly status: string;
  readonly check: PageCheck;
}

const notChecked = (message: string): StatusAnswer => ({ status: 'not checked', check: { id: 'status.list', ok: null, message: `not checked: ${message}` } });

async function list(org: Organisation, purpose: StatusPurpose, here: (path: string) => string): Promise<Uint8Array | string> {
  const res = await fetch(here(`status/${statusListFile(org.orgCode, purpose)}`), { cache: 'no-cache' }).catch(() => undefined);
  if (!res || !res.ok) return `no ${purpose} list of organisation ${org.orgCode} is published here`;
  try {
    const v = await verifyStatusList(await res.text(), org.certificates);
    if (v.orgCode !== org.orgCode || v.purpose !== purpose) return `the ${purpose} list is not organisation ${org.orgCode}'s`;
    return v.list;
  } catch (err) {
    return (err as Error).message;
  }
}

export async function statusOf(claims: QrClaims, org: Organisation, here: (path: string) => string): Promise<StatusAnswer> {
  if (claims.statusIndex === undefined) return notChecked('no status index in this QR code (a certificate from before status lists)');
  const index = claims.statusIndex;
  const [revocation, suspension] = await Promise.all([list(org, 'revocation', here), list(org, 'suspension', here)]);
  if (typeof revocation === 'string') return notChecked(revocation);
  if (typeof suspension === 'string') return notChecked(suspension);
  let revoked: boolean;
  let suspended: boolean;
  try {
    revoked = bitAt(revocation, index);
    suspended = bitAt(suspension, index);
  } catch (err) {
    return notChecked((err as Error).message);
  }
  if (revoked) return { status: 'revoked', check: { id: 'status.list', ok: false, message: `certificate ${claims.number} is revoked in the organisation's signed revocation list (第十八条)` } };
  if (suspended) return { status: 'suspended', check: { id: 'status.list', ok: false, message: `certificate ${claims.number} is suspended in the organisation's signed suspension list (第二十条)` } };
  return { status: 'issued', check: { id: 'status.list', ok: true, message: `neither revoked nor suspended in the organisation's signed status lists (index ${index})` } };
}
