/**
 * The signed status lists the service serves and publish-verifier copies (contract of issue 14): for each
 * organisation of the trust list, `<orgCode>-revocation.jwt` and `<orgCode>-suspension.jwt`, as the registry holds
 * them (signed by the batch and by every command that changes a status, pipeline/status/).
 */
import type { Registry } from '../registry/index.js';
import { STATUS_PURPOSES, statusListFile, type StatusPurpose } from '../status/credential.js';
import type { TrustList } from './trust.js';

/** A status list file name, parsed: `0000-revocation.jwt` → { orgCode, purpose }. */
export function parseStatusFile(name: string): { orgCode: string; purpose: StatusPurpose } | undefined {
  const m = /^([0-9A-Z]{1,16})-(revocation|suspension)\.jwt$/.exec(name);
  return m ? { orgCode: m[1]!, purpose: m[2] as StatusPurpose } : undefined;
}

export async function statusListFiles(registry: Registry, list: TrustList): Promise<{ name: string; jws: string }[]> {
  const out: { name: string; jws: string }[] = [];
  // The lists are kept by organisation code, which several organisations of the list may share (0000).
  for (const orgCode of new Set(list.organisations.map((o) => o.orgCode))) {
    for (const p of STATUS_PURPOSES) {
      const jws = await registry.statusList(orgCode, p);
      if (jws) out.push({ name: statusListFile(orgCode, p), jws });
    }
  }
  return out;
}
