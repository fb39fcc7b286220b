/**
 * Parameter sheets (templates/styles/*.json): every element's position, box, alignment, font role and size,
 * in mm from the page's top-left corner, text y = baseline. The single source: the template, the overlay
 * and the tests all read the expanded element list from here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { SkillcertError } from '../core/errors.js';
import { STYLES_DIR } from '../core/paths.js';

export const TextRole = z.enum(['kai', 'fangsong', 'times', 'mixed']);
export type TextRole = z.infer<typeof TextRole>;

const TextElement = z.object({
  id: z.string(),
  /** template: constant for an organisation and style, rendered once by Chromium; overlay: per certificate, drawn by pdf-lib. */
  layer: z.enum(['template', 'overlay']),
  /** mixed: Chinese in kai, Latin in times, as the reference's "中文：楷体 英文：TimesNewRoman". */
  role: TextRole,
  size: z.number().positive(),
  /** Long text shrinks in 0.5 pt steps down to this size before it is refused. */
  minSize: z.number().positive().optional(),
  x: z.number(),
  y: z.number(),
  w: z.number().positive(),
  align: z.enum(['left', 'center', 'right']),
  maxLines: z.number().int().positive().default(1),
  lineHeight: z.number().positive().optional(),
  /** First-line indent in ems (Chinese paragraphs indent two characters). */
  indent: z.number().nonnegative().default(0),
  /** Printed only when its text is not empty (e.g. the reissue note). */
  optional: z.boolean().default(false),
  /** Handlebars text; `org`, `branch` and `f` (the printed fields) are in scope. */
  text: z.string(),
});
export type TextElement = z.infer<typeof TextElement>;

const ImageElement = z.object({
  id: z.string(),
  kind: z.enum(['photo', 'qr', 'seal', 'steel']),
  /** For seals: which profile seal (evaluation, branch, steel). */
  source: z.enum(['evaluation', 'branch', 'steel']).optional(),
  x: z.number(),
  y: z.number(),
  w: z.number().positive(),
  h: z.number().positive(),
  optional: z.boolean().default(false),
});
export type ImageElement = z.infer<typeof ImageElement>;

const FieldRow = z.object({ id: z.enum(['name', 'idType', 'idNo', 'occupation', 'job', 'level', 'number']), zh: z.string(), en: z.string() });

const SheetFile = z.object({
  id: z.enum(['style-one', 'style-two']),
  title: z.string(),
  source: z.string(),
  page: z.object({ width: z.number(), height: z.number() }),
  frame: z.object({ outer: z.number(), inner: z.number(), color: z.string() }),
  text: z.array(TextElement),
  fields: z.object({
    labelX: z.number(), valueX: z.number(), valueW: z.number(), y0: z.number(), pitch: z.number(),
    labelSize: z.number(), valueSize: z.number(), valueMinSize: z.number(), enOffset: z.number(),
    valueMaxLines: z.number().int().positive(), valueLineHeight: z.number(),
    rows: z.array(FieldRow).length(7),
  }),
  images: z.array(ImageElement),
});

export interface Sheet {
  readonly id: 'style-one' | 'style-two';
  readonly title: string;
  readonly page: { readonly width: number; readonly height: number };
  readonly frame: { readonly outer: number; readonly inner: number; readonly color: string };
  /** Every text element, the seven field rows expanded into label (zh, en) and value elements. */
  readonly text: readonly TextElement[];
  readonly images: readonly ImageElement[];
}

const cache = new Map<string, Sheet>();

export function loadSheet(styleId: 'style-one' | 'style-two', dir = STYLES_DIR): Sheet {
  const file = join(dir, `${styleId}.json`);
  const hit = cache.get(file);
  if (hit) return hit;
  const parsed = SheetFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new SkillcertError('E_RENDER', `parameter sheet ${file} is not valid: ${issues}`);
  }
  const s = parsed.data;
  const f = s.fields;
  const rows: TextElement[] = s.fields.rows.flatMap((row, i) => {
    const y = f.y0 + i * f.pitch;
    const base = { minSize: undefined, maxLines: 1, lineHeight: undefined, indent: 0, optional: false, align: 'left' as const };
    return [
      { ...base, id: `field.${row.id}.label.zh`, layer: 'template' as const, role: 'kai' as const, size: f.labelSize, x: f.labelX, y, w: f.valueX - f.labelX, text: row.zh },
      { ...base, id: `field.${row.id}.label.en`, layer: 'template' as const, role: 'times' as const, size: f.labelSize, x: f.labelX, y: y + f.enOffset, w: f.valueX - f.labelX, text: row.en },
      // 第九条: fill-in values in 小四号仿宋 (12 pt)
      { ...base, id: `field.${row.id}`, layer: 'overlay' as const, role: 'fangsong' as const, size: f.valueSize, minSize: f.valueMinSize, x: f.valueX, y, w: f.valueW, maxLines: f.valueMaxLines, lineHeight: f.valueLineHeight, text: `{{f.${row.id}}}` },
    ];
  });
  const sheet: Sheet = { id: s.id, title: s.title, page: s.page, frame: s.frame, text: [...s.text, ...rows], images: s.images };
  cache.set(file, sheet);
  return sheet;
}

export const MM_PER_PT = 25.4 / 72;
export const PT_PER_MM = 72 / 25.4;
