/**
 * The certificate-style filing material (证书样本备案材料, seed 002 附件3; 第十一条: filed within 20 working
 * days of the organisation's filing receipt and again within 10 working days of a change of name, seal or
 * style). One PDF in the outline of 附件3: cover (机构备案号, 评价机构（盖章）, date), contents, the
 * organisation's particulars, the seal images, each style's sample certificate page at actual size
 * (embedded, not redrawn), and the style's parameter sheet as a table.
 */
import { readFile } from 'node:fs/promises';
import type { PDFImage, PDFPage } from '../../pdf/lib.js';
import { SkillcertError } from '../../core/errors.js';
import type { FontSet } from '../../fonts/index.js';
import { type Profile, profilePath } from '../../core/profile.js';
import { loadSheet } from '../../render/sheet.js';
import { chinaDate, filingNumber, issuerName, jobPrinted, levelText, zhDate } from '../model.js';
import { BOTTOM, CONTENT_W, continuation, MARGIN, title } from './forms.js';
import { LABEL, PdfKit } from './kit.js';
import { drawTable, type TableRow } from './table.js';

export type StyleId = 'style-one' | 'style-two';

export interface SampleCertificate {
  /** Which reference style the sample follows (default: the profile's). */
  readonly styleId?: StyleId;
  /** Caption, e.g. 三级/高级工 样张. */
  readonly label?: string;
  /** A certificate PDF (rendered, stamped, signed); its first page is embedded at actual size. */
  readonly bytes: Uint8Array;
}

export interface FilingMaterialOptions {
  /** 机构备案号; default: positions 1-13 of the organisation's certificate numbers (the bureau's part). */
  readonly filingNo?: string;
  /** Folder of the parameter sheets (default templates/styles). */
  readonly stylesDir?: string;
}

export const FILING_TITLE = '北京市职业技能等级证书备案材料';

/** 附件3 目录, plus the parameter table this software adds under 三. */
export const OUTLINE = [
  { key: 'intro', text: '一、评价机构备案情况简介' },
  { key: 'seals', text: '二、职业技能等级证书印章' },
  { key: 'style', text: '三、职业技能等级证书样式及规格参数' },
  { key: 'cover', text: '（一）证书封皮', sub: true },
  { key: 'content', text: '（二）证书内容', sub: true },
  { key: 'params', text: '（三）规格参数表', sub: true },
  { key: 'basis', text: '四、职业技能等级证书管理工作依据' },
  { key: 'b1', text: '（一）职业技能等级证书管理制度', sub: true },
  { key: 'b2', text: '（二）职业技能等级证书印章使用管理制度', sub: true },
  { key: 'b3', text: '（三）职业技能等级证书补办、信息更正办法', sub: true },
  { key: 'b4', text: '（四）职业技能等级证书风险防控措施', sub: true },
] as const;

const ROLE_NAME: Record<string, string> = { kai: '楷体', fangsong: '仿宋', times: 'Times New Roman', mixed: '楷体 / Times New Roman' };
const STYLE_NAME: Record<StyleId, string> = { 'style-one': '参考样式（一）', 'style-two': '参考样式（二）' };
const BLANK = '（由评价机构填写）';

async function embedImage(kit: PdfKit, bytes: Uint8Array, where: string): Promise<PDFImage> {
  const png = bytes[0] === 0x89 && bytes[1] === 0x50;
  const jpg = bytes[0] === 0xff && bytes[1] === 0xd8;
  if (!png && !jpg) throw new SkillcertError('E_PROFILE', `${where} is neither PNG nor JPEG; save the seal image as PNG`, { field: where });
  return png ? kit.doc.embedPng(bytes) : kit.doc.embedJpg(bytes);
}

const mm = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));

export async function filingMaterialPdf(
  profile: Profile,
  fonts: FontSet,
  now: Date,
  samples: readonly SampleCertificate[],
  opts: FilingMaterialOptions = {},
): Promise<Uint8Array> {
  if (samples.length === 0) {
    throw new SkillcertError('E_USAGE', 'the filing material (附件3) needs at least one sample certificate PDF: pass sampleCertificates', { field: 'sampleCertificates' });
  }
  const T = FILING_TITLE;
  const kit = await PdfKit.create(fonts, { title: T, subject: profile.name.zh, now, seed: `filing-material/${profile.id}` });
  const pageOf: Record<string, number> = {};
  const mark = (key: string) => { pageOf[key] = kit.pageCount; };
  const newPage = continuation(kit, T);
  const filingNo = opts.filingNo ?? filingNumber(profile);

  // Cover (附件3: 机构备案号, title, 评价机构（盖章）, 年 月 日).
  kit.addPage();
  await kit.field('机构备案号：', filingNo, MARGIN, 30, 110, 12);
  await kit.text(T, MARGIN, 110, { size: 24, script: LABEL, align: 'center', w: CONTENT_W, minSize: 14 });
  await kit.field('评价机构（盖章）：', profile.name.zh, MARGIN + 20, 200, CONTENT_W - 40, 14);
  await kit.text(zhDate(chinaDate(now)), MARGIN, 215, { size: 14, script: LABEL, align: 'center', w: CONTENT_W });

  // Contents: drawn once the page numbers are known.
  const contents: PDFPage = kit.addPage();

  // 一、简介
  kit.addPage();
  mark('intro');
  await title(kit, OUTLINE[0].text, 24, 15);
  const styles = [...new Set(samples.map((s) => s.styleId ?? profile.styleId))];
  const info: TableRow[] = [
    ['评价机构名称', profile.name.zh],
    ['英文名称', profile.name.en],
    ['机构类别', profile.category === 'Y' ? 'Y 用人单位' : 'S 社会培训评价组织'],
    ['机构备案号', filingNo],
    ['发证机构', issuerName(profile)],
    ['证书样式', styles.map((s) => STYLE_NAME[s]).join('、')],
    ['上级部门', BLANK],
    ['备案时间', BLANK],
    ['数据归集管理', BLANK],
  ].map(([a, b]) => ({ cells: [a!, b!] }));
  let y = await drawTable(kit, 34, info, { x: MARGIN, bottom: BOTTOM, newPage, size: 10.5, minRowHeight: 8, columns: [{ header: '项目', width: 40 }, { header: '内容', width: CONTENT_W - 40 }] });
  await kit.text('备案的职业（工种）范围', MARGIN, y + 8, { size: 11, script: LABEL });
  const scope: TableRow[] = profile.scope.flatMap((e) =>
    (e.jobs.length ? e.jobs : ['']).map((job) => ({ cells: [e.occupation, jobPrinted(job), e.levels.map((l) => levelText(l)).join('、')] })),
  );
  y = await drawTable(kit, y + 11, scope, { x: MARGIN, bottom: BOTTOM, newPage, size: 10, columns: [{ header: '职业名称', width: 50 }, { header: '工种/职业方向', width: 50 }, { header: '职业技能等级', width: 80 }] });

  // 二、印章: each seal at the size it is printed on the certificate (the parameter sheet's box).
  kit.addPage();
  mark('seals');
  await title(kit, OUTLINE[1].text, 24, 15);
  await kit.paragraph('印章内容包括：评价机构职业技能等级证书印章名称、启用时间；已开通电子印章的，注明电子印章启用时间。以下为证书所用印章样式，按证书上的实际尺寸排列。', MARGIN, 36, CONTENT_W, 10.5, { indent: 2 });
  const sheet = loadSheet(profile.styleId, opts.stylesDir);
  const seals: { label: string; file: string; w: number; h: number }[] = [];
  const box = (id: string) => sheet.images.find((i) => i.id === id);
  const ev = box('seal.evaluation');
  seals.push({ label: `评价机构印章（${profile.name.zh}）`, file: profile.seals.evaluation, w: ev?.w ?? 40, h: ev?.h ?? 40 });
  if (profile.branch) {
    const b = box('seal.branch');
    seals.push({ label: `发证机构印章（${profile.branch.name.zh}）`, file: profile.branch.seal, w: b?.w ?? 40, h: b?.h ?? 40 });
  }
  if (profile.seals.steel) {
    const s = box('seal.steel');
    seals.push({ label: '钢印（照片处）', file: profile.seals.steel, w: s?.w ?? 24, h: s?.h ?? 24 });
  }
  let sx = MARGIN;
  let sy = 56;
  let lowest = sy;
  for (const s of seals) {
    const path = profilePath(profile, s.file);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (err) {
      throw new SkillcertError('E_PROFILE', `cannot read the seal image ${path}: ${(err as Error).message}; fix the seal path in profile ${profile.id}`, { field: 'seals' }, { cause: err });
    }
    const img = await embedImage(kit, bytes, path);
    if (sx + s.w + 10 > MARGIN + CONTENT_W) { sx = MARGIN; sy += 70; }
    kit.rect(sx, sy, s.w + 10, s.h + 10, { width: 0.4, gray: 0.5 });
    kit.image(img, sx + 5, sy + 5, s.w, s.h);
    const colW = Math.max(s.w + 10, 55);
    const after = await kit.paragraph(s.label, sx, sy + s.h + 16, colW, 9, { lineHeight: 4.2 });
    await kit.field('启用时间：', undefined, sx, after + 2, colW, 9);
    lowest = Math.max(lowest, after + 2);
    sx += Math.max(s.w + 10, 55) + 8;
  }
  await kit.text('图一：印章样式', MARGIN, lowest + 14, { size: 10.5, script: LABEL, align: 'center', w: CONTENT_W });

  // 三、样式及规格参数
  kit.addPage();
  mark('style');
  await title(kit, OUTLINE[2].text, 24, 15);
  mark('cover');
  await kit.text(OUTLINE[3].text, MARGIN, 38, { size: 12, script: LABEL });
  await kit.paragraph('证书封皮由评价机构设计（第七条），请另附各级别证书封皮的清晰扫描图片，并按封皮实际大小调整图片尺寸（图二）。', MARGIN, 46, CONTENT_W, 10.5, { indent: 2 });
  kit.rect(MARGIN + 30, 58, CONTENT_W - 60, 60, { width: 0.4, gray: 0.5 });
  await kit.text('图二：证书封皮（另附）', MARGIN, 92, { size: 10.5, script: LABEL, align: 'center', w: CONTENT_W });
  mark('content');
  await kit.text(OUTLINE[4].text, MARGIN, 132, { size: 12, script: LABEL });
  const list = samples.map((s, i) => `样张 ${i + 1}：${STYLE_NAME[s.styleId ?? profile.styleId]}${s.label ? `，${s.label}` : ''}`).join('；');
  await kit.paragraph(`图三：证书内容，按实际大小附后。${list}。`, MARGIN, 140, CONTENT_W, 10.5, { indent: 2 });
  const samplePages = new Set<number>();
  for (const [i, s] of samples.entries()) {
    let embedded;
    try {
      [embedded] = await kit.doc.embedPdf(s.bytes, [0]);
    } catch (err) {
      throw new SkillcertError('E_USAGE', `sample certificate ${i + 1} is not a readable PDF: ${(err as Error).message}; pass the bytes of a rendered certificate`, { field: 'sampleCertificates' }, { cause: err });
    }
    // Actual size: a page exactly as large as the certificate, the certificate drawn at scale 1.
    samplePages.add(kit.pageCount);
    const page = kit.doc.addPage([embedded!.width, embedded!.height]);
    page.drawPage(embedded!, { x: 0, y: 0, width: embedded!.width, height: embedded!.height });
  }
  kit.addPage();
  mark('params');
  await title(kit, OUTLINE[5].text, 24, 15);
  y = 30;
  for (const styleId of styles) {
    const sh = loadSheet(styleId, opts.stylesDir);
    await kit.paragraph(`${STYLE_NAME[styleId]}：${sh.title}。页面 ${mm(sh.page.width)} mm × ${mm(sh.page.height)} mm；坐标自页面左上角起算，文字 y 为基线。`, MARGIN, y + 4, CONTENT_W, 9.5);
    const rows: TableRow[] = [
      ...sh.text.map((e) => ({ cells: [e.id, ROLE_NAME[e.role] ?? e.role, mm(e.size), mm(e.x), mm(e.y), mm(e.w), e.align] })),
      ...sh.images.map((e) => ({ cells: [e.id, `图片（${e.kind}）`, '—', mm(e.x), mm(e.y), `${mm(e.w)}（高 ${mm(e.h)}）`, '—'] })),
    ];
    y = await drawTable(kit, y + 14, rows, {
      x: MARGIN, bottom: BOTTOM, newPage, size: 8.5, minSize: 6.5,
      columns: [
        { header: '元素', width: 50 }, { header: '字体', width: 38 }, { header: '字号 pt', width: 16, align: 'right' },
        { header: 'x mm', width: 16, align: 'right' }, { header: 'y mm', width: 16, align: 'right' }, { header: '宽 w mm', width: 26, align: 'right' },
        { header: '对齐', width: 18 },
      ],
    });
  }

  // 四、管理工作依据: the organisation attaches its own rules.
  kit.addPage();
  mark('basis');
  await title(kit, OUTLINE[6].text, 24, 15);
  y = 36;
  y = await kit.paragraph('请评价机构将现行职业技能等级证书管理工作依据附后，如：证书管理制度、印章使用管理制度、证书信息准确性与数据安全性管理措施、证书领取档案管理制度、证书遗失补办、信息更正办法、证书风险防控措施等。', MARGIN, y, CONTENT_W, 10.5, { indent: 2 });
  for (const key of ['b1', 'b2', 'b3', 'b4'] as const) {
    mark(key);
    const entry = OUTLINE.find((o) => o.key === key)!;
    await kit.text(entry.text, MARGIN, y + 6, { size: 11.5, script: LABEL });
    await kit.text('（附后）', MARGIN + 8, y + 14, { size: 10.5, script: LABEL });
    y += 22;
  }

  // 目录, now that every section's page is known.
  await kit.text('目　录', MARGIN, 30, { size: 18, script: LABEL, align: 'center', w: CONTENT_W }, contents);
  let cy = 48;
  for (const o of OUTLINE) {
    const x = MARGIN + ('sub' in o && o.sub ? 10 : 0);
    const n = String(pageOf[o.key] ?? '');
    await kit.text(o.text, x, cy, { size: 11.5, script: LABEL }, contents);
    const end = x + kit.measure(o.text, 11.5, LABEL) + 2;
    const right = MARGIN + CONTENT_W - kit.measure(n, 11.5, LABEL) - 2;
    if (right > end) kit.line(end, cy, right, cy, { dash: true, gray: 0.5, width: 0.4 }, contents);
    await kit.text(n, MARGIN, cy, { size: 11.5, script: LABEL, align: 'right', w: CONTENT_W }, contents);
    cy += 9;
  }
  // A sample page stays exactly as the certificate is: no page number printed over it.
  await kit.pageNumbers('', samplePages);
  return kit.save();
}
