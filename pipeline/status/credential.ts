/**
 * The signed status list: a W3C BitstringStatusListCredential (VC Data Model 2.0) as a compact JWS
 * (VC-JOSE-COSE: the credential is the JWS payload, `typ: "vc+jwt"`), signed with the organisation's key
 * (ES256 for EC P-256, PS256 for RSA, the same keys as the QR code's COSE signature) and carrying the
 * organisation's certificate in `x5c`.
 *
 * One list per organisation and purpose (revocation, suspension), published at
 * <verifier>/status/<orgCode>-<purpose>.jwt and written to <out>/status/. A verifier fetches both lists of the
 * QR payload's organisation (claim 7) and reads the bit at the certificate's status list index (claim 8).
 *
 * Pure except for being handed keys: jose, zod and bitstring.ts run in Node and in browsers, so the verification
 * page imports this file as it is. The signing side (node:crypto keys) is sign.ts.
 */
import { compactVerify, decodeProtectedHeader, importX509 } from 'jose';
import { z } from 'zod';
import { SkillcertError } from '../core/errors.js';
import { pemCertificatesBase64 } from '../pki/pem.js';
import { decodeList } from './bitstring.js';

export const STATUS_PURPOSES = ['revocation', 'suspension'] as const;
export type StatusPurpose = (typeof STATUS_PURPOSES)[number];

export const VC_CONTEXT = 'https://www.w3.org/ns/credentials/v2';
export const STATUS_LIST_TYP = 'vc+jwt';

/** The issuer of an organisation's lists (and the key to its entry in trust.json). */
export const orgIssuer = (orgCode: string): string => `urn:skillcert:org:${orgCode}`;
/** The credential's id: host-independent, since the same list is served by the service and by static copies. */
export const statusListId = (orgCode: string, purpose: StatusPurpose): string => `urn:skillcert:status:${orgCode}:${purpose}`;
/** Where a list is written (<out>/status/…) and served (GET /status/…). */
export const statusListFile = (orgCode: string, purpose: StatusPurpose): string => `${orgCode}-${purpose}.jwt`;

const ORG_CODE = /^[0-9A-Z]{1,16}$/;
const ISSUER = /^urn:skillcert:org:([0-9A-Z]{1,16})$/;
const isoDate = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s)), 'an ISO 8601 date-time');

/** The credential as signed; the schema is what a verifier accepts. */
export const StatusListCredential = z.object({
  '@context': z.array(z.string()).refine((c) => c[0] === VC_CONTEXT, `the first @context is ${VC_CONTEXT}`),
  id: z.string().min(1),
  type: z.array(z.string()).refine((t) => t.includes('VerifiableCredential') && t.includes('BitstringStatusListCredential'), 'a BitstringStatusListCredential'),
  issuer: z.string().regex(ISSUER, 'urn:skillcert:org:<orgCode>'),
  validFrom: isoDate,
  validUntil: isoDate,
  credentialSubject: z.object({
    id: z.string().min(1),
    type: z.literal('BitstringStatusList'),
    statusPurpose: z.enum(STATUS_PURPOSES),
    encodedList: z.string().startsWith('u'),
  }),
});
export type StatusListCredential = z.infer<typeof StatusListCredential>;

/** What signStatusList signs: the credential of one organisation's list for one purpose. */
export function statusListCredential(o: { orgCode: string; purpose: StatusPurpose; encodedList: string; validFrom: Date; validUntil: Date }): StatusListCredential {
  if (!ORG_CODE.test(o.orgCode)) throw new RangeError(`Expected an organisation code of digits and capital letters but received ${JSON.stringify(o.orgCode)}`);
  if (!(o.validUntil.getTime() > o.validFrom.getTime())) throw new RangeError(`Expected validUntil after validFrom but received ${o.validFrom.toISOString()} .. ${o.validUntil.toISOString()}`);
  const id = statusListId(o.orgCode, o.purpose);
  return {
    '@context': [VC_CONTEXT],
    id,
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: orgIssuer(o.orgCode),
    // Whole seconds, as a JWT would carry them.
    validFrom: new Date(Math.floor(o.validFrom.getTime() / 1000) * 1000).toISOString(),
    validUntil: new Date(Math.floor(o.validUntil.getTime() / 1000) * 1000).toISOString(),
    credentialSubject: { id: `${id}#list`, type: 'BitstringStatusList', statusPurpose: o.purpose, encodedList: o.encodedList },
  };
}

export interface VerifiedStatusList {
  readonly orgCode: string;
  readonly purpose: StatusPurpose;
  /** The bitstring: bitAt(list, statusIndex). */
  readonly list: Uint8Array;
  readonly validFrom: Date;
  readonly validUntil: Date;
}

export interface VerifyStatusListOptions {
  /** The verifier's clock (default: now): a list used outside validFrom .. validUntil is refused. */
  readonly now?: Date;
}

const fail = (message: string): never => {
  throw new SkillcertError('E_VERIFY', `status list: ${message}`, { field: 'statusList' });
};

/**
 * Verifies a status list JWS against the organisations' certificates (PEM; the trust list): the certificate in
 * x5c must be one of them, byte for byte, and its key must verify the signature; the payload must be a
 * BitstringStatusListCredential valid at `now`. Throws SkillcertError E_VERIFY saying what is wrong.
 *
 * The caller checks that `orgCode` is the organisation of the certificate being verified (QR claim 7): a genuine
 * list of another organisation says nothing about it.
 */
export async function verifyStatusList(jws: string, trusted: readonly string[], options: VerifyStatusListOptions = {}): Promise<VerifiedStatusList> {
  const now = options.now ?? new Date();
  if (typeof jws !== 'string' || jws.trim().split('.').length !== 3) fail('not a compact JWS (three base64url parts separated by dots)');
  const text = jws.trim();
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(text);
  } catch {
    return fail('its protected header cannot be read');
  }
  if (header.typ !== STATUS_LIST_TYP) fail(`its header typ is ${JSON.stringify(header.typ)}, expected "${STATUS_LIST_TYP}"`);
  const alg = header.alg;
  if (alg !== 'ES256' && alg !== 'PS256') fail(`its algorithm ${JSON.stringify(alg)} is not ES256 or PS256`);
  const x5c = header.x5c;
  if (!Array.isArray(x5c) || typeof x5c[0] !== 'string' || !x5c[0]) fail('its header has no x5c certificate of the organisation');
  const signerB64 = (x5c as string[])[0]!;
  const known = trusted.some((pem) => pemCertificatesBase64(pem).includes(signerB64));
  if (!known) fail('it is signed with a certificate that is not one of the trusted organisation certificates');

  let payload: Uint8Array;
  try {
    const key = await importX509(`-----BEGIN CERTIFICATE-----\n${signerB64}\n-----END CERTIFICATE-----`, alg as string);
    ({ payload } = await compactVerify(text, key, { algorithms: [alg as string] }));
  } catch (err) {
    return fail(`the signature does not verify with the organisation's certificate (${(err as Error).message}): the list was changed or not signed by it`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return fail('its payload is not JSON');
  }
  const parsed = StatusListCredential.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(`it is not a BitstringStatusListCredential: ${issue ? `${issue.path.join('.') || 'credential'}: ${issue.message}` : 'wrong shape'}`);
  }
  const vc = parsed.data;
  const orgCode = ISSUER.exec(vc.issuer)![1]!;
  const purpose = vc.credentialSubject.statusPurpose;
  if (vc.id !== statusListId(orgCode, purpose)) fail(`its id ${vc.id} is not the ${purpose} list of organisation ${orgCode}`);
  const validFrom = new Date(vc.validFrom);
  const validUntil = new Date(vc.validUntil);
  if (now.getTime() < validFrom.getTime()) fail(`the ${purpose} list of organisation ${orgCode} is valid only from ${vc.validFrom}`);
  if (now.getTime() > validUntil.getTime()) {
    fail(`the ${purpose} list of organisation ${orgCode} expired on ${vc.validUntil}; fetch the current one (the organisation re-signs it with \`skillcert status-lists\`)`);
  }
  const list = await decodeList(vc.credentialSubject.encodedList);
  return { orgCode, purpose, list, validFrom, validUntil };
}
