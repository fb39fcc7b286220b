/**
 * A made-up organisation and roster for the registry tests, shared by the tests and the child-process worker.
 * People are generated from an index so that two processes and a rerun agree on who person 17 is; the ID
 * numbers are passport-style (227 中国护照) and fictitious.
 */
import type { IssueRequest, RegistryIssuer } from '../../pipeline/registry/index.js';
import type { LevelCode } from '../../pipeline/core/record.js';

/** 示例 2 of the Beijing rule: S 0000 1108 2003 (海淀, a 辖区用人单位). */
export const HAIDIAN: RegistryIssuer = {
  id: 'haidian-skills',
  category: 'S',
  orgCode: '0000',
  numbering: { rule: 'beijing', district: '08', serial: '2003' },
  stock: { from: 1, to: 1_000_000, digits: 8 },
};

export const YEAR = 2025;
export const AT = new Date('2025-06-30T20:00:00.000Z');
const LEVELS: readonly LevelCode[] = [3, 4, 5];

/** Person i of the roster: levels cycle 3, 4, 5 so that several serial sequences run side by side. */
export function personRequest(i: number, batchId: string, issuer: RegistryIssuer = HAIDIAN): IssueRequest {
  const idNo = `E${String(i).padStart(8, '0')}`;
  const level = LEVELS[i % LEVELS.length] as LevelCode;
  return {
    issuer,
    person: { idType: '227', idNo },
    qualification: { occupation: '电工', job: '', level },
    year: YEAR,
    batchId,
    printed: { name: `测试${i}`, idType: '中国护照', idNo, occupation: '电工', job: '——', level, issueDate: '2025-07-01' },
    at: AT,
  };
}

/** What the worker prints for each certificate, one JSON object a line. */
export interface WorkerLine {
  readonly i: number;
  readonly number: string;
  readonly created: boolean;
  readonly serial: number;
  readonly stockSerial: string;
  readonly pid: number;
}

/** The worker's instructions, passed as one JSON argument. */
export interface WorkerJob {
  readonly db: string;
  readonly batchId: string;
  /** People from (inclusive) to (exclusive). */
  readonly from: number;
  readonly to: number;
  /** Print {"ready":true} and wait for a line on stdin before numbering, so that two workers start together. */
  readonly waitForGo?: boolean;
  /** Crash (SIGKILL itself) inside the numbering transaction once this many serials were taken in this process. */
  readonly crashAtSerialTaken?: number;
}
