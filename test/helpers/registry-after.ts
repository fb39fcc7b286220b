/**
 * Fixtures for the after-issue tests (corrections, reissues, audit, forms): a few fictitious people with
 * 居民身份证 numbers that pass GB 11643 (made here, with the check digit computed, not copied from anyone), and a
 * helper that numbers and issues their certificates the way a batch would.
 */
import { createHash } from 'node:crypto';
import type { Registry, RegistryIssuer } from '../../pipeline/registry/index.js';
import type { LevelCode } from '../../pipeline/record.js';
import { HAIDIAN } from './registry-fixtures.js';

export const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** A 居民身份证 number with its GB 11643 check character. */
export function idCard(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new Error(`Expected 17 digits but received ${first17}`);
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = weights.reduce((acc, w, k) => acc + w * Number(first17[k]), 0);
  return first17 + '10X98765432'[sum % 11];
}

export interface Person {
  readonly name: string;
  readonly idNo: string;
  readonly employer: string;
  readonly occupation: string;
  readonly job: string;
  readonly level: LevelCode;
}

export const PEOPLE = {
  li: { name: '李小刚', idNo: idCard('21030419850612123'), employer: '北京示例电气有限公司', occupation: '电工', job: '', level: 3 },
  wu: { name: '吴敏', idNo: idCard('11022419920101312'), employer: '北京示例物业公司', occupation: '电工', job: '', level: 4 },
  chen: { name: '陈建国', idNo: idCard('11022219880808481'), employer: '海淀区示例学校', occupation: '焊工', job: '手工电弧焊', level: 3 },
  zhao: { name: '赵丽', idNo: idCard('11010819950315222'), employer: '示例集团', occupation: '电工', job: '', level: 5 },
} satisfies Record<string, Person>;

/** The new ID numbers used by corrections: valid, and nobody's yet. */
export const NEW_ID = idCard('11010819900307451');

export const OPERATOR = 'clerk-wang';
export const ISSUED_AT = new Date('2025-07-01T02:00:00.000Z');

/** Numbers and issues a certificate for a person, with printed data shaped like render's PrintedFields plus employer. */
export async function issuedCertificate(registry: Registry, p: Person, opts: { batchId?: string; issuer?: RegistryIssuer; issueDate?: string } = {}) {
  const { certificate } = await registry.issue({
    issuer: opts.issuer ?? HAIDIAN,
    person: { idType: '201', idNo: p.idNo },
    qualification: { occupation: p.occupation, job: p.job, level: p.level },
    year: 2025,
    batchId: opts.batchId ?? '20250701-night',
    printed: {
      name: p.name,
      idType: '居民身份证',
      idNo: p.idNo,
      employer: p.employer,
      occupation: p.occupation,
      job: p.job || '——',
      level: `${p.level}`,
      issueDate: opts.issueDate ?? '2025年7月1日',
    },
    at: ISSUED_AT,
    operator: 'nightly-batch',
  });
  const pdf = { file: `${certificate.number}.pdf`, sha256: sha(`${certificate.number} v1`) };
  await registry.markIssued(certificate.number, pdf, ISSUED_AT, { operator: 'nightly-batch' });
  return { number: certificate.number, sha256: pdf.sha256 };
}

/** better-sqlite3's SqliteError is not an Error to ava's eyes, so its message is taken by hand. */
export function sqlError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { message: string }).message;
  }
  return 'no error';
}
