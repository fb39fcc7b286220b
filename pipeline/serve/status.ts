/**
 * The signed status lists the service serves and publish-verifier copies (contract of issue 14): for each
 * organisation of the trust list, `<orgCode>-revocation.jwt` and `<orgCode>-suspension.jwt`, as the registry holds them.
 */
import type { Registry } from '../registry/index.js';
import type { TrustList } from './trust.js';

export const STATUS_PURPOSES = ['revocation', 'suspension'] as const;
export type StatusPurpose = (typeof STATUS_PURPOSES)[number];

/** A status list file name, parsed: `0000-revocation.jwt` → { orgCode, purpose }. */
export function parseStatusFile(name: string): { orgCode: string; purpose: StatusPurpose } | undefined {
  const m = /^(\d{4})-(revocation|suspension)\.jwt$/.exec(name);
  return m ? { orgCode: m[1]!, purpose: m[2] as StatusPurpose } : undefined;
}

/** The list the registry holds, or undefined (a registry from before status lists has none). */
export async function statusList(registry: Registry, orgCode: string, purpose: StatusPurpose): Promise<string | undefined> {
  const r = registry as Registry & { statusList?: (orgCode: string, purpose: StatusPurpose) => Promise<string | undefined> | string | undefined };
  return typeof r.statusList === 'function' ? await r.statusList(orgCode, purpose) : undefined;
}

export async function statusListFiles(registry: Registry, list: TrustList): Promise<{ name: string; jws: string }[]> {
  const out: { name: string; jws: string }[] = [];
  for (const o of list.organisations) {
    for (const p of STATUS_PURPOSES) {
      const jws = await statusList(registry, o.orgCode, p);
      if (jws) out.push({ name: `${o.orgCode}-${p}.jwt`, jws });
    }
  }
  return out;
}
