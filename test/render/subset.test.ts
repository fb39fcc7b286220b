/**
 * The TrueType subsetter (issue 5) copies glyph bytes instead of re-encoding them: read back with fontkit, every
 * glyph of the subset draws the same outline and advance as in the face, composite glyphs included (their
 * components renumbered), and the font is a valid sfnt with the tables PDF needs.
 */
import test from 'ava';
import * as fontkit from 'fontkit';
import { FontSet } from '../../pipeline/fonts/index.js';
import { TrueTypeSubset } from '../../pipeline/render/subset.js';

const fonts = FontSet.load();

function roundTrip(role: 'fangsong' | 'times', text: string) {
  const face = fonts.primary(role);
  const subset = new TrueTypeSubset(face);
  const ids = [...text].map((ch) => subset.include(face.font.glyphForCodePoint(ch.codePointAt(0)!).id));
  const parsed = fontkit.create(Buffer.from(subset.encode())) as fontkit.Font;
  return { face, ids, parsed };
}

test('each subset glyph has the outline and advance width of the original glyph', (t) => {
  for (const [role, text] of [['fangsong', '阿依古丽·买买提 居民身份证 11010519491231002X 三级/高级工 ——'], ['times', 'November 20, 2026 No.26080001']] as const) {
    const { face, ids, parsed } = roundTrip(role, text);
    [...text].forEach((ch, i) => {
      const original = face.font.glyphForCodePoint(ch.codePointAt(0)!);
      const copy = parsed.getGlyph(ids[i]!);
      t.is(copy.advanceWidth, original.advanceWidth, `${role} "${ch}" advance`);
      t.is(copy.path.toSVG(), original.path.toSVG(), `${role} "${ch}" outline`);
    });
    t.is(parsed.unitsPerEm, face.font.unitsPerEm);
  }
});

test('a composite glyph keeps its components, renumbered into the subset', (t) => {
  // Accented Latin letters are composites of a base letter and an accent in Liberation Serif.
  const text = 'éÅçñ';
  const { face, ids, parsed } = roundTrip('times', text);
  [...text].forEach((ch, i) => {
    t.is(parsed.getGlyph(ids[i]!).path.toSVG(), face.font.glyphForCodePoint(ch.codePointAt(0)!).path.toSVG(), `"${ch}"`);
  });
  t.true(parsed.numGlyphs > new Set(ids).size + 1, 'the components came along (glyphs beyond .notdef and the four letters)');
});

test('a glyph is included once; .notdef is glyph 0', (t) => {
  const face = fonts.primary('times');
  const subset = new TrueTypeSubset(face);
  const a = face.font.glyphForCodePoint(0x41).id;
  t.is(subset.include(a), 1);
  t.is(subset.include(a), 1);
  t.is(subset.include(0), 0);
  t.throws(() => subset.include(1e6), { message: /glyph 1000000 is not in/ });
});
