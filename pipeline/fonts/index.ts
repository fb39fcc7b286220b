/**
 * Font roles (SPEC §5): 楷体 → kai, 仿宋 → fangsong, Times New Roman → times.
 * Each role resolves to a chain of faces: licensed files an organisation dropped into fonts/, then open fallbacks.
 * Every face is parsed once per process (re-parsing a CJK face costs ~60 ms) and shared by the coverage check,
 * the layout measurements and the PDF embedding, so what is measured is what is drawn.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import * as fontkit from './fontkit.js';
import { SkillcertError } from '../core/errors.js';
import type { RoleReport } from '../core/summary.js';
import { FONTS_DIR } from '../core/paths.js';
import config from '../../fonts/fonts.json' with { type: 'json' };

export type Role = 'kai' | 'fangsong' | 'times';
export const ROLES: readonly Role[] = ['kai', 'fangsong', 'times'];

export interface Face {
  readonly file: string;
  /** Bytes of the file, kept for embedding into PDFs. */
  readonly bytes: Uint8Array;
  readonly font: fontkit.Font;
  readonly postscriptName: string;
  readonly family: string;
  readonly weight: number;
  readonly italic: boolean;
  /** true when the face is one of the open fallbacks, not an organisation's licensed file. */
  readonly fallback: boolean;
}

export type { RoleReport } from '../core/summary.js';

/** A run of text drawn with one face. */
export interface Run {
  readonly text: string;
  readonly face: Face;
}

const faceCache = new Map<string, Face>();

/**
 * A font file read into a SharedArrayBuffer: worker threads get the same memory (FontSet.files) instead of a
 * copy each — a batch's CJK faces are ~15 MB apiece.
 */
function readShared(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const bytes = Buffer.from(new SharedArrayBuffer(size));
    for (let at = 0; at < size; ) {
      const n = readSync(fd, bytes, at, size - at, at);
      if (n === 0) throw new Error(`${file} ended after ${at} of ${size} bytes`);
      at += n;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/**
 * A face from a file, or from a font collection (.ttc) as `file#PostScriptName`: Debian's Noto CJK faces come
 * only as collections.
 */
function openFace(file: string, fallback: boolean, given?: Uint8Array): Face {
  const cached = faceCache.get(file);
  if (cached) return cached;
  const [path, member] = splitMember(file);
  const bytes = given ? Buffer.from(given.buffer, given.byteOffset, given.byteLength) : readShared(path);
  let font: fontkit.Font;
  try {
    const created = member ? fontkit.create(bytes, member) : fontkit.create(bytes);
    if (!created || !('glyphForCodePoint' in created)) {
      throw new Error(member ? `the collection has no face named ${member}` : 'a font collection; name one face as file#PostScriptName');
    }
    font = created as fontkit.Font;
  } catch (err) {
    throw new SkillcertError('E_FONT', `cannot read font ${file}: ${(err as Error).message}`, { file }, { cause: err });
  }
  const os2 = (font as unknown as { 'OS/2'?: { usWeightClass?: number } })['OS/2'];
  const face: Face = {
    file,
    bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    font,
    postscriptName: font.postscriptName,
    family: font.familyName,
    weight: os2?.usWeightClass ?? 400,
    italic: /italic|oblique/i.test(font.subfamilyName ?? ''),
    fallback,
  };
  faceCache.set(file, face);
  return face;
}

function splitMember(file: string): [path: string, member: string | undefined] {
  const hash = file.lastIndexOf('#');
  return hash > 0 ? [file.slice(0, hash), file.slice(hash + 1)] : [file, undefined];
}

/** Every role of fonts/fonts.json: the certificate's text roles and `seal`, the demo seals' face. */
export type ConfiguredRole = keyof typeof config.roles;

export interface FontSetOptions {
  /** Folder where licensed files are looked for (default: the project's fonts/). */
  readonly fontsDir?: string;
  /** Override the chain per role with explicit files (tests). */
  readonly chains?: Partial<Record<ConfiguredRole, readonly string[]>>;
  /** Font files already read (another thread's FontSet.files()), by path: used instead of reading them again. */
  readonly files?: ReadonlyMap<string, Uint8Array>;
}

/**
 * The chain of one role: the first licensed file present in fonts/, then the open fallbacks that are present.
 * Throws E_FONT when nothing serves the role.
 */
export function resolveChain(role: ConfiguredRole, opts: FontSetOptions = {}): readonly Face[] {
  const dir = opts.fontsDir ?? FONTS_DIR;
  const spec = config.roles[role];
  const explicit = (opts.chains as Partial<Record<ConfiguredRole, readonly string[]>> | undefined)?.[role];
  const entries: { file: string; fallback: boolean }[] = explicit
    ? explicit.map((file) => ({ file, fallback: true }))
    : [
        ...spec.licensed.map((f) => ({ file: join(dir, f), fallback: false })),
        ...spec.fallbacks.map((f) => ({ file: isAbsolute(f) ? f : join(dir, f), fallback: true })),
      ];
  const present = entries.filter((e) => existsSync(splitMember(e.file)[0]));
  // One licensed file per role is enough; further licensed names are alternatives, not a chain.
  const firstLicensed = present.find((e) => !e.fallback);
  const chosen = present.filter((e) => e.fallback || e === firstLicensed);
  if (chosen.length === 0) {
    throw new SkillcertError(
      'E_FONT',
      `no font for role ${role} (${spec.reference}): drop a licensed file named ${spec.licensed[0]} into ${dir}, or install the open fallbacks with scripts/setup-system.sh`,
      { role },
    );
  }
  return chosen.map((e) => openFace(e.file, e.fallback, opts.files?.get(e.file)));
}

/** The resolved chains of all roles. Create once per process with `FontSet.load()`. */
export class FontSet {
  private constructor(private readonly chains: Record<Role, readonly Face[]>) {}

  static load(opts: FontSetOptions = {}): FontSet {
    const chains = {} as Record<Role, readonly Face[]>;
    for (const role of ROLES) chains[role] = resolveChain(role, opts);
    return new FontSet(chains);
  }

  chain(role: Role): readonly Face[] {
    return this.chains[role];
  }

  primary(role: Role): Face {
    return this.chains[role][0]!;
  }

  /** Every face of every chain, once. */
  faces(): Face[] {
    return [...new Set(ROLES.flatMap((r) => this.chains[r]))];
  }

  /** The bytes of every face's file, by path (shared memory, see readShared), for FontSetOptions.files. */
  files(): Map<string, Uint8Array> {
    return new Map(this.faces().map((f) => [f.file, f.bytes]));
  }

  /** Characters of `text` that no face of the role's chain covers (whitespace is never a problem). */
  uncovered(text: string, role: Role): string[] {
    const missing = new Set<string>();
    for (const ch of text) {
      if (/\s/u.test(ch)) continue;
      const cp = ch.codePointAt(0)!;
      if (!this.chains[role].some((f) => glyphOf(f, cp).id !== 0)) missing.add(ch);
    }
    return [...missing];
  }

  /**
   * Splits text into runs by face. The first face that covers the whole text draws all of it, so one value is
   * never a patchwork of faces; only when no single face covers it does each character take the first face that has it.
   * Throws E_FONT naming the character when none does: a blank box is never printed.
   */
  runs(text: string, role: Role, where: string): Run[] {
    const chain = this.chains[role];
    const whole = chain.find((f) => [...text].every((ch) => /\s/u.test(ch) || glyphOf(f, ch.codePointAt(0)!).id !== 0));
    if (whole) return text ? [{ text, face: whole }] : [];
    const runs: { text: string; face: Face }[] = [];
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      const face = /\s/u.test(ch) && runs.length ? runs[runs.length - 1]!.face : chain.find((f) => glyphOf(f, cp).id !== 0);
      if (!face) throw uncoveredError(ch, role, where);
      const last = runs[runs.length - 1];
      if (last && last.face === face) last.text += ch;
      else runs.push({ text: ch, face });
    }
    return runs;
  }

  /**
   * Runs of a bilingual text whose Chinese is printed in one role and everything else in another (the reference's
   * "中文：楷体 英文：TimesNewRoman"). A space stays in the run it is in, so a blank never switches faces.
   */
  scriptRuns(text: string, cjk: Role, latin: Role, where: string): Run[] {
    const out: Run[] = [];
    let buf = '';
    let role: Role | undefined;
    const flush = () => {
      if (buf && role) out.push(...this.runs(buf, role, where));
      buf = '';
    };
    for (const ch of text) {
      const r = isCjk(ch) ? cjk : latin;
      if (r !== role && !(ch === ' ' && role)) { flush(); role = r; }
      buf += ch;
    }
    flush();
    return out;
  }

  report(): RoleReport[] {
    return ROLES.map((role) => ({
      role,
      reference: config.roles[role].reference,
      faces: this.chains[role].map((f) => ({ file: f.file, postscriptName: f.postscriptName, fallback: f.fallback })),
      fallback: this.chains[role][0]!.fallback,
    }));
  }
}

/** Chinese script, CJK and full-width punctuation, and the marks Chinese text sets full width (— · ‘’“” …). */
export function isCjk(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  return (
    (cp >= 0x2e80 && cp <= 0x9fff) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xffef) || cp >= 0x20000 || cp === 0x2014 || cp === 0x00b7 || (cp >= 0x2018 && cp <= 0x201d) ||
    cp === 0x2026 || (cp >= 0x3000 && cp <= 0x303f)
  );
}

const glyphs = new WeakMap<Face, Map<number, { readonly id: number; readonly advance: number }>>();

/**
 * The glyph id (0: the face does not have the character) and advance width (font units) of a code point,
 * memoised per face: fontkit looks each one up in the cmap and hmtx tables again on every call, and layout
 * measures the same characters over and over while it wraps and shrinks.
 */
export function glyphOf(face: Face, codePoint: number): { readonly id: number; readonly advance: number } {
  let map = glyphs.get(face);
  if (!map) glyphs.set(face, (map = new Map()));
  let g = map.get(codePoint);
  if (!g) {
    const glyph = face.font.glyphForCodePoint(codePoint);
    g = { id: glyph.id, advance: glyph.advanceWidth };
    map.set(codePoint, g);
  }
  return g;
}

export function uncoveredError(ch: string, role: ConfiguredRole, where: string): SkillcertError {
  const code = `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  return new SkillcertError(
    'E_FONT',
    `${where}: the character ${ch} (${code}) is not in any ${role} font (${basename(config.roles[role].licensed[0]!)} or its fallbacks); add a font that has it to fonts/ or correct the text`,
    { field: where, character: ch, codePoint: code, role },
  );
}

/** Advance width of text in a face, in mm at `sizePt`, without kerning or ligatures (as both renderers draw it). */
export function widthMm(text: string, face: Face, sizePt: number): number {
  let units = 0;
  for (const ch of text) units += glyphOf(face, ch.codePointAt(0)!).advance;
  return (units / face.font.unitsPerEm) * sizePt * (25.4 / 72);
}
