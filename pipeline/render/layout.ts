/**
 * Text layout shared by both renderers: wraps and shrinks a text into its sheet box and places every run in mm.
 * Chromium (template layer) and pdf-lib (overlay layer) then draw exactly these runs at exactly these origins,
 * so the tests can measure the PDF against the sheet.
 */
import { SkillcertError } from '../core/errors.js';
import { type Face, type FontSet, isCjk, uncoveredError, widthMm } from '../fonts/index.js';
import { MM_PER_PT, type TextElement, type TextRole } from './sheet.js';

export interface PlacedRun {
  readonly text: string;
  readonly face: Face;
  /** Origin of the run (left end of its baseline), mm from the page's top-left corner. */
  readonly x: number;
  readonly y: number;
  readonly width: number;
}

export interface PlacedLine {
  readonly text: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly runs: readonly PlacedRun[];
}

export interface PlacedText {
  readonly id: string;
  readonly layer: TextElement['layer'];
  readonly role: TextRole;
  /** The size actually used: the sheet's, or smaller when a long text had to shrink. */
  readonly size: number;
  readonly lines: readonly PlacedLine[];
}

interface Piece { text: string; face: Face }

/** Runs of one line for a role, each with its face; `mixed` prints Chinese in kai and the rest in times. */
function piecesFor(text: string, role: TextRole, fonts: FontSet, where: string): Piece[] {
  return role === 'mixed' ? fonts.scriptRuns(text, 'kai', 'times', where) : fonts.runs(text, role, where);
}

function measure(text: string, role: TextRole, fonts: FontSet, sizePt: number, where: string): number {
  return piecesFor(text, role, fonts, where).reduce((w, p) => w + widthMm(p.text, p.face, sizePt), 0);
}

// Line-breaking rules (禁则): closing punctuation never starts a line, opening punctuation never ends one.
const NO_LINE_START = new Set([...'，。、；：！？）」』》〉】”’,.;:!?)]}%']);
const NO_LINE_END = new Set([...'（「『《〈【“‘([{']);

/** Breakable units: a Latin word with its trailing spaces, or one CJK character, with 禁则 punctuation glued on. */
export function tokenize(text: string): string[] {
  const raw = text.match(/[\p{Script=Latin}\p{N}'’.,;:!?()\-\/@&%_#+=*"[\]{}<>~]+\s*|\s+|./gsu) ?? [];
  const out: string[] = [];
  for (const t of raw) {
    const first = [...t][0]!;
    const prev = out[out.length - 1];
    if (prev !== undefined && (NO_LINE_START.has(first) || NO_LINE_END.has([...prev].at(-1)!))) out[out.length - 1] = prev + t;
    else out.push(t);
  }
  return out;
}

/** Greedy wrap into lines no wider than `width`; a single token wider than a line is broken between characters. */
function wrap(text: string, width: number, firstIndent: number, m: (s: string) => number): string[] {
  const lines: string[] = [];
  let line = '';
  let avail = width - firstIndent;
  const push = () => { lines.push(line.trimEnd()); line = ''; avail = width; };
  for (const token of tokenize(text)) {
    if (m((line + token).trimEnd()) <= avail + 1e-6) { line += token; continue; }
    if (line.trim()) push();
    const t = line ? token : token.trimStart();
    if (m(t.trimEnd()) <= avail + 1e-6) { line = t; continue; }
    for (const ch of t) {
      if (line && m((line + ch).trimEnd()) > avail + 1e-6) push();
      line += ch;
    }
  }
  if (line.trim() || lines.length === 0) lines.push(line.trimEnd());
  return lines;
}

/**
 * Places `text` in the element's box: at the sheet's size if it fits in `maxLines`, otherwise 0.5 pt smaller
 * at a time down to `minSize`; text that still does not fit is refused (E_RENDER), never printed outside its box.
 */
export function layoutText(el: TextElement, text: string, fonts: FontSet, where = el.id): PlacedText {
  const minSize = el.minSize ?? el.size;
  const lineHeightAt = (size: number) => (el.lineHeight ?? el.size * MM_PER_PT * 1.2) * (size / el.size);
  for (let size = el.size; size >= minSize - 1e-9; size -= 0.5) {
    const m = (s: string) => measure(s, el.role, fonts, size, where);
    const indent = el.indent * size * MM_PER_PT;
    const lines = wrap(text, el.w, indent, m);
    if (lines.length > el.maxLines) continue;
    const lh = lineHeightAt(size);
    const placed = lines.map((line, i): PlacedLine => {
      const width = m(line);
      const lead = i === 0 ? indent : 0;
      const x = el.align === 'left' ? el.x + lead : el.align === 'center' ? el.x - width / 2 : el.x - width;
      const y = el.y + i * lh;
      let cx = x;
      const runs = piecesFor(line, el.role, fonts, where).map((p) => {
        const w = widthMm(p.text, p.face, size);
        const run = { text: p.text, face: p.face, x: cx, y, width: w };
        cx += w;
        return run;
      });
      return { text: line, x, y, width, runs };
    });
    return { id: el.id, layer: el.layer, role: el.role, size, lines: placed };
  }
  throw new SkillcertError(
    'E_RENDER',
    `${where} is too long for its box (${el.w} mm × ${el.maxLines} line(s)) even at ${minSize} pt: "${text}"; shorten it or widen ${el.id} in the parameter sheet`,
    { field: where },
  );
}

/** Characters of a text that no face of its role covers (the `mixed` role checks each script against its own chain). */
export function uncoveredIn(text: string, role: TextRole, fonts: FontSet): string[] {
  if (role !== 'mixed') return fonts.uncovered(text, role);
  return [...new Set([...text].filter((ch) => fonts.uncovered(ch, isCjk(ch) ? 'kai' : 'times').length > 0))];
}

export function assertCovered(text: string, role: TextRole, fonts: FontSet, where: string): void {
  const missing = uncoveredIn(text, role, fonts);
  if (missing.length > 0) throw uncoveredError(missing[0]!, role === 'mixed' ? 'kai' : role, where);
}
