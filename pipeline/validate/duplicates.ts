/**
 * Duplicate people in one roster (SPEC §3): the same ID type and number, occupation, job and level.
 * The second and later occurrences are reported naming the first row, and not issued twice.
 * Memory stays small for a roster of hundreds of thousands of rows: the key is a 96-bit hash (never
 * the ID number itself), mapped to the row that first had it.
 */
import { createHash } from 'node:crypto';
import type { IdTypeCode, LevelCode } from '../core/record.js';

export interface QualificationKey {
  readonly idType: IdTypeCode;
  readonly idNo: string;
  readonly occupation: string;
  readonly job: string;
  readonly level: LevelCode;
}

export function qualificationHash(k: QualificationKey): string {
  return createHash('sha256').update([k.idType, k.idNo, k.occupation, k.job, String(k.level)].join('\u0000')).digest('base64url').slice(0, 16);
}

export class DuplicateTracker {
  private readonly first = new Map<string, number>();

  /** Records the key; returns the first row that had it when this is a repeat. */
  seen(k: QualificationKey, rowNo: number): number | undefined {
    const h = qualificationHash(k);
    const prev = this.first.get(h);
    if (prev !== undefined) return prev;
    this.first.set(h, rowNo);
    return undefined;
  }

  get size(): number {
    return this.first.size;
  }
}
