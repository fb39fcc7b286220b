/**
 * Fixtures for the after-issue tests (corrections, reissues, audit, forms): a few fictitious people with
 * 居民身份证 numbers that pass GB 11643 (made here, with the check digit computed, not copied from anyone), and a
 * helper that numbers and issues their certificates the way a batch would.
 */
import { createHash } from 'node:crypto';
import type { Registry, RegistryIssuer } from '../../pipeline/registry/index.js';
import type { LevelCode } from '../../pipeline/core/record.js';
import { HAIDIAN } from './registry-fixtures.js';
import { gb11643CheckDigit } from '../../pipeline/core/gb11643.js';

export const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** A 居民身份证 number with its GB 11643 check character. */
export function idCard(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new Error(`Expected 17 digits but received ${first17}`);
  return first17 + gb11643CheckDigit(first17);
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

/** The times of writeHistory's corrections (T1), ID correction and reissue (T2), revocation and export (T3). */
export const HISTORY_TIMES = {
  T1: new Date('2025-07-10T01:00:00.000Z'),
  T2: new Date('2025-07-20T01:00:00.000Z'),
  T3: new Date('2025-08-02T01:00:00.000Z'),
} as const;

/**
 * 14 audit entries, the same on every registry: three certificates, a name and an ID correction each re-rendered, a
 * reissue re-rendered, a revocation, an export.
 */
export async function writeHistory(registry: Registry): Promise<{ li: string; wu: string; chen: string }> {
  const { T1, T2, T3 } = HISTORY_TIMES;
  const li = await issuedCertificate(registry, PEOPLE.li); // 1 issue, 2 sign
  const wu = await issuedCertificate(registry, PEOPLE.wu); // 3, 4
  const chen = await issuedCertificate(registry, PEOPLE.chen); // 5, 6
  const j1 = await registry.correct(li.number, { name: '李晓刚' }, '姓名录入错误', T1, 'clerk-wang'); // 7
  await registry.recordDigest(li.number, { file: `${li.number}-v2.pdf`, sha256: sha('li v2') }, T1, j1.reason, { operator: 'clerk-wang', through: j1.revision }); // 8
  const j2 = await registry.correct(wu.number, { idNo: NEW_ID }, `原号码 ${PEOPLE.wu.idNo} 录入错误`, T2, 'clerk-li'); // 9
  await registry.recordDigest(wu.number, { file: `${wu.number}-v2.pdf`, sha256: sha('wu v2') }, T2, j2.reason, { operator: 'clerk-li', through: j2.revision }); // 10
  const j3 = await registry.reissue(chen.number, 'lost', T2, 'clerk-wang', '持证人遗失'); // 11
  await registry.recordDigest(chen.number, { file: `${chen.number}-补发.pdf`, sha256: sha('chen v2') }, T2, j3.reason, { operator: 'clerk-wang', through: j3.revision }); // 12
  await registry.revoke(wu.number, '第十八条: 取消认定结果', T3, { operator: 'supervisor-zhang' }); // 13
  await registry.recordExport({ file: '证书数据-202507.xlsx', sha256: sha('xlsx'), what: '证书数据 2025-07' }, T3, 'clerk-wang'); // 14
  return { li: li.number, wu: wu.number, chen: chen.number };
}

