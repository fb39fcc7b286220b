/**
 * Fixtures for the bundle tests: a synthetic BatchSummary (20 issued across two occupations and three
 * levels, rows rejected and skipped, hostile spreadsheet values), profiles from fixtures/profiles, a
 * throwaway EC P-256 identity made by openssl, and readers that look at the outputs with independent
 * tools (pdftotext, exceljs).
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import yauzl from 'yauzl';
import { PDFDocument, rgb, StandardFonts } from 'pdf-lib';
import type { BatchSummary, IssuedCertificate, SkippedRow } from '../../pipeline/core/summary.js';
import type { Problem } from '../../pipeline/core/errors.js';
import { FontSet } from '../../pipeline/fonts/index.js';
import { loadProfile, type Profile } from '../../pipeline/core/profile.js';
import type { LevelCode } from '../../pipeline/core/record.js';
import type { ManifestSigner } from '../../pipeline/bundle/jws.js';
import { removeTempDirs, tempDir } from '../helpers/temp.js';
import { gb11643CheckDigit } from '../../pipeline/core/gb11643.js';

export const fonts = FontSet.load();
export const NOW = new Date('2026-03-10T02:00:00Z'); // 10:00 in Beijing

/** A fresh temp folder, removed by `cleanup` (register it with test.after.always). */
export const tmp = (prefix = 'skillcert-bundle-'): string => tempDir(prefix);
export const cleanup = removeTempDirs;

/** GB 11643 check character for the first 17 digits. */
export function idWithCheck(first17: string): string {
  return first17 + gb11643CheckDigit(first17);
}

export const HOSTILE = ['=HYPERLINK("x")', '+1', '@SUM(A1)', '-2'] as const;

const NAMES = ['王芳', '李娜', '张伟', '刘洋', '陈静', '杨磊', '赵敏', '黄勇', '周杰', '吴霞', '徐涛', '孙丽', '马超', '朱琳', '胡军', '郭佳', '何平', '高翔', '林峰', '阿依古丽·买买提'];

export interface Synthetic {
  readonly summary: BatchSummary;
  readonly issued: readonly IssuedCertificate[];
}

/**
 * 20 issued (电工 levels 3/4/5 and 育婴员 levels 3/4), two rejected rows (three problems, one quoting a
 * full ID number in its message), six skipped (不合格 ×2, 缺考, 舞弊, already certified, duplicate in roster).
 */
export function syntheticSummary(opts: { profileId?: string; issueDate?: string; award?: boolean; category?: string; rosterMeta?: Record<string, string> } = {}): Synthetic {
  const issueDate = opts.issueDate ?? '2026-03-09';
  const plan: [string, LevelCode, number][] = [['电工', 3, 4], ['电工', 4, 5], ['电工', 5, 3], ['育婴员', 3, 3], ['育婴员', 4, 5]];
  const issued: IssuedCertificate[] = [];
  let i = 0;
  const serial = new Map<number, number>();
  for (const [occupation, level, n] of plan) {
    for (let k = 0; k < n; k++, i++) {
      const s = (serial.get(level) ?? 0) + 1;
      serial.set(level, s);
      const number = `S00001108401226${level}${String(s).padStart(6, '0')}`;
      issued.push({
        rowNo: i + 3,
        name: NAMES[i]!,
        gender: i % 2 ? '女' : '男',
        idType: '201',
        idNo: idWithCheck(`1101051990${String(1 + (i % 12)).padStart(2, '0')}${String(10 + i).padStart(2, '0')}${String(100 + i)}`),
        // Hostile values ride in the employer column: they reach every workbook that lists it.
        employer: i < HOSTILE.length ? HOSTILE[i]! : `北京市海淀区第${i + 1}供电所`,
        occupation,
        job: occupation === '电工' && level === 3 ? '维修电工' : '',
        level,
        result: '合格',
        issueDate,
        number,
        stockSerial: String(26080001 + i),
        file: `certificates/${number}.pdf`,
        sha256: '0'.repeat(64),
        origin: i === 19 ? 'existing' : 'created',
        ...(opts.award ? { award: ['金奖/第一名', '银奖/第二名', '铜奖/第三名', '优胜奖'][i % 4]!, competitionCategory: opts.category ?? '省级一类' } : {}),
      });
    }
  }
  const leakedId = idWithCheck('11010519800101123');
  const rejected: Problem[] = [
    { rowNo: 30, field: '证件号码', value: '1101**********0000', rule: 'id.precisionLost', message: '证件号码 was stored by Excel as a number and lost its last digits; type it as text in row 30' },
    { rowNo: 30, field: '性别', value: '+1', rule: 'gender', message: '性别 must be 男 or 女; fix row 30' },
    { rowNo: 31, field: '证件号码', value: leakedId, rule: 'id.checkDigit', message: `证件号码 ${leakedId} check digit is wrong (GB 11643); fix the ID number in row 31` },
  ];
  const skipped: SkippedRow[] = [
    { rowNo: 23, reason: 'result', result: '不合格', occupation: '电工', level: 4, message: '认定结果 不合格: counted, no certificate' },
    { rowNo: 24, reason: 'result', result: '不合格', occupation: '育婴员', level: 3, message: '认定结果 不合格: counted, no certificate' },
    { rowNo: 25, reason: 'result', result: '缺考', occupation: '电工', level: 5, message: '认定结果 缺考: counted, no certificate' },
    { rowNo: 26, reason: 'result', result: '舞弊', occupation: '电工', level: 3, message: '认定结果 舞弊: counted, no certificate' },
    { rowNo: 27, reason: 'already-certified', occupation: '育婴员', level: 4, number: 'S000011084012254000007', message: 'already certified under S000011084012254000007' },
    { rowNo: 28, reason: 'duplicate-in-roster', occupation: '电工', level: 4, message: `same person, occupation and level as row 4 (ID ${idWithCheck('11010519900102111')})` },
  ];
  const summary: BatchSummary = {
    batchId: '20260310-haidian-qihang-01',
    profileId: opts.profileId ?? 'haidian-qihang',
    roster: '/data/rosters/2026-03 认定结果.xlsx',
    startedAt: '2026-03-10T01:59:00.000Z',
    finishedAt: '2026-03-10T02:00:00.000Z',
    rowsRead: 28,
    issued,
    rejected,
    skipped,
    fonts: fonts.report(),
    warnings: [],
    timings: { ingest: 12, validate: 30, number: 5, render: 900, sign: 120 },
    ...(opts.rosterMeta ? { rosterMeta: opts.rosterMeta } : {}),
  };
  return { summary, issued };
}

export const organisation = (): Profile => loadProfile('fixtures/profiles/haidian-qihang.json');
export const styleTwo = (): Profile => loadProfile('fixtures/profiles/jingdian-maintenance.json');
export const beijingCompetition = (): Profile => loadProfile('fixtures/profiles/competition-cnc-2026.json');
/** The Beijing competition fixture moved to Sichuan (province 51, seed 001). */
export function sichuanCompetition(): Profile {
  const p = beijingCompetition();
  return {
    ...p,
    id: 'sichuan-cnc-2026',
    name: { zh: '2026年四川省数控技能大赛组委会', en: 'Organising Committee of the 2026 Sichuan CNC Skills Competition' },
    numbering: { rule: 'competition', province: '51', region: '00', issuer: '9999' },
    competition: { name: '2026年四川省数控技能大赛', year: 2026, category: '省级一类', sponsor: '四川省机械工业联合会' },
  };
}

/** Every issued certificate moved into a competition's occupations (车工/铣工 with jobs). */
export function asCompetition(s: Synthetic): BatchSummary {
  return {
    ...s.summary,
    issued: s.summary.issued.map((c) => ({ ...c, occupation: c.occupation === '电工' ? '车工' : '铣工', job: c.occupation === '电工' ? '数控车工' : '数控铣工' })),
  };
}

export interface Identity {
  readonly dir: string;
  readonly signer: ManifestSigner;
  readonly certificatePem: string;
}

/** A throwaway EC P-256 key with a self-signed certificate (openssl), valid from yesterday for `days`. */
export function selfSigned(cn = 'skillcert test manifest signer', days = 30): Identity {
  const dir = tmp('skillcert-id-');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', String(days), '-subj', `/CN=${cn}`], { stdio: 'ignore' });
  const certificatePem = readFileSync(join(dir, 'cert.pem'), 'utf8');
  return { dir, certificatePem, signer: { privateKey: createPrivateKey(readFileSync(join(dir, 'key.pem'))), certificatePem } };
}

/** A root CA and a leaf it issued (RSA leaf when asked), for chains through an anchor. */
export function caIssued(keyType: 'ec' | 'rsa' = 'ec'): { root: string; leaf: Identity } {
  const dir = tmp('skillcert-ca-');
  const f = (n: string) => join(dir, n);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '60', '-subj', '/CN=skillcert test root', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { stdio: 'ignore' });
  const newkey = keyType === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  execFileSync('openssl', ['req', '-new', ...newkey, '-nodes', '-keyout', f('leaf.key'), '-out', f('leaf.csr'), '-subj', '/CN=skillcert test org'], { stdio: 'ignore' });
  writeFileSync(f('ext.cnf'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n');
  execFileSync('openssl', ['x509', '-req', '-in', f('leaf.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('leaf.pem'), '-days', '30', '-extfile', f('ext.cnf')], { stdio: 'ignore' });
  const certificatePem = readFileSync(f('leaf.pem'), 'utf8');
  return { root: readFileSync(f('ca.pem'), 'utf8'), leaf: { dir, certificatePem, signer: { privateKey: createPrivateKey(readFileSync(f('leaf.key'))), certificatePem } } };
}

/** A time inside the certificate's validity (its notBefore + 1 hour). */
export const validTime = (pem: string): Date => new Date(new Date(new X509Certificate(pem).validFrom).getTime() + 3600_000);

/** Text of a PDF as poppler's pdftotext reads it (layout kept, so table rows stay on one line). */
export function pdfText(file: string, layout = true): string {
  return execFileSync('pdftotext', [...(layout ? ['-layout'] : []), '-enc', 'UTF-8', file, '-'], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

export function pdfPages(file: string): number {
  const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
  return Number(/Pages:\s+(\d+)/.exec(info)![1]);
}

/** Every row of the first (or named) sheet as cell values; empty cells and rows as ''. */
export async function readSheet(file: string, sheet?: string): Promise<{ rows: unknown[][]; ws: ExcelJS.Worksheet }> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const ws = sheet ? wb.getWorksheet(sheet)! : wb.worksheets[0]!;
  const rows: unknown[][] = [];
  ws.eachRow({ includeEmpty: true }, (row, n) => {
    // Empty cells (exceljs leaves holes) read as ''.
    rows[n - 1] = Array.from((row.values as unknown[]).slice(1), (v) => v ?? '');
  });
  return { rows: Array.from(rows, (r) => r ?? []), ws };
}

/** A stand-in for a rendered certificate: an A4 landscape page with a recognisable line of text. */
export async function sampleCertificate(marker: string): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([841.89, 595.28]);
  const f = await doc.embedFont(StandardFonts.TimesRoman);
  page.drawText(marker, { x: 120, y: 400, size: 20, font: f });
  page.drawRectangle({ x: 17, y: 17, width: 807.89, height: 561.28, borderWidth: 2, borderColor: rgb(0.6, 0.4, 0.1) });
  return doc.save();
}

/** The raw XML of every worksheet in an .xlsx, to look for <f> (formula) elements exceljs might hide. */
export async function sheetXml(file: string): Promise<string> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true });
  let xml = '';
  for await (const e of zip.eachEntry()) {
    if (!/^xl\/worksheets\/sheet\d+\.xml$/.test(e.fileName)) continue;
    for await (const chunk of await zip.openReadStreamPromise(e)) xml += (chunk as Buffer).toString('utf8');
  }
  zip.close();
  return xml;
}

