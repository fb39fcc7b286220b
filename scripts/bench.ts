/**
 * `npm run bench -- [--count 1000[,20000…]] [--level B-B[,B-LTA…]] [--workers W] [--postgres] [--cold] [--keep]`: for each count and level, a synthetic roster of
 * N people with photos and the full batch (ingest → validate → number → render → stamp → sign → bundle) in a process
 * of its own, then one line each: certificates per second end to end, CPU ms per certificate (user + system of the
 * whole process tree — the batch's threads and the Chromium it starts — over the certificates), cores used on
 * average, peak RSS, mean size, the time per stage, and the same-run reference (scripts/bench-run.ts: the bare
 * certificate loop on the batch's template and pool, measured right after it) with the ratio of the two.
 * `--postgres` starts a PostgreSQL server on loopback (test/helpers/postgres.ts) and runs the batch on it as a
 * queued batch of one machine. Levels above B-B sign with the loopback test PKI (OCSP, CRLs, an RFC 3161 TSA). The last line of each count is `certs/s=<n> cpu-ms/cert=<n>`.
 * The output folder starts as a nightly folder does after its first night: its print cache already holds the
 * profile's template (printed by Chromium in a process of its own before the batch, its CPU printed apart and not
 * counted); `--cold` starts from an empty folder, as the first night, whose batch then starts Chromium itself.
 * Photos: 100 distinct JPEG files shared round-robin by the rows (each row's photo is still decoded, checked and
 * resized, as in a real batch).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { once } from 'node:events';
import ExcelJS from 'exceljs';
import sharp from 'sharp';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FIXTURES_DIR, ROOT } from '../pipeline/core/paths.js';
import type { BenchRun } from './bench-run.js';
import { gb11643CheckDigit } from '../pipeline/core/gb11643.js';
import { startPostgres, type PgServer } from '../test/helpers/postgres.js';
import { startTestPki, type TestPki } from '../test/pki/_pki.js';

function usage(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}
const { values } = (() => {
  try {
    return parseArgs({ options: { count: { type: 'string', default: '1000' }, workers: { type: 'string' }, postgres: { type: 'boolean', default: false }, level: { type: 'string', default: 'B-B' }, keep: { type: 'boolean', default: false }, cold: { type: 'boolean', default: false } } });
  } catch (err) {
    return usage((err as Error).message);
  }
})();
const counts = values.count.split(',').map(Number);
const levels = values.level.split(',');
if (!levels.every((l) => ['B-B', 'B-T', 'B-LT', 'B-LTA'].includes(l))) usage(`expected --level as B-B, B-T, B-LT or B-LTA, comma-separated, but received ${values.level}`);
if (!counts.every((n) => Number.isInteger(n) && n >= 1)) usage(`expected --count as whole numbers ≥ 1, comma-separated, but received ${values.count}`);

/** user + system CPU of this process's waited-for children and their waited-for descendants (Linux /proc), in ms. */
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ');
  // after "(comm) ": field 3 is index 0, so cutime (16) and cstime (17) are at 13 and 14; in clock ticks of 100 Hz
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

function residentId(i: number): string {
  const birth = new Date(Date.UTC(1970, 0, 1) + (i % 12000) * 86400000 * 1.7);
  const ymd = birth.toISOString().slice(0, 10).replace(/-/g, '');
  const region = ['110101', '110102', '110105', '110106', '110108'][i % 5]!;
  const first17 = `${region}${ymd}${String(Math.floor(i / 12000) * 10 + (i % 10)).padStart(3, '0')}`;
  return first17 + gb11643CheckDigit(first17);
}

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤';
const GIVEN = '伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽';
const OCCUPATIONS: [string, number[]][] = [['电工', [3, 4, 5]], ['育婴员', [3, 4, 5]], ['中式烹调师', [3, 4, 5]], ['计算机程序设计员', [2, 3, 4]]];
const LEVEL = ['', '一级/高级技师', '二级/技师', '三级/高级工', '四级/中级工', '五级/初级工'];

const work = mkdtempSync(join(tmpdir(), 'skillcert-bench-'));
const photos = join(work, 'photos');
let pgServer: PgServer | undefined;
let pki: TestPki | undefined;
try {
  // Photos: head-and-shoulders silhouettes on white, as a studio would send (~400 × 520 px JPEG).
  const { mkdirSync } = await import('node:fs');
  mkdirSync(photos);
  for (let p = 0; p < 100; p++) {
    const hue = (p * 37) % 360;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="520"><rect width="400" height="520" fill="#fff"/><ellipse cx="200" cy="195" rx="84" ry="102" fill="hsl(${(hue + 20) % 360},35%,72%)"/><path d="M 60 520 Q 70 335 200 325 Q 330 335 340 520 Z" fill="hsl(${hue},45%,30%)"/></svg>`;
    await sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toFile(join(photos, `p${p}.jpg`));
  }
  // A bench organisation: the haidian fixture with a blank-stock range large enough for any count. Above B-B it
  // signs with the loopback test PKI (pipeline/pki/test-authority.ts: OCSP, CRLs and a TSA on this machine, in this
  // process), as the tests do.
  const needsPki = levels.some((l) => l !== 'B-B');
  if (needsPki) pki = await startTestPki();
  const fx = (p: string) => join(FIXTURES_DIR, p);
  const profileFor = (level: string): string => {
    const file = join(work, `profile-${level}.json`);
    const signer = level === 'B-B'
      ? { p12: fx('signer/generated/org.p12'), passwordFile: fx('signer/generated/password.txt'), trustAnchors: [fx('signer/generated/root-ca.pem')] }
      : { p12: pki!.p12('org').file, passwordFile: pki!.p12('org').passwordFile, tsaUrl: pki!.tsaUrl, level, trustAnchors: [join(work, 'pki-root.pem')] };
    writeFileSync(file, JSON.stringify({
      id: 'bench-org', kind: 'organisation',
      name: { zh: '北京市海淀区启航职业技能培训学校', en: 'Beijing Haidian Qihang Vocational Skills Training School' },
      category: 'S', orgCode: '0000', numbering: { rule: 'beijing', district: '08', serial: '4012' },
      seals: { evaluation: fx('seals/haidian-qihang.png'), steel: fx('seals/steel-haidian-qihang.png') },
      signer,
      scope: OCCUPATIONS.map(([occupation, levels]) => ({ occupation, jobs: [], levels })),
      stock: { from: 10000000, to: 99999999, digits: 8 },
    }));
    return file;
  };
  if (pki) writeFileSync(join(work, 'pki-root.pem'), pki.rootPem);
  if (values.postgres) pgServer = await startPostgres();
  process.stdout.write(`machine: ${availableParallelism()} cores; registry ${values.postgres ? 'PostgreSQL (loopback, queued batch of one machine)' : 'SQLite'}\n`);
  for (const count of counts) for (const level of levels) await bench(count, level, profileFor(level));
} catch (err) {
  // The batch process has printed why it stopped; a failure here is named, without a stack.
  process.stderr.write(`${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await pgServer?.stop();
  await pki?.close();
  if (values.keep) process.stderr.write(`kept ${work}\n`);
  else rmSync(work, { recursive: true, force: true });
}

/**
 * scripts/bench-run.ts on `input`, in a process of its own as `skillcert run` runs (glibc's malloc arenas capped and
 * V8's heap flags of bin/node-flags, as bin/skillcert runs it); its standard output. Spawned, not spawnSync: the test PKI above B-B answers from this
 * process's event loop.
 */
async function benchRun(input: object, what: string): Promise<string> {
  const flags = readFileSync(join(ROOT, 'bin', 'node-flags'), 'utf8').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...flags, fileURLToPath(new URL('./bench-run.js', import.meta.url))], {
    env: { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdin.end(JSON.stringify(input));
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
  if (code !== 0) throw new Error(`bench: ${what} ended with ${code ?? signal}`);
  return stdout;
}

/** Prints the batch's template into its output folder's print cache, in a process of its own; its tree's CPU in ms. */
async function printFirst(input: object): Promise<number> {
  const before = childrenCpuMs();
  await benchRun({ ...input, printOnly: true }, 'printing the template');
  return childrenCpuMs() - before;
}

async function bench(count: number, level: string, profile: string): Promise<void> {
  // The roster, streamed (20,000 rows would not fit a sane memory budget as one workbook object).
  const roster = join(work, `roster-${count}.xlsx`);
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: roster, useSharedStrings: true });
  const ws = wb.addWorksheet('认定结果');
  ws.addRow(['序号', '姓名', '性别', '证件类型', '证件号码', '工作单位', '职业名称', '工种/职业方向', '职业技能等级', '认定结果', '照片', '发证日期']).commit();
  for (let i = 0; i < count; i++) {
    const [occ, levels] = OCCUPATIONS[i % OCCUPATIONS.length]!;
    const name = SURNAMES[i % SURNAMES.length]! + GIVEN[(i * 7) % GIVEN.length]! + (i % 3 ? GIVEN[(i * 13) % GIVEN.length]! : '');
    ws.addRow([i + 1, name, i % 2 ? '男' : '女', '201', residentId(i), '北京城建集团有限公司', occ, '', LEVEL[levels[i % levels.length]!], '合格', `p${i % 100}.jpg`, '2026-11-20']).commit();
  }
  await wb.commit();
  const out = join(work, `out-${count}-${level}`);
  const registry = pgServer ? await pgServer.createDatabase() : undefined;

  const input = { roster, profile, out, photos, ...(registry ? { registry } : {}), ...(values.workers !== undefined ? { workers: Number(values.workers) } : {}) };
  const printCpuMs = values.cold ? undefined : await printFirst(input);

  // The batch runs in a process of its own, as `skillcert run` does: its peak RSS is the batch's, not the roster
  // generator's above, and its CPU (with the Chromium it starts) is read back as this process's children's.
  const children0 = childrenCpuMs();
  // This process's own CPU while the batch runs: above B-B, the loopback PKI's answers, on the same two cores.
  const own0 = process.cpuUsage();
  const stdout = await benchRun(input, 'the batch process');
  const treeCpuMs = childrenCpuMs() - children0;
  const own = process.cpuUsage(own0);
  const pkiCpuMs = (own.user + own.system) / 1000;
  const r = JSON.parse(stdout) as BenchRun;
  const { seconds, issued } = r;
  if (issued !== count) throw new Error(`bench: expected ${count} certificates but ${issued} were issued (${r.problems.join('; ')})`);
  const dir = join(r.dir, 'certificates');
  const bytes = readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0);
  const rate = issued / seconds;
  // The tree's CPU less the bench process's own after the batch (the reference's pool and loop) is the batch's: the
  // process's start, its threads during the run, and the children it started (Chromium on a first night).
  const batchTreeCpuMs = treeCpuMs - r.afterCpuMs;
  const cpuPerCert = batchTreeCpuMs / issued;
  const ref = r.reference;
  const refRate = ref.count / (ref.wallMs / 1000);
  const refCpu = ref.cpuMs / ref.count;
  const w = (line: string) => process.stdout.write(`${line}\n`);
  w(`— ${issued} certificates, PAdES ${level} —`);
  w(`end to end ${seconds.toFixed(1)} s (roster to signed files, tables and bundle): ${rate.toFixed(1)} certificates/s`);
  w(`CPU ${cpuPerCert.toFixed(1)} ms per certificate (process tree: ${(batchTreeCpuMs / 1000).toFixed(1)} s; the batch process ${(r.batchCpuMs / issued).toFixed(1)} ms per certificate during the run and ${(r.startCpuMs / 1000).toFixed(1)} s starting before it, its children (Chromium) ${((batchTreeCpuMs - r.batchCpuMs - r.startCpuMs) / 1000).toFixed(1)} s${level !== 'B-B' ? `; the loopback PKI's OCSP, CRL and TSA answers are outside this count, as a remote TSA's would be, but they ran on the same cores: ${(pkiCpuMs / issued).toFixed(1)} ms per certificate in the bench process` : ''}); cores used on average ${(batchTreeCpuMs / 1000 / seconds).toFixed(2)}`);
  w(`reference (same run, bare render + stamp + sign + write loop on the same template and pool, ${ref.count} certificates): ${refRate.toFixed(1)} certificates/s, ${refCpu.toFixed(1)} ms CPU per certificate → batch/reference: ${(cpuPerCert / refCpu).toFixed(2)}× CPU, ${(refRate / rate).toFixed(2)}× time`);
  w(printCpuMs === undefined
    ? `template: printed by Chromium during the batch (--cold: an empty output folder, its first night), counted above`
    : `template: from the output folder's print cache, as every night after the first (the first night's print, in a process of its own before the batch and not counted above: ${(printCpuMs / 1000).toFixed(1)} s of CPU, Chromium included; --cold counts it)`);
  w(`mean size ${Math.round(bytes / issued)} bytes per certificate; peak RSS ${(r.maxRssKb / 1024).toFixed(0)} MB (the batch process: main thread and workers)`);
  w(`timings ms ${JSON.stringify(r.timings)}`);
  if (Object.keys(r.peakByStage).length) w(`peak RSS MB by the end of each stage ${JSON.stringify(r.peakByStage)}`);
  w(`certs/s=${rate.toFixed(1)} cpu-ms/cert=${cpuPerCert.toFixed(1)} level=${level}`);
}
