/**
 * The after-issue tests' batch: three people of the haidian fixture organisation issued by a real runBatch into a
 * temporary folder, on a profile that extends the fixture's (the tests add what they need, e.g. the office block
 * of the 附件4 forms), and the built CLI to run commands on it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeContext } from '../../pipeline/core/context.js';
import type { Context } from '../../pipeline/core/context.js';
import { runBatch } from '../../pipeline/batch/run.js';
import { personId } from '../helpers/roster-fixtures.js';
import { excelDate, writeWorkbook } from '../helpers/roster-workbook.js';

const CLI = join(resolve('.'), 'dist', 'pipeline', 'cli', 'cli.js');

export const PEOPLE = [
  ['王建国', '男', '110108', '19850312', '电工', '三级/高级工', 'hd-001.jpg'],
  ['李秀英', '女', '110108', '19900521', '育婴员', '四级/中级工', 'hd-002.jpg'],
  ['吴海峰', '男', '110106', '19860129', '中式烹调师', '三级/高级工', 'hd-011.jpg'],
] as const;

export const ctx = (iso: string): Context => makeContext({ now: new Date(iso), operator: 'test-operator' });

/** The built CLI, as an operator runs it. */
export const cli = (...args: string[]) => spawnSync('node', [CLI, ...args], { encoding: 'utf8', env: { ...process.env, SKILLCERT_OPERATOR: 'cli-operator' } });

export interface AfterBatch {
  readonly work: string;
  readonly out: string;
  readonly registry: string;
  readonly profile: string;
  /** The certificate numbers, in roster order, once `issue` has run. */
  readonly numbers: string[];
  /** The batch's folder name, once `issue` has run. */
  batchDir(): string;
  /** The batch's PDF of certificate `n`. */
  pdf(n: string): string;
  /** Issues the batch (on 2026-11-20, in-thread). */
  issue(): Promise<void>;
}

export function afterBatch(name: string, profileExtra: Record<string, unknown> = {}): AfterBatch {
  const work = mkdtempSync(join(tmpdir(), `skillcert-${name}-`));
  const out = join(work, 'out');
  const registry = join(out, 'registry.sqlite');
  const profile = join(work, 'profile.json');
  writeFileSync(profile, JSON.stringify({ extends: resolve('fixtures/profiles/haidian-qihang.json'), ...profileExtra }));
  const numbers: string[] = [];
  let dir = '';
  return {
    work,
    out,
    registry,
    profile,
    numbers,
    batchDir: () => dir,
    pdf: (n) => join(out, dir, 'certificates', `${n}.pdf`),
    async issue() {
      if (!existsSync(CLI)) throw new Error('dist/ is missing: run `npx tsc -p .` (npm test builds first)');
      const d = excelDate('2026-11-20');
      const rows = [['序号', '姓名', '性别', '证件类型', '证件号码', '职业名称', '职业技能等级', '认定结果', '照片', '发证日期']];
      PEOPLE.forEach(([person, gender, region, birth, occ, level, photo], i) =>
        rows.push([String(i + 1), person, gender, '201', personId(region, birth, i + 1, gender), occ, level, '合格', photo, d as unknown as string]));
      const roster = await writeWorkbook(join(work, 'roster.xlsx'), rows);
      const r = await runBatch(ctx('2026-11-20T02:00:00Z'), { roster, profile, out, registry, photos: resolve('fixtures/rosters/photos'), workers: 0 });
      dir = r.batchId;
      numbers.push(...r.summary.issued.map((c) => c.number));
    },
  };
}
