/**
 * Publishing an organisation's status lists: read the bits from the registry, sign them with the organisation's
 * key, store them in the registry (the service serves them from there) and write them to <out>/status/ (the
 * static copy and anyone who copies files). Called by the batch at its end and by every command that changes a
 * status (revoke, suspend, lifting a suspension), and by `skillcert status-lists` to re-sign before they expire.
 */
import { join } from 'node:path';
import { writeAtomic } from '../core/files.js';
import type { Registry } from '../registry/index.js';
import { listBits } from './bitstring.js';
import { STATUS_PURPOSES, statusListFile, type StatusPurpose } from './credential.js';
import { signStatusList, type StatusListSigner } from './sign.js';

/**
 * How long a list is valid: a verifier refuses it after this, so a revocation can be hidden from it for at most
 * this long by serving it an old list. The lists are re-signed at every change and by `skillcert status-lists`
 * (run it daily from cron); a week leaves room for a missed run.
 */
export const DEFAULT_VALID_DAYS = 7;

export interface PublishOptions {
  readonly orgCode: string;
  readonly signer: StatusListSigner;
  /** The run's clock: validFrom. */
  readonly now: Date;
  /** The output root: lists go to <out>/status/<orgCode>-<purpose>.jwt; omitted: only stored in the registry. */
  readonly out?: string;
  readonly validDays?: number;
}

export interface PublishedList {
  readonly purpose: StatusPurpose;
  /** The file written, when `out` was given. */
  readonly file?: string;
  /** How many bits are set (revoked / suspended certificates) and the list length. */
  readonly set: number;
  readonly bits: number;
  readonly jws: string;
}

/** Signs, stores and writes both lists of an organisation. */
export async function publishStatusLists(registry: Registry, o: PublishOptions): Promise<PublishedList[]> {
  const days = o.validDays ?? DEFAULT_VALID_DAYS;
  if (!(days > 0 && days <= 366)) throw new RangeError(`Expected a status list validity of 1-366 days but received ${days}`);
  const validUntil = new Date(o.now.getTime() + days * 86_400_000);
  const out: PublishedList[] = [];
  for (const purpose of STATUS_PURPOSES) {
    const read = await registry.statusListBits(o.orgCode, purpose);
    const bits = listBits(read.highest);
    const signed = await signStatusList({ orgCode: o.orgCode, purpose, indexes: read.indexes, bits, validFrom: o.now, validUntil }, o.signer);
    await registry.putStatusList(o.orgCode, purpose, signed, read.revision);
    // Another command may have published a newer list meanwhile: the file is what the registry kept.
    const jws = (await registry.statusList(o.orgCode, purpose)) ?? signed;
    const file = o.out === undefined ? undefined : await writeAtomic(join(o.out, 'status', statusListFile(o.orgCode, purpose)), `${jws}\n`);
    out.push({ purpose, ...(file !== undefined && { file }), set: read.indexes.length, bits, jws });
  }
  return out;
}
