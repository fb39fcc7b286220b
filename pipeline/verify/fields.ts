/**
 * The printed certificate against its QR code, field by field (issue 14, part 0): what the page draws inside each
 * field box of the style's parameter sheet must equal what the signed QR payload says, and nothing may be drawn over
 * a field box after the field's text (a white box and a new name, an image, other text).
 *
 * Which sheet applies is read from the page itself, not from a profile: the page must have the sheet's size and
 * carry the template layer's seven field labels (姓名：, 证件类型：, … 证书编号：) exactly where that sheet puts them
 * (origin within 0.5 mm). The template layer is printed by Chromium from the same sheet for every certificate of a
 * style, and the two reference styles place their field rows 8 mm apart, so exactly one sheet matches a genuine
 * page. (A profile may override the style its organisation code implies, so the number and organisation code alone
 * would not tell.)
 */
import { fail, pass, type Check } from '../core/check.js';
import { maskId } from '../core/privacy.js';
import { dateEn, dateZh, EMPTY_JOB, levelLabel } from '../core/record.js';
import { loadSheet, MM_PER_PT, PT_PER_MM, type Sheet, type TextElement } from '../render/sheet.js';
import type { QrPayload } from '../stamp/qr.js';
import { intersects, markHits, type Box, type Glyph, type Mark, type PageDrawing } from './page.js';

const STYLES: readonly Sheet['id'][] = ['style-one', 'style-two'];
const compact = (s: string) => s.replace(/\s+/g, '');

/** A sheet element's box in page space: its width, from above the first line's ascenders to below the last line. */
export function fieldBox(el: TextElement, media: Box): Box {
  const size = el.size;
  const lineHeight = el.lineHeight ?? size * MM_PER_PT * 1.2;
  const left = el.align === 'left' ? el.x : el.align === 'center' ? el.x - el.w / 2 : el.x - el.w;
  const firstBaseline = media.y1 - el.y * PT_PER_MM;
  const lastBaseline = media.y1 - (el.y + (el.maxLines - 1) * lineHeight) * PT_PER_MM;
  return { x0: media.x0 + left * PT_PER_MM, x1: media.x0 + (left + el.w) * PT_PER_MM, y0: lastBaseline - 0.3 * size, y1: firstBaseline + 0.95 * size };
}

/** The parameter sheet whose page size and field labels the page has; or why none fits. */
export function sheetOfPage(drawing: PageDrawing): { sheet: Sheet } | { message: string } {
  const { media } = drawing;
  const widthMm = (media.x1 - media.x0) * MM_PER_PT;
  const heightMm = (media.y1 - media.y0) * MM_PER_PT;
  const misses: string[] = [];
  for (const id of STYLES) {
    const sheet = loadSheet(id);
    if (Math.abs(sheet.page.width - widthMm) > 1 || Math.abs(sheet.page.height - heightMm) > 1) {
      misses.push(`${id}: the page is ${widthMm.toFixed(0)} × ${heightMm.toFixed(0)} mm, not ${sheet.page.width} × ${sheet.page.height}`);
      continue;
    }
    const labels = sheet.text.filter((e) => e.layer === 'template' && /^field\.\w+\.label\.zh$/.test(e.id));
    const missing = labels.filter((el) => {
      const baseline = media.y1 - el.y * PT_PER_MM;
      const x0 = media.x0 + (el.x - 0.5) * PT_PER_MM;
      const x1 = media.x0 + (el.x + el.w) * PT_PER_MM;
      const line = drawing.glyphs.filter((g) => g.visible && Math.abs(g.y - baseline) < 0.5 * PT_PER_MM && g.x >= x0 && g.x < x1).sort((a, b) => a.x - b.x);
      return !(line.length > 0 && Math.abs(line[0]!.x - (media.x0 + el.x * PT_PER_MM)) < 0.5 * PT_PER_MM && compact(line.map((g) => g.text).join('')).startsWith(compact(el.text)));
    });
    if (missing.length === 0) return { sheet };
    misses.push(`${id}: ${missing.length} of its ${labels.length} field labels are not where it puts them (${missing.map((e) => e.text).join(' ')})`);
  }
  return { message: `the page follows no known parameter sheet (${misses.join('; ')})` };
}

interface Field {
  readonly id: string;
  readonly label: string;
  /** What the QR payload says the box prints; undefined: only checked for marks drawn over it. */
  readonly expected?: (p: QrPayload) => string;
  /** How the printed text is compared with the payload's value (default: equal, white space aside). */
  readonly agrees?: (printed: string, p: QrPayload) => boolean;
  /** The printed text as it may appear in a message (the ID number only masked, 第十九条). */
  readonly shown?: (printed: string) => string;
}

/**
 * The fields the QR code vouches for, in the order a reader compares them, and the ID type (not in the payload, but
 * part of what the holder shows). The stock serial ("No.") and the reissue note are not in the payload.
 */
const FIELDS: readonly Field[] = [
  { id: 'field.number', label: '证书编号', expected: (p) => p.number },
  { id: 'field.name', label: '姓名', expected: (p) => p.name },
  { id: 'field.occupation', label: '职业名称', expected: (p) => p.occupation },
  { id: 'field.job', label: '工种/职业方向', expected: (p) => p.job || EMPTY_JOB },
  { id: 'field.level', label: '职业技能等级', expected: (p) => levelLabel(p.level) },
  { id: 'issueDate', label: '发证日期', expected: (p) => dateZh(p.issueDate) },
  { id: 'issueDate.en', label: 'Issue date', expected: (p) => dateEn(p.issueDate) },
  // The printed ID number is whole (第八条); the QR carries it masked (第十九条): they agree when the mask matches.
  {
    id: 'field.idNo', label: '证件号码', expected: (p) => p.idMasked,
    agrees: (printed, p) => { const t = compact(printed); return t.length === p.idMasked.length && maskId(t) === p.idMasked; },
    shown: (printed) => maskId(compact(printed)),
  },
  { id: 'field.idType', label: '证件类型' },
];

const MARK_WORDS: Record<Mark['kind'], string> = {
  fill: 'a filled shape', stroke: 'a stroked line', image: 'an image', shading: 'a shading', annotation: 'an annotation', 'hiding text': 'text in white',
};

const MAX_BOX_GLYPHS = 400;
const centre = (g: Glyph): [number, number] => [(g.box.x0 + g.box.x1) / 2, (g.box.y0 + g.box.y1) / 2];
const inside = (b: Box, [x, y]: [number, number]) => x >= b.x0 && x <= b.x1 && y >= b.y0 && y <= b.y1;
const shrink = (b: Box, d: number): Box => ({ x0: b.x0 + d, y0: b.y0 + d, x1: b.x1 - d, y1: b.y1 - d });
const area = (b: Box) => Math.max(0, b.x1 - b.x0) * Math.max(0, b.y1 - b.y0);
const overlap = (a: Box, b: Box) => area({ x0: Math.max(a.x0, b.x0), y0: Math.max(a.y0, b.y0), x1: Math.min(a.x1, b.x1), y1: Math.min(a.y1, b.y1) });

/** The text of a box's glyphs in reading order: lines top to bottom (baselines within 0.3 em), each left to right. */
function readingOrder(glyphs: readonly Glyph[]): string {
  const lines: Glyph[][] = [];
  for (const g of [...glyphs].sort((a, b) => b.y - a.y)) {
    const line = lines[lines.length - 1];
    if (line && Math.abs(line[0]!.y - g.y) < 0.3 * g.size) line.push(g);
    else lines.push([g]);
  }
  return lines.map((l) => l.sort((a, b) => a.x - b.x).map((g) => g.text).join('')).join('');
}

/** What one field box shows, and every way it was tampered with. */
function inspect(field: Field, box: Box, drawing: PageDrawing): { printed: string; problems: string[] } {
  const problems: string[] = [];
  const mine = drawing.glyphs.filter((g) => g.visible && inside(box, centre(g)));
  const edge = shrink(box, 0.5);
  const crossing = drawing.glyphs.filter((g) => g.visible && !inside(box, centre(g)) && intersects(g.box, edge) && overlap(g.box, edge) > 0.2 * area(g.box));
  const shown = field.shown ?? ((t: string) => t);
  if (crossing.length > 0) problems.push(`text crosses the edge of the ${field.label} box ("${shown(crossing.map((g) => g.text).join(''))}")`);
  if (mine.length === 0) return { printed: '', problems };
  const first = Math.min(...mine.map((g) => g.seq));
  const over = drawing.marks.filter((m) => m.seq > first && markHits(m, shrink(box, 0.3)));
  if (over.length > 0) problems.push(`${[...new Set(over.map((m) => MARK_WORDS[m.kind]))].join(' and ')} drawn over the ${field.label} box after its text`);
  // Pairwise below; a box never holds more than a few dozen genuine glyphs.
  if (mine.length > MAX_BOX_GLYPHS) {
    problems.push(`${mine.length} glyphs are drawn in the ${field.label} box`);
    return { printed: readingOrder(mine.slice(0, MAX_BOX_GLYPHS)), problems };
  }
  const stacked = mine.some((g, i) => mine.some((h, k) => k > i && overlap(g.box, h.box) > 0.3 * Math.min(area(g.box), area(h.box))));
  if (stacked) problems.push(`text drawn over text in the ${field.label} box`);
  return { printed: readingOrder(mine), problems };
}

/**
 * The check `qr.printedText`: every field box of the sheet prints exactly the payload's value, and nothing was drawn
 * over one after its text. The message names each field that fails and what its box prints.
 */
export function printedFieldsCheck(payload: QrPayload, drawing: PageDrawing, sheet: Sheet): Check {
  const elements = new Map(sheet.text.map((e) => [e.id, e]));
  const notPrinted: string[] = [];
  const printedInstead: string[] = [];
  const tampered: string[] = [];
  for (const field of FIELDS) {
    const el = elements.get(field.id);
    if (!el) continue;
    const { printed, problems } = inspect(field, fieldBox(el, drawing.media), drawing);
    tampered.push(...problems);
    if (field.expected) {
      const want = field.expected(payload);
      const ok = field.agrees ? field.agrees(printed, payload) : compact(printed) === compact(want);
      if (!ok) {
        notPrinted.push(`${field.label} "${want}"`);
        printedInstead.push(`${field.label} "${(field.shown ?? ((s: string) => s))(compact(printed))}"`);
      }
    } else if (compact(printed) === '') {
      tampered.push(`the ${field.label} box prints nothing`);
    }
  }
  if (notPrinted.length === 0 && tampered.length === 0) {
    return pass('qr.printedText', `the QR payload agrees with what the field boxes of ${sheet.id} print (number, name, occupation, job, level, issue date, ID number), and nothing is drawn over them`);
  }
  const parts: string[] = [];
  if (notPrinted.length > 0) parts.push(`not printed: ${notPrinted.join(', ')} in their field boxes (they print ${printedInstead.join(', ')})`);
  if (tampered.length > 0) parts.push(tampered.join('; '));
  const hint = notPrinted.length > 0 && tampered.length === 0 ? ' (a QR code from another certificate?)' : tampered.length > 0 ? ' (the printed text was changed after it was drawn)' : '';
  return fail('qr.printedText', `the QR code does not match the printed certificate: ${parts.join('; ')}${hint}`);
}
