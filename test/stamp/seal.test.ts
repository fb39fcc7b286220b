import test from 'ava';
import sharp from 'sharp';
import { SkillcertError } from '../../pipeline/core/errors.js';
import { demoSealFace, demoSealSvg, makeDemoSeal } from '../../pipeline/stamp/demo-seal.js';

const NAME = '北京海淀演示技能评价中心';

async function pixels(png: Buffer) {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * 4, (y * info.width + x) * 4 + 4));
  return { data, info, at };
}

test('the demo seal is a 40 mm, 300 dpi PNG with a transparent background and red ink', async (t) => {
  const png = await makeDemoSeal(NAME);
  const meta = await sharp(png).metadata();
  t.is(meta.format, 'png');
  t.deepEqual([meta.width, meta.height], [472, 472]);
  t.true(meta.hasAlpha);
  t.is(meta.density, 300);
  const { data, at } = await pixels(png);
  t.is(at(2, 2)[3], 0, 'corner is transparent');
  const centre = at(236, 236); // inside the star
  t.true(centre[3]! > 200 && centre[0]! > 180 && centre[1]! < 40 && centre[2]! < 60, `centre ${centre}`);
  let inked = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i]! > 128) inked++;
  const ringAndStarOnly = await makeDemoSeal('·');
  const { data: d2 } = await pixels(ringAndStarOnly);
  let inked2 = 0;
  for (let i = 3; i < d2.length; i += 4) if (d2[i]! > 128) inked2++;
  t.true(inked > inked2 * 1.3, `the name adds ink: ${inked} vs ${inked2} pixels`);
});

test('the seal is marked 演示章 and draws each character of the name as a glyph outline, not as text for fontconfig', (t) => {
  const svg = demoSealSvg(NAME);
  t.false(/<text|font-family/.test(svg));
  const drawn = [...svg.matchAll(/<path data-char="([^"]+)"[^>]* d="([^"]*)"/g)].map((m) => [m[1]!, m[2]!] as const);
  t.deepEqual(drawn.map(([ch]) => ch).join(''), `${NAME}演示章`);
  for (const [ch, d] of drawn) t.true(d.length > 40, `${ch} has an outline`);
});

test('the seal font is the seal role of fonts/fonts.json: Noto Serif CJK SC Bold from fonts-noto-cjk unless a licensed 宋体 is dropped in', (t) => {
  const face = demoSealFace();
  t.is(face.postscriptName, 'NotoSerifCJKsc-Bold');
  t.true(face.fallback);
  t.is(face.file, '/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc#NotoSerifCJKsc-Bold');
});

test('a seal character that no face of the seal role has is refused by name, never drawn as a box', (t) => {
  const err = t.throws(() => demoSealSvg('演示\u{10FFFD}中心'), { instanceOf: SkillcertError });
  t.is((err as SkillcertError).code, 'E_FONT');
  t.regex(err!.message, /seal text: the character .* \(U\+10FFFD\) is not in any seal font/);
});

test('the steel-seal variant is grey and semi-transparent', async (t) => {
  const png = await makeDemoSeal(NAME, { variant: 'steel' });
  const { data } = await pixels(png);
  let maxAlpha = 0;
  let maxChroma = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3]! < 20) continue;
    maxAlpha = Math.max(maxAlpha, data[i + 3]!);
    maxChroma = Math.max(maxChroma, Math.max(data[i]!, data[i + 1]!, data[i + 2]!) - Math.min(data[i]!, data[i + 1]!, data[i + 2]!));
  }
  t.true(maxAlpha < 230, `max alpha ${maxAlpha}`);
  t.true(maxChroma <= 4, `grey: max chroma ${maxChroma}`);
});

test('size and resolution are options', async (t) => {
  const meta = await sharp(await makeDemoSeal(NAME, { diameterMm: 20, dpi: 600 })).metadata();
  t.deepEqual([meta.width, meta.height, meta.density], [472, 472, 600]);
});

test('a seal text with a forbidden word of 第七条 is refused with the word', (t) => {
  const err = t.throws(() => demoSealSvg('中国演示技能评价中心'), { instanceOf: SkillcertError });
  t.is((err as SkillcertError).code, 'E_LINT');
  t.regex(err!.message, /forbidden word "中国" \(第七条\)/);
  t.throws(() => demoSealSvg('演示评价中心', { subtitle: '国家演示章' }), { message: /seal subtitle "国家演示章" contains the forbidden word "国家"/ });
  t.throws(() => demoSealSvg(''), { message: /empty/ });
});
