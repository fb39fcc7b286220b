/**
 * `npm run fuzz -- [--rosters N] [--runs N] [--pdfs N] [--valid N] [--seed S]` (issue 17, part 3): every command
 * ends with a message and a status on every input — no crash with a stack trace, no silent exit, no hang.
 *
 * - N mutated rosters (bytes flipped in the zip and inside the sheet XML, truncations, a huge cell, 20,000 columns,
 *   formulas, rich text, merged header cells) through `skillcert validate`, and (default: all of them) through
 *   `skillcert run`, each run in a fresh output folder that holds the print cache, as an office's nightly folder does;
 * - a genuine batch of `--valid` certificates (a generated roster of valid people, default 1,000), every one of
 *   which `skillcert verify` must judge valid (a false alarm otherwise), and N mutated copies of them (bytes flipped,
 *   truncated, bytes or an update appended, random files) through `skillcert verify`: each must be invalid or
 *   indeterminate with a reason.
 * Each command runs as its own process, as an office runs it, with a time limit (a hang). Prints a table and
 * exits 1 when any input crashed a command, hung it, or was judged wrongly.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ExcelJS from 'exceljs';
import { ROOT } from '../pipeline/core/paths.js';
import { bookParts, flipBytes, inlineRow, prng, readZip, writeZip } from '../test/helpers/ingest-zip.js';
import { writeChaosRoster, writePhotos } from './chaos/workload.js';

const { values } = parseArgs({ options: { rosters: { type: 'string', default: '1000' }, runs: { type: 'string' }, pdfs: { type: 'string', default: '500' }, valid: { type: 'string', default: '1000' }, seed: { type: 'string', default: '17' } } });
const ROSTERS = Number(values.rosters);
const RUNS = values.runs !== undefined ? Number(values.runs) : ROSTERS;
const VALID = Number(values.valid);
const PDFS = Number(values.pdfs);
const rnd = prng(Number(values.seed));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

const CLI = join(ROOT, 'dist', 'pipeline', 'cli', 'cli.js');
const PROFILE = join(ROOT, 'fixtures', 'profiles', 'haidian-qihang.json');
const BASE = join(ROOT, 'fixtures', 'rosters', 'haidian-qihang-2026-11.xlsx');
const PHOTOS = join(ROOT, 'fixtures', 'rosters', 'photos');
const LIMIT_MS = 120_000;

type Outcome = 'accepted' | 'clean error' | 'crash' | 'hang';
interface Ran { outcome: Outcome; code: number | null; stdout: string; stderr: string }

/** Runs the CLI; classifies how it ended. A stack trace, an exit without a message or a signal is a crash. */
function skillcert(args: readonly string[]): Promise<Ran> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SKILLCERT_OPERATOR: 'fuzz', SKILLCERT_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, LIMIT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stack = /\n\s+at .+\(.*:\d+:\d+\)|\n\s+at file:\/\//.test(stderr);
      // a failure says what failed: the one-line error, or (verify) the report of what did not pass
      const said = /^skillcert: E_[A-Z]+: .+/m.test(stderr) || stdout.trim().length > 0;
      const outcome: Outcome = hung ? 'hang' : stack || code === null || code > 2 ? 'crash' : code === 0 ? 'accepted' : said ? 'clean error' : 'crash';
      done({ outcome, code, stdout, stderr });
    });
  });
}

async function mapLimit<T, R>(items: readonly T[], limit: number, f: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!, i);
    }
  }));
  return out;
}

const work = mkdtempSync(join(tmpdir(), 'skillcert-fuzz-'));

// ---------------------------------------------------------------------------------------------------------
// Rosters

const baseBytes = readFileSync(BASE);
const baseParts = await readZip(BASE);
const HEADER = ['序号', '姓名', '性别', '证件类型', '证件号码', '工作单位', '职业名称', '工种/职业方向', '职业技能等级', '认定结果', '照片', '发证日期'];
const ROW = [1, '王建国', '男', '201', '11010519491231002X', '启航', '电工', '维修电工', '三级/高级工', '合格', 'hd-001.jpg', '2026-11-20'];

/** Hostile workbooks that are well-formed zips: what a spreadsheet program, or someone, might really write. */
const hostile: Record<string, (file: string) => Promise<void>> = {
  async hugeCell(file) {
    await book(file, (ws) => {
      ws.addRow(HEADER);
      ws.addRow(ROW.map((v, i) => (i === 1 ? '王'.repeat(200_000 + Math.floor(rnd() * 2_000_000)) : v)));
    });
  },
  async wide(file) {
    // 20,000 columns is past Excel's 16,384 (exceljs refuses to write it): the sheet is written by hand
    const row = [...ROW.map(String), ...Array.from({ length: 20_000 }, (_, i) => `x${i}`)];
    await writeZip(file, bookParts([{ name: '认定结果', data: inlineRow(HEADER, 1) + inlineRow(row, 2) }]));
  },
  async formulas(file) {
    await book(file, (ws) => {
      ws.addRow(HEADER);
      ws.addRow(ROW.map((v, i) => (i === 1 ? { formula: 'CONCATENATE("王","建国")' } : i === 4 ? { formula: '1+1', result: 2 } : v)));
    });
  },
  async richText(file) {
    await book(file, (ws) => {
      ws.addRow(HEADER.map((h) => ({ richText: [{ text: h.slice(0, 1), font: { bold: true } }, { text: h.slice(1) }] })));
      ws.addRow(ROW.map((v) => (typeof v === 'string' ? { richText: [{ text: v }] } : v)));
    });
  },
  async mergedHeader(file) {
    await book(file, (ws) => {
      ws.addRow(['职业技能等级认定合格人员名单']);
      ws.mergeCells(1, 1, 1, HEADER.length);
      ws.addRow(HEADER);
      ws.mergeCells(2, 7, 2, 8);
      ws.addRow(ROW);
    });
  },
};

async function book(file: string, fill: (ws: ExcelJS.Worksheet) => void): Promise<void> {
  const wb = new ExcelJS.Workbook();
  fill(wb.addWorksheet('认定结果'));
  await wb.xlsx.writeFile(file);
}

/** One mutant roster: its file and what was done to it. */
async function mutantRoster(i: number): Promise<{ file: string; kind: string }> {
  const file = join(work, 'rosters', `r${i}.xlsx`);
  const kind = pick(['zipBytes', 'zipBytes', 'xmlBytes', 'xmlBytes', 'truncate', 'hostile']);
  if (kind === 'zipBytes') writeFileSync(file, flipBytes(baseBytes, rnd, 1 + Math.floor(rnd() * 8)).bytes);
  else if (kind === 'truncate') writeFileSync(file, baseBytes.subarray(0, Math.floor(rnd() * baseBytes.length)));
  else if (kind === 'xmlBytes') {
    // bytes changed inside one part's XML, then zipped again with right CRCs: the damage a CRC cannot see
    const target = pick(baseParts.filter(([n]) => /sheet\d*\.xml$|sharedStrings|workbook\.xml$|styles/.test(n)).map(([n]) => n));
    const parts = baseParts.map(([n, b]) => [n, n === target ? flipBytes(b, rnd, 1 + Math.floor(rnd() * 6)).bytes : b] as const);
    await writeZip(file, parts);
    return { file, kind: `xmlBytes:${target}` };
  } else {
    const name = pick(Object.keys(hostile));
    await hostile[name]!(file);
    return { file, kind: `hostile:${name}` };
  }
  return { file, kind };
}

// ---------------------------------------------------------------------------------------------------------
// The genuine batch: the certificates the PDF mutants are made from, and whose print cache every run starts with

const genuineRoster = await writeChaosRoster(join(work, 'genuine.xlsx'), VALID);
const genuinePhotos = await writePhotos(join(work, 'genuine-photos'));
const genuine = await skillcert(['run', '--roster', genuineRoster.file, '--profile', PROFILE, '--photos', genuinePhotos, '--out', join(work, 'genuine'), '--quiet', '--json']);
if (genuine.outcome !== 'accepted') throw new Error(`the genuine batch failed: ${genuine.stderr}`);
const batch = JSON.parse(genuine.stdout) as { dir: string; registry: string };
const certDir = join(batch.dir, 'certificates');
const originals = readdirSync(certDir).filter((f) => f.endsWith('.pdf')).map((f) => join(certDir, f));
const printCache = join(work, 'genuine', '.cache');

mkdirSync(join(work, 'rosters'));
const mutants: { file: string; kind: string }[] = [];
for (let i = 0; i < ROSTERS; i++) mutants.push(await mutantRoster(i));

const t0 = Date.now();
const validated = await mapLimit(mutants, 2, (m) => skillcert(['validate', '--roster', m.file, '--profile', PROFILE, '--rejects', join(work, 'rejects', `${m.file.slice(-10)}.xlsx`)]));
const ran = await mapLimit(mutants.filter((_, i) => i % Math.max(1, Math.floor(ROSTERS / Math.max(1, RUNS))) === 0).slice(0, RUNS), 2, (m, i) => {
  const out = join(work, 'runs', String(i));
  cpSync(printCache, join(out, '.cache'), { recursive: true });
  return skillcert(['run', '--roster', m.file, '--profile', PROFILE, '--photos', PHOTOS, '--out', out, '--workers', '1', '--quiet']).then((r) => {
    // a run that crashed or hung keeps its folder for a look; the others' certificates are not needed
    if (r.outcome === 'accepted' || r.outcome === 'clean error') rmSync(out, { recursive: true, force: true });
    return r;
  });
});
const rosterSeconds = (Date.now() - t0) / 1000;

// ---------------------------------------------------------------------------------------------------------
// Signed PDFs

function mutantPdf(bytes: Buffer): { bytes: Buffer; kind: string } {
  const kind = pick(['flip', 'flip', 'flip', 'truncate', 'appendBytes', 'appendUpdate', 'random']);
  switch (kind) {
    case 'flip':
      return { bytes: flipBytes(bytes, rnd, 1 + Math.floor(rnd() * 8)).bytes, kind };
    case 'truncate':
      return { bytes: bytes.subarray(0, Math.floor(rnd() * bytes.length)), kind };
    case 'appendBytes':
      return { bytes: Buffer.concat([bytes, Buffer.from(`\n% appended ${rnd()}\n`)]), kind };
    case 'appendUpdate': {
      // an incremental update that redefines the info dictionary: what an editor appends when it saves
      const prev = /startxref\s+(\d+)\s+%%EOF\s*$/.exec(bytes.toString('latin1'))?.[1] ?? '0';
      const obj = `\n999 0 obj\n<< /Producer (edited) >>\nendobj\n`;
      const at = bytes.length + 1;
      const xref = `xref\n999 1\n${String(at).padStart(10, '0')} 00000 n \ntrailer\n<< /Size 1000 /Prev ${prev} /Info 999 0 R >>\nstartxref\n${bytes.length + obj.length}\n%%EOF\n`;
      return { bytes: Buffer.concat([bytes, Buffer.from(obj + xref, 'latin1')]), kind };
    }
    default:
      return { bytes: Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from(Array.from({ length: 2000 + Math.floor(rnd() * 50_000) }, () => Math.floor(rnd() * 256)))]), kind };
  }
}

const pdfDir = join(work, 'pdfs');
mkdirSync(pdfDir);
const pdfKinds = new Map<string, string>();
for (let i = 0; i < PDFS; i++) {
  const src = pick(originals);
  const m = mutantPdf(readFileSync(src));
  if (m.bytes.equals(readFileSync(src))) continue;
  const f = join(pdfDir, `m${String(i).padStart(4, '0')}.pdf`);
  writeFileSync(f, m.bytes);
  pdfKinds.set(f, m.kind);
}
const t1 = Date.now();
interface Verdict { file: string; verdict: string; checks: { id: string; ok: boolean | null; message: string }[] }
const verdicts: Verdict[] = [];
let verifyCrashes = 0;
let verifyHangs = 0;
const files = [...pdfKinds.keys()];
const chunks = Array.from({ length: Math.ceil(files.length / 25) }, (_, k) => files.slice(k * 25, k * 25 + 25));
await mapLimit(chunks, 2, async (chunk, k) => {
  const dir = join(work, 'verify', String(k));
  mkdirSync(dir, { recursive: true });
  for (const f of chunk) copyFileSync(f, join(dir, f.slice(pdfDir.length + 1)));
  const r = await skillcert(['verify', dir, '--profile', PROFILE, '--registry', batch.registry, '--json']);
  if (r.outcome === 'crash') verifyCrashes++;
  if (r.outcome === 'hang') verifyHangs++;
  try {
    for (const v of (JSON.parse(r.stdout) as { results: Verdict[] }).results) verdicts.push({ ...v, file: join(pdfDir, v.file.slice(dir.length + 1)) });
  } catch {
    verifyCrashes++;
  }
});
const good = await skillcert(['verify', certDir, '--profile', PROFILE, '--registry', batch.registry, '--json']);
const goodVerdicts = good.outcome === 'accepted' ? (JSON.parse(good.stdout) as { results: Verdict[] }).results : [];
const pdfSeconds = (Date.now() - t1) / 1000;

// ---------------------------------------------------------------------------------------------------------
// The table

const count = (rs: readonly Ran[], o: Outcome) => rs.filter((r) => r.outcome === o).length;
const wrongPdfs = verdicts.filter((v) => v.verdict === 'valid' || !v.checks.some((c) => c.ok !== true && c.message));
const falseAlarms = goodVerdicts.filter((v) => v.verdict !== 'valid').length + (originals.length - goodVerdicts.length);
const rows = [
  ['validate', mutants.length, count(validated, 'clean error'), count(validated, 'accepted'), count(validated, 'crash'), count(validated, 'hang'), `${rosterSeconds.toFixed(0)} s (with run)`],
  ['run', ran.length, count(ran, 'clean error'), count(ran, 'accepted'), count(ran, 'crash'), count(ran, 'hang'), ''],
  ['verify (mutants)', verdicts.length, verdicts.length - wrongPdfs.length, wrongPdfs.length, verifyCrashes, verifyHangs, `${pdfSeconds.toFixed(0)} s`],
  ['verify (genuine)', originals.length, falseAlarms, goodVerdicts.filter((v) => v.verdict === 'valid').length, good.outcome === 'crash' ? 1 : 0, good.outcome === 'hang' ? 1 : 0, ''],
];
process.stdout.write(`\nfuzz, seed ${values.seed}: rosters from ${BASE.slice(ROOT.length + 1)}, PDFs from ${originals.length} genuine certificates\n\n`);
process.stdout.write('| command | inputs | clean errors (verify: invalid or indeterminate with a reason; genuine: false alarms) | accepted (verify: judged valid) | crashes | hangs | time |\n|---|---|---|---|---|---|---|\n');
for (const r of rows) process.stdout.write(`| ${r.join(' | ')} |\n`);
const kinds = new Map<string, number>();
for (const [i, m] of mutants.entries()) if (validated[i]!.outcome === 'accepted') kinds.set(m.kind, (kinds.get(m.kind) ?? 0) + 1);
process.stdout.write(`\nrosters accepted by validate, by mutation: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}\n`);
for (const [i, r] of validated.entries()) if (r.outcome === 'crash' || r.outcome === 'hang') process.stdout.write(`  ${r.outcome}: ${mutants[i]!.kind} ${mutants[i]!.file}: exit ${r.code}: ${r.stderr.slice(0, 300)}\n`);
for (const r of ran) if (r.outcome === 'crash' || r.outcome === 'hang') process.stdout.write(`  run ${r.outcome}: exit ${r.code}: ${r.stderr.slice(0, 300)}\n`);
for (const v of wrongPdfs.slice(0, 10)) process.stdout.write(`  PDF judged ${v.verdict}: ${pdfKinds.get(v.file)} ${v.file}\n`);
const bad = count(validated, 'crash') + count(validated, 'hang') + count(ran, 'crash') + count(ran, 'hang') + wrongPdfs.length + verifyCrashes + verifyHangs + falseAlarms;
process.stdout.write(`\n${bad === 0 ? 'every input got an answer: no crash, no hang, no wrong verdict' : `${bad} problem(s); the inputs are kept in ${work}`}\n`);
if (bad === 0) rmSync(work, { recursive: true, force: true });
process.exitCode = bad === 0 ? 0 : 1;
