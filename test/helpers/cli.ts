/**
 * Helpers for the tests that drive the built command (`node dist/pipeline/cli/cli.js`) as an operator would:
 * run it and collect its exit code and output, build small result rosters with valid GB 11643 numbers,
 * find a run's batch folder, and read its outputs back with independent readers (exceljs, pdftotext,
 * better-sqlite3 opened read-only, sha256 of the bytes).
 *
 * The CLI tests exercise dist/, not the sources: `npm test` builds before ava; `requireBuiltCli` makes a
 * missing build fail with one clear message instead of a confusing spawn error.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import ExcelJS from 'exceljs';
import { ROOT } from '../../pipeline/core/paths.js';
import { personId } from './roster-fixtures.js';
import { excelDate, writeWorkbook, type CellInput } from './roster-workbook.js';
import type { TestFn } from 'ava';
import { startPostgres, type PgServer } from './postgres.js';
import { removeTempDirs, tempDir as makeTempDir } from './temp.js';

const pexec = promisify(execFile);

export const CLI = join(ROOT, 'dist', 'pipeline', 'cli', 'cli.js');
export const PROFILES = join(ROOT, 'fixtures', 'profiles');
export const ROSTERS = join(ROOT, 'fixtures', 'rosters');
export const PHOTOS = join(ROSTERS, 'photos');
export const GENERATED = join(ROOT, 'fixtures', 'signer', 'generated');
export const profile = (id: string): string => join(PROFILES, `${id}.json`);

/** pipeline/ sources whose compiled file in dist/ is missing or older than they are. */
function staleSources(dir = join(ROOT, 'pipeline')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const src = join(dir, e.name);
    if (e.isDirectory()) return staleSources(src);
    if (!e.name.endsWith('.ts') || e.name.endsWith('.d.ts')) return [];
    const out = join(ROOT, 'dist', relative(ROOT, src)).replace(/\.ts$/, '.js');
    return !existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs ? [relative(ROOT, src)] : [];
  });
}

/**
 * Throws (for test.before) when dist/ has not been built, or was built before a change to pipeline/, naming the
 * command that builds it: these tests run the built command, and a stale build would test old code.
 */
export function requireBuiltCli(): void {
  if (!existsSync(CLI)) {
    throw new Error(`${CLI} is missing: build first with \`npx tsc -p .\` (\`npm test\` builds before ava)`);
  }
  const stale = staleSources();
  if (stale.length) {
    throw new Error(`dist/ is older than ${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ` and ${stale.length - 3} more` : ''}: rebuild with \`npx tsc -p .\` (\`npm test\` builds before ava)`);
  }
  if (!existsSync(join(GENERATED, 'org.p12'))) {
    throw new Error(`the TEST ONLY signing identity is missing (${GENERATED}): run \`bash scripts/make-test-identity.sh\` (\`npm test\` runs scripts/setup.sh first)`);
  }
}

/**
 * For a file of CLI tests against PostgreSQL: before them, checks the build and starts a server; after them, stops
 * it and removes the temporary folders. Returns the running server.
 */
export function cliTestServer(test: TestFn): () => PgServer {
  let server: PgServer | undefined;
  test.before(async () => {
    requireBuiltCli();
    server = await startPostgres();
  });
  test.after.always(async () => {
    await server?.stop();
    removeTempDirs();
  });
  return () => {
    if (!server) throw new Error('the PostgreSQL server of this test file has not started');
    return server;
  };
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment the CLI runs with: the operator pinned, no debug output. */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SKILLCERT_OPERATOR: 'skillcert-tests', ...extra };
  delete env.SKILLCERT_DEBUG;
  return env;
}

/** Runs `skillcert <args>` to completion. */
export function skillcert(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  return outcome(spawnSkillcert(args, opts));
}

/** What a started `skillcert` process printed and how it ended, once it has. */
export function outcome(child: ChildProcess): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/**
 * Starts `skillcert <args>` in a process group of its own (detached), so a test can SIGKILL exactly the
 * processes it started with `process.kill(-child.pid, 'SIGKILL')`.
 */
export function spawnSkillcert(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; detached?: boolean } = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: opts.env ?? cliEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached ?? false,
  });
}

/** Runs an external tool to completion; a non-zero exit is a result, not an error. */
export function tool(cmd: string, args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** Maps `items` through `f`, at most `limit` at a time, results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

/** A short dump for assertion messages. */
export function show(r: CliResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout\n${r.stdout.slice(0, 4000)}\n--- stderr\n${r.stderr.slice(0, 4000)}`;
}

/** A fresh temporary folder, removed by `removeTempDirs` (register it with test.after.always). */
export const tempDir = (prefix = 'skillcert-cli-'): string => makeTempDir(prefix);
export { removeTempDirs };

// ---------------------------------------------------------------------------------------------------------
// Rosters

/** One row of a Beijing 认定结果 roster (the columns of fixtures/rosters/haidian-qihang-2026-11.xlsx). */
export interface RosterRow {
  readonly name: string;
  readonly gender: '男' | '女';
  readonly idType?: string;
  /** A string, or a number to imitate Excel's numeric ID cells. */
  readonly idNo: string | number;
  readonly employer: string;
  readonly occupation: string;
  readonly job?: string;
  readonly level: string;
  readonly result?: string;
  readonly photo: string;
  readonly issueDate?: string;
}

const ROSTER_HEADER = ['序号', '姓名', '性别', '证件类型', '证件号码', '工作单位', '职业名称', '工种/职业方向', '职业技能等级', '认定结果', '照片', '发证日期'] as const;
/** Title rows above the header, as offices send them: the header is on spreadsheet row 3. */
const TITLE_ROWS = 2;
/** The spreadsheet row (the row number validation reports) of roster row `index`, 0-based. */
export const rowNoOf = (index: number): number => TITLE_ROWS + 2 + index;

/** The cells of a roster sheet as an office writes it: two title rows, the header, one row per person. */
export function rosterRows(rows: readonly RosterRow[]): CellInput[][] {
  const out: CellInput[][] = [
    ['北京市职业技能等级认定结果（测试批次）'],
    ['评价机构：北京市海淀区启航职业技能培训学校'],
    [...ROSTER_HEADER],
  ];
  rows.forEach((r, i) => {
    out.push([i + 1, r.name, r.gender, r.idType ?? '201', r.idNo, r.employer, r.occupation, r.job ?? '', r.level, r.result ?? '合格', r.photo, excelDate(r.issueDate ?? '2026-11-20')]);
  });
  return out;
}

export async function writeRoster(file: string, rows: readonly RosterRow[]): Promise<string> {
  await writeWorkbook(file, [{ name: '认定结果', rows: rosterRows(rows) }]);
  return file;
}

const SURNAMES = [...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤'];
const GIVEN = ['建国', '秀英', '志强', '丽娟', '海峰', '晓燕', '文博', '佳怡', '明远', '雪梅', '浩然', '小雨', '国强', '婷婷', '卫东', '慧'];
/** haidian-qihang's registered scope (fixtures/profiles/haidian-qihang.json), as occupation × level label. */
const HAIDIAN_QUALIFICATIONS: readonly [string, string][] = [
  ['电工', '三级/高级工'], ['电工', '四级/中级工'], ['电工', '五级/初级工'],
  ['育婴员', '三级/高级工'], ['育婴员', '四级/中级工'], ['育婴员', '五级/初级工'],
  ['中式烹调师', '三级/高级工'], ['中式烹调师', '四级/中级工'], ['中式烹调师', '五级/初级工'],
  ['计算机程序设计员', '二级/技师'], ['计算机程序设计员', '三级/高级工'], ['计算机程序设计员', '四级/中级工'],
];
/** Photos with a white background in fixtures/rosters/photos. */
const GOOD_PHOTOS = Array.from({ length: 17 }, (_, i) => `hd-${String(i + 1).padStart(3, '0')}.jpg`);

/**
 * `count` distinct people who all pass validation for haidian-qihang: valid GB 11643 numbers (distinct by
 * sequence number), names the fonts cover, qualifications inside the registered scope, good photos.
 * `seed` shifts names, qualifications and birth dates so two rosters do not share people.
 */
export function validPeople(count: number, seed = 0): RosterRow[] {
  return Array.from({ length: count }, (_, i) => {
    const k = i + seed;
    const gender: '男' | '女' = k % 2 ? '女' : '男';
    const [occupation, level] = HAIDIAN_QUALIFICATIONS[k % HAIDIAN_QUALIFICATIONS.length]!;
    const birth = `19${70 + (Math.floor(k / 400) % 30)}0${1 + (seed % 9)}1${k % 10}`;
    return {
      name: `${SURNAMES[k % SURNAMES.length]}${GIVEN[Math.floor(k / SURNAMES.length) % GIVEN.length]}`,
      gender,
      idNo: personId('110108', birth, k % 400, gender),
      employer: ['北京城建集团有限公司', '北京市海淀区颐和养老院', '北京全聚德餐饮有限公司', '北京网安科技有限公司'][k % 4]!,
      occupation,
      level,
      photo: GOOD_PHOTOS[k % GOOD_PHOTOS.length]!,
    };
  });
}

// ---------------------------------------------------------------------------------------------------------
// Reading a batch back

/** The one batch folder a run wrote under `out` (the registry file and the status/ lists sit beside it). */
export function batchDir(out: string): string {
  const dirs = readdirSync(out, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'status').map((e) => e.name);
  if (dirs.length !== 1) throw new Error(`expected one batch folder in ${out}, found: ${dirs.join(', ') || 'none'}`);
  return join(out, dirs[0]!);
}

/** Certificate PDFs of a batch folder by name; `.tmp-` leftovers are listed separately. */
export function certificateFiles(dir: string): { pdfs: string[]; leftovers: string[] } {
  const certDir = join(dir, 'certificates');
  const all = existsSync(certDir) ? readdirSync(certDir) : [];
  return { pdfs: all.filter((f) => /^[A-Z0-9]{22}\.pdf$/.test(f)).sort(), leftovers: all.filter((f) => !/^[A-Z0-9]{22}\.pdf$/.test(f)) };
}

/** Every regular file under `root`, relative with forward slashes, sorted. */
export function filesUnder(root: string, sub = ''): string[] {
  return readdirSync(join(root, sub), { withFileTypes: true }).flatMap((e) => {
    const rel = sub ? `${sub}/${e.name}` : e.name;
    return e.isDirectory() ? filesUnder(root, rel) : [rel];
  }).sort();
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
export const sha256File = (file: string): string => sha256(readFileSync(file));

export interface SheetCell {
  readonly value: ExcelJS.CellValue;
  readonly type: ExcelJS.ValueType;
  readonly formula?: string;
}

/** Every row of every sheet of a workbook, as exceljs reads it back (1-based rows; cell arrays 0-based). */
export async function readWorkbook(file: string): Promise<Map<string, SheetCell[][]>> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const out = new Map<string, SheetCell[][]>();
  wb.eachSheet((ws) => {
    const rows: SheetCell[][] = [];
    ws.eachRow({ includeEmpty: true }, (row, r) => {
      const cells: SheetCell[] = [];
      for (let c = 1; c <= row.cellCount; c++) {
        const cell = row.getCell(c);
        cells.push({ value: cell.value, type: cell.type, ...(cell.formula ? { formula: cell.formula } : {}) });
      }
      rows[r - 1] = cells;
    });
    out.set(ws.name, Array.from(rows, (r) => r ?? []));
  });
  return out;
}

/** The plain value of a cell as text ('' for empty). */
export function text(c: SheetCell | undefined): string {
  if (!c || c.value === null || c.value === undefined) return '';
  const v = c.value;
  if (typeof v === 'object' && !(v instanceof Date)) {
    if ('richText' in v) return v.richText.map((r) => r.text).join('');
    return JSON.stringify(v);
  }
  return v instanceof Date ? v.toISOString() : String(v);
}

export const values = (row: readonly SheetCell[] | undefined): string[] => (row ?? []).map(text);

/** pdftotext of a whole PDF (UTF-8, layout kept loose). */
export async function pdfText(file: string): Promise<string> {
  const { stdout } = await pexec('pdftotext', ['-enc', 'UTF-8', file, '-'], { maxBuffer: 32 << 20 });
  return stdout;
}

export interface RegistryRow {
  readonly number: string;
  readonly prefix: string;
  readonly serial: number;
  readonly status: string;
  readonly id_no: string;
  readonly id_type: string;
  readonly occupation: string;
  readonly job: string;
  readonly level: number;
  readonly stock_serial: string;
  readonly batch_id: string;
}

/** The registry's certificates, read straight from the SQLite file (read-only: the test never writes it). */
export function registryRows(file: string): RegistryRow[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT number, prefix, serial, status, id_no, id_type, occupation, job, level, stock_serial, batch_id FROM certificates ORDER BY number').all() as RegistryRow[];
  } finally {
    db.close();
  }
}

/** The SHA-256 of each certificate's current PDF, as the registry recorded it (read-only). */
export function registryDigests(file: string): Map<string, string> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare("SELECT number, sha256 FROM certificate_digests WHERE state = 'current'").all() as { number: string; sha256: string }[];
    return new Map(rows.map((r) => [r.number, r.sha256]));
  } finally {
    db.close();
  }
}
