/**
 * The status check from signed status lists (issue 14, W3C Bitstring Status List): `skillcert verify
 * --status-list FILE|URL`, for PDFs and QR codes. A verifier without the registry (an HR desk, an offline
 * reader of the paper's QR) learns revoked / suspended from the organisation's signed lists, fetched whole, so
 * nobody learns which certificate was checked.
 *
 * The lists must be signed by a trusted organisation certificate (the one that signed the PDF, or one that chains
 * to a trust anchor in QR mode), be valid at the verification time, and be the lists of the certificate's own
 * organisation (QR claim 7); both lists are needed to say "neither revoked nor suspended".
 */
import { readFile } from 'node:fs/promises';
import type { X509Certificate } from 'node:crypto';
import { fail, pass, unknown, type Check } from '../core/check.js';
import { SkillcertError } from '../core/errors.js';
import { bitAt } from '../status/bitstring.js';
import { verifyStatusList, type StatusPurpose, type VerifiedStatusList } from '../status/credential.js';
import type { QrPayload } from '../stamp/qr.js';

/** The largest list a verifier downloads: far above a list of a million certificates (gzip of 128 KB). */
const MAX_DOWNLOAD = 4 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 15_000;

/** Reads the status lists given on the command line: files, or http(s) URLs fetched whole. */
export async function loadStatusLists(sources: readonly string[]): Promise<string[]> {
  return Promise.all(sources.map(loadOne));
}

async function loadOne(source: string): Promise<string> {
  if (/^https?:\/\//i.test(source)) {
    let res: Response;
    try {
      res = await fetch(source, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'follow', headers: { accept: 'application/vc+jwt, application/jwt, text/plain' } });
    } catch (err) {
      throw new SkillcertError('E_VERIFY', `cannot fetch the status list ${source}: ${(err as Error).message}; check the address, or pass a downloaded copy as a file`, { field: 'statusList' });
    }
    if (!res.ok) throw new SkillcertError('E_VERIFY', `the status list ${source} answered HTTP ${res.status}; check the address`, { field: 'statusList' });
    const length = Number(res.headers.get('content-length') ?? 0);
    if (length > MAX_DOWNLOAD) throw new SkillcertError('E_VERIFY', `the status list ${source} is ${length} bytes, more than ${MAX_DOWNLOAD}; it is not a status list`, { field: 'statusList' });
    const text = await res.text();
    if (text.length > MAX_DOWNLOAD) throw new SkillcertError('E_VERIFY', `the status list ${source} is more than ${MAX_DOWNLOAD} bytes; it is not a status list`, { field: 'statusList' });
    return text.trim();
  }
  try {
    return (await readFile(source, 'utf8')).trim();
  } catch (err) {
    throw new SkillcertError('E_USAGE', `cannot read the status list ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; give a .jwt file or an http(s) address`, { field: 'statusList' });
  }
}

export type ListStatus = 'issued' | 'revoked' | 'suspended';

export interface StatusListResult {
  readonly check: Check;
  /** What the lists say, when they could say it. */
  readonly status?: ListStatus;
}

const ID = 'status.list';

/**
 * The `status.list` check of a verified QR payload against the given lists (JWS texts). `trusted`: the
 * organisation certificates a list may be signed with. undefined when no list was given (no check, as before).
 */
export async function statusListCheck(
  payload: QrPayload,
  lists: readonly string[] | undefined,
  trusted: readonly (string | X509Certificate)[],
  at: Date = new Date(),
): Promise<StatusListResult | undefined> {
  if (!lists || lists.length === 0) return undefined;
  const org = payload.orgCode;
  if (payload.statusIndex === undefined) {
    return { check: unknown(ID, `not checked: no status index in the QR code (certificate ${payload.number} was made before status lists); ask the organisation or use --registry`) };
  }
  const pems = trusted.map((c) => (typeof c === 'string' ? c : c.toString()));
  const found = new Map<StatusPurpose, VerifiedStatusList>();
  const problems: string[] = [];
  for (const [i, jws] of lists.entries()) {
    try {
      const v = await verifyStatusList(jws, pems, { now: at });
      if (v.orgCode !== org) continue; // another organisation's list says nothing of this certificate
      const seen = found.get(v.purpose);
      // Two lists of one purpose: the newer one counts.
      if (!seen || v.validFrom > seen.validFrom) found.set(v.purpose, v);
    } catch (err) {
      problems.push(`list ${i + 1}: ${(err as Error).message}`);
    }
  }
  const index = payload.statusIndex;
  const bit = (v: VerifiedStatusList): boolean | string => {
    try {
      return bitAt(v.list, index);
    } catch {
      return `index ${index} lies outside the ${v.purpose} list of organisation ${org} (${v.list.length * 8} bits)`;
    }
  };
  const signed = (v: VerifiedStatusList) => `signed ${v.validFrom.toISOString().slice(0, 16).replace('T', ' ')} UTC, valid until ${v.validUntil.toISOString().slice(0, 10)}`;
  const revocation = found.get('revocation');
  const suspension = found.get('suspension');
  const revoked = revocation && bit(revocation);
  const suspended = suspension && bit(suspension);
  // A set bit is an answer on its own, even when the other list is missing.
  if (revoked === true) {
    return { check: fail(ID, `certificate ${payload.number} is revoked (第十八条) according to the revocation list of organisation ${org} (${signed(revocation!)})`), status: 'revoked' };
  }
  if (suspended === true) {
    return { check: fail(ID, `certificate ${payload.number} is suspended (第二十条: queries suspended by the organisation) according to its suspension list (${signed(suspension!)})`), status: 'suspended' };
  }
  for (const b of [revoked, suspended]) if (typeof b === 'string') problems.push(b);
  if (revoked === false && suspended === false) {
    return { check: pass(ID, `neither revoked nor suspended according to the status lists of organisation ${org} (index ${index}; ${signed(revocation!)})`), status: 'issued' };
  }
  const missing = [!revocation && 'revocation', !suspension && 'suspension'].filter(Boolean).join(' and ');
  const why = [missing && `no valid ${missing} list of organisation ${org} was given`, ...problems].filter(Boolean).join('; ');
  return { check: unknown(ID, `status not decided: ${why}`) };
}
