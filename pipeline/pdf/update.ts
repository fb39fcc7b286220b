/**
 * PDF incremental updates (PDF 32000-1 §7.5.6) on a base document parsed once: each update is the base's bytes
 * unchanged, then the objects it adds or replaces, a cross-reference section for those objects only and a
 * trailer whose /Prev points at the base's cross-reference table.
 *
 * This is how a certificate is made from its template: the template (frame, constant text, seals, fonts printed
 * by Chromium — about 70 KB) is parsed once per process, and each certificate appends only its page (with its
 * overlay content stream and resources), its fonts, its photo and its signature. Loading the template and saving
 * the whole document again for every certificate, twice (overlay, then signature placeholder), was most of the
 * time of a certificate. The signature of the update covers the whole file (/ByteRange to its end), as when the
 * document was rewritten.
 *
 * Used by render (the overlay) and sign (the signature field): a codec like `cells.ts`, not a stage.
 */
import {
  PDFArray,
  PDFContext,
  PDFCrossRefSection,
  PDFDict,
  PDFDocument,
  PDFName,
  PDFNumber,
  type PDFObject,
  PDFRef,
  PDFTrailer,
  PDFTrailerDict,
} from './lib.js';

/** Offset of the last cross-reference table of `bytes`, from its `startxref`. */
function lastXref(bytes: Uint8Array): number {
  const tail = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1', Math.max(0, bytes.length - 1024));
  const m = /startxref\s+(\d+)\s+%%EOF\s*$/.exec(tail);
  if (!m) throw new RangeError('the base PDF does not end with startxref and %%EOF');
  const at = Number(m[1]);
  if (Buffer.from(bytes.subarray(at, at + 4)).toString('latin1') !== 'xref') {
    throw new RangeError('the base PDF ends with a cross-reference stream; save it with useObjectStreams: false so that updates can follow it');
  }
  return at;
}

/**
 * A PDF parsed once, to which independent incremental updates are appended. A base may also be a parsed file
 * plus updates written on it since (`after`): their objects lie over the parsed ones, so that a certificate's
 * second signature and its DSS follow the first without parsing the file again (~4 ms a parse).
 */
export class PdfBase {
  private constructor(
    /** The base file, written unchanged at the start of every update. */
    readonly bytes: Uint8Array,
    /** The parsed base: read-only, shared by every update. Look objects up with `lookup`, which sees `after`'s. */
    readonly doc: PDFDocument,
    /** Offset of the base's last cross-reference table: the update's /Prev. */
    readonly prevXref: number,
    /** First object number free for new objects (the base trailer's /Size). */
    readonly size: number,
    /** Objects of the updates written since `doc` was parsed, by number: they replace the parsed ones. */
    private readonly later: ReadonlyMap<number, PDFObject> = new Map(),
    /** The document information dictionary when an update made one (the parsed trailer has none). */
    readonly infoRef?: PDFRef,
  ) {}

  /**
   * The base for the next update of a file: `update` as written in `bytes` (its saved file, signature included)
   * on top of its own base. Nothing is parsed: the update's objects are the ones just written.
   */
  static after(update: PdfUpdate, bytes: Uint8Array): PdfBase {
    const base = update.base;
    const later = new Map(base.later);
    for (const [ref, obj] of update.context.enumerateIndirectObjects()) later.set(ref.objectNumber, obj);
    const size = Math.max(base.size, update.context.largestObjectNumber + 1);
    return new PdfBase(bytes, base.doc, lastXref(bytes), size, later, update.infoRef ?? base.infoRef);
  }

  /**
   * Parses `bytes`. The base must end with a cross-reference TABLE (pdf-lib writes one with useObjectStreams:
   * false): the update's own section is a table, and PDF 32000 §7.5.8.4 does not mix the two forms that way.
   */
  static async parse(bytes: Uint8Array): Promise<PdfBase> {
    const doc = await PDFDocument.load(bytes, { updateMetadata: false });
    const prevXref = lastXref(bytes);
    if (doc.context.trailerInfo.Encrypt) throw new RangeError('the base PDF is encrypted');
    return new PdfBase(bytes, doc, prevXref, doc.context.largestObjectNumber + 1);
  }

  get root(): PDFRef {
    return this.doc.context.trailerInfo.Root as PDFRef;
  }

  /** A base object, following references. */
  lookup(obj: PDFObject | undefined): PDFObject | undefined {
    return obj instanceof PDFRef ? (this.later.get(obj.objectNumber) ?? this.doc.context.lookup(obj)) : obj;
  }

  /** The document catalog, as the last update left it. */
  catalog(): PDFDict {
    const catalog = this.lookup(this.root);
    if (!(catalog instanceof PDFDict)) throw new RangeError('the PDF has no catalog dictionary');
    return catalog;
  }
}

/** A serialized update: the whole file, and where each written object starts in it. */
export interface SavedUpdate {
  readonly bytes: Buffer;
  readonly offsets: ReadonlyMap<number, number>;
}

const latin1 = (s: string) => Buffer.from(s, 'latin1');

/** One incremental update of a PdfBase: new objects, and replacements of base objects under their own numbers. */
export class PdfUpdate {
  /** Holds the update's objects; new ones are numbered from the base's /Size on. */
  readonly context: PDFContext;
  private readonly edits = new Map<number, PDFDict>();
  /** The information dictionary this update made (its base has none). */
  infoRef?: PDFRef;

  constructor(readonly base: PdfBase) {
    this.context = PDFContext.create();
    this.context.largestObjectNumber = base.size - 1;
  }

  register(obj: PDFObject): PDFRef {
    return this.context.register(obj);
  }

  /** A ref for an object assigned later (e.g. a signature dictionary whose size is settled at the end). */
  nextRef(): PDFRef {
    return this.context.nextRef();
  }

  /**
   * The dictionary of base object `ref`, to change in this update: a shallow copy, written under the same number.
   * Nested dictionaries and arrays are still the base's: replace them (see `child`), never change them in place.
   */
  edit(ref: PDFRef): PDFDict {
    let dict = this.edits.get(ref.objectNumber);
    if (!dict) {
      const original = this.base.lookup(ref);
      if (!(original instanceof PDFDict)) throw new RangeError(`object ${ref.objectNumber} of the base PDF is not a dictionary`);
      dict = original.clone(this.context);
      this.edits.set(ref.objectNumber, dict);
      this.context.assign(ref, dict);
    }
    return dict;
  }

  /** A copy of `dict[key]` (a dictionary, direct or referenced, or a new empty one) set directly into `dict`. */
  child(dict: PDFDict, key: string): PDFDict {
    const name = PDFName.of(key);
    const value = this.base.lookup(dict.get(name));
    const copy = value instanceof PDFDict ? value.clone(this.context) : this.context.obj({});
    dict.set(name, copy);
    return copy;
  }

  /** A copy of the array `dict[key]` (or of a single value, or a new empty array) with `items` appended. */
  append(dict: PDFDict, key: string, ...items: PDFObject[]): void {
    const name = PDFName.of(key);
    const current = dict.get(name);
    const value = this.base.lookup(current);
    const array = value instanceof PDFArray ? value.clone(this.context) : PDFArray.withContext(this.context);
    if (current && !(value instanceof PDFArray)) array.push(current);
    for (const item of items) array.push(item);
    dict.set(name, array);
  }

  /**
   * The page at `index` (of the base's page tree), to change in this update. Its resources are on the page itself
   * even when the base lets the page inherit them from the page tree, so that adding to them adds to all of them.
   */
  page(index: number): { ref: PDFRef; dict: PDFDict } {
    const pages = this.base.doc.getPages();
    const page = pages[index];
    if (!page) throw new RangeError(`Expected a page index 0-${pages.length - 1} but received ${index}`);
    const dict = this.edit(page.ref);
    const resources = PDFName.of('Resources');
    if (!dict.has(resources)) {
      const inherited = page.node.Resources();
      if (inherited) dict.set(resources, inherited);
    }
    return { ref: page.ref, dict };
  }

  catalog(): PDFDict {
    return this.edit(this.base.root);
  }

  /** The document information dictionary, to change in this update (a new one when the base has none). */
  info(): PDFDict {
    const ref = this.base.doc.context.trailerInfo.Info ?? this.base.infoRef;
    if (ref instanceof PDFRef) return this.edit(ref);
    if (!this.infoRef) this.infoRef = this.register(this.context.obj({}));
    return this.context.lookup(this.infoRef, PDFDict);
  }

  /** The base followed by this update: its objects by number, its cross-reference section and its trailer. */
  save(): SavedUpdate {
    const objects = this.context.enumerateIndirectObjects().sort(([a], [b]) => a.objectNumber - b.objectNumber);
    const base = this.base.bytes;
    // The base ends with %%EOF, perhaps without an end-of-line: the update starts on a line of its own.
    const lead = base[base.length - 1] === 0x0a || base[base.length - 1] === 0x0d ? '' : '\n';
    const heads = objects.map(([ref]) => latin1(`${ref.objectNumber} ${ref.generationNumber} obj\n`));
    const tail = latin1('\nendobj\n');
    let size = base.length + lead.length;
    objects.forEach(([, obj], i) => (size += heads[i]!.length + obj.sizeInBytes() + tail.length));

    const xref = PDFCrossRefSection.createEmpty();
    const offsets = new Map<number, number>();
    let at = base.length + lead.length;
    objects.forEach(([ref, obj], i) => {
      offsets.set(ref.objectNumber, at);
      xref.addEntry(ref, at);
      at += heads[i]!.length + obj.sizeInBytes() + tail.length;
    });
    const { Info, ID } = this.base.doc.context.trailerInfo;
    const info = Info instanceof PDFRef ? Info : (this.base.infoRef ?? this.infoRef);
    const trailerDict = this.context.obj({
      Size: PDFNumber.of(Math.max(this.base.size, this.context.largestObjectNumber + 1)),
      Root: this.base.root,
      ...(info ? { Info: info } : {}),
      ...(ID ? { ID } : {}),
      Prev: PDFNumber.of(this.base.prevXref),
    });
    const trailer = PDFTrailerDict.of(trailerDict);
    const startxref = PDFTrailer.forLastCrossRefSectionOffset(at);
    size += xref.sizeInBytes() + trailer.sizeInBytes() + 1 + startxref.sizeInBytes();

    const out = Buffer.allocUnsafe(size);
    out.set(base, 0);
    let o = base.length + out.write(lead, base.length, 'latin1');
    objects.forEach(([, obj], i) => {
      o += heads[i]!.copy(out, o);
      o += obj.copyBytesInto(out, o);
      o += tail.copy(out, o);
    });
    o += xref.copyBytesInto(out, o);
    o += trailer.copyBytesInto(out, o);
    out[o++] = 0x0a;
    o += startxref.copyBytesInto(out, o);
    if (o !== size) throw new Error(`internal: the update is ${o} bytes, ${size} were reserved`);
    return { bytes: out, offsets };
  }
}
