/**
 * XML of one workbook part, pushed through the SAX parser saxes chunk by chunk. Bytes are decoded here (UTF-8, or
 * UTF-16 with a BOM as OPC allows) with fatal decoders, so a damaged byte is an error and never a U+FFFD in a name.
 * Bounds: saxes keeps a text node, a tag or a comment in memory until it ends, so the characters fed since its
 * last tag or text event are counted and a run longer than `maxRun` is refused before it grows (a 200 MB text
 * node is refused after about 1 MB); and elements nest at most MAX_DEPTH deep (its tag stack is memory too).
 */
import { TextDecoder } from 'node:util';
import type { SaxesParser } from 'saxes';
import { SkillcertError } from '../core/errors.js';
import { requireCjs } from '../core/cjs.js';

const saxes = requireCjs('saxes') as typeof import('saxes');

/** Far deeper than any SpreadsheetML part (a rich-text run in a shared string is 4 deep). */
const MAX_DEPTH = 256;
/** Characters handed to the parser at once; the run bound is checked after each slice. */
const SLICE = 65_536;

export type Attributes = Readonly<Record<string, string>>;

export interface XmlHandler {
  /** `name` is the local name (prefix dropped: transitional and strict OOXML use other prefixes and namespaces). */
  open(name: string, attrs: Attributes): void;
  close(name: string): void;
  text?(text: string): void;
}

export function localName(qname: string): string {
  const i = qname.indexOf(':');
  return i < 0 ? qname : qname.slice(i + 1);
}

/** The value of a prefixed attribute such as r:id, whatever the prefix. */
export function prefixedAttr(attrs: Attributes, local: string): string | undefined {
  for (const [k, v] of Object.entries(attrs)) if (k.endsWith(`:${local}`)) return v;
  return undefined;
}

export class XmlStream {
  private readonly parser: SaxesParser<{ xmlns: false; fileName: string }>;
  private decoder: TextDecoder | undefined;
  private head: Buffer | undefined;
  /** Parser position (characters) at its last event. */
  private lastEvent = 0;
  private depth = 0;

  /** `fail(what)` makes the error for this part: "… the part P <what>; …"; `limit` when a bound was met. */
  constructor(
    part: string,
    private readonly fail: (what: string, cause?: unknown, limit?: boolean) => Error,
    private readonly maxRun: number,
    handler: XmlHandler,
  ) {
    const p = new saxes.SaxesParser({ xmlns: false, fileName: part });
    this.parser = p;
    const mark = () => {
      this.lastEvent = p.position;
    };
    // Only the five events needed are listened to: saxes stores each handler as a property added to the parser, and
    // from eight on V8 turns it into a dictionary-mode object (%HasFastProperties) — the parse ran 4–5 times slower.
    // A comment, processing instruction or DOCTYPE therefore counts towards the run until the next tag or text.
    p.on('opentag', (tag) => {
      mark();
      if (++this.depth > MAX_DEPTH) throw this.fail(`nests elements more than ${MAX_DEPTH} deep`, undefined, true);
      handler.open(localName(tag.name), tag.attributes);
    });
    p.on('closetag', (tag) => {
      mark();
      this.depth--;
      handler.close(localName(tag.name));
    });
    p.on('text', (t) => {
      mark();
      handler.text?.(t);
    });
    p.on('cdata', (t) => {
      mark();
      handler.text?.(t);
    });
    p.on('error', (err) => {
      throw this.fail(`is not well-formed XML (${err.message})`, err);
    });
  }

  write(chunk: Buffer): void {
    if (!this.decoder) {
      // The encoding is known from the first two bytes; a first chunk of one byte waits for the next.
      const head = this.head ? Buffer.concat([this.head, chunk]) : chunk;
      if (head.length < 2) {
        this.head = head;
        return;
      }
      this.head = undefined;
      this.decoder = decoderFor(head);
      chunk = head;
    }
    this.feed(this.decode(chunk, true));
  }

  end(): void {
    if (!this.decoder) this.decoder = decoderFor(this.head ?? Buffer.alloc(0));
    if (this.head) this.feed(this.decode(this.head, true));
    this.feed(this.decode(undefined, false));
    try {
      this.parser.close();
    } catch (err) {
      throw this.wrap(err);
    }
  }

  private decode(chunk: Buffer | undefined, stream: boolean): string {
    try {
      return this.decoder!.decode(chunk, { stream });
    } catch (err) {
      throw this.fail(`is not valid ${this.decoder!.encoding.toUpperCase()} text`, err);
    }
  }

  private feed(text: string): void {
    for (let i = 0; i < text.length; i += SLICE) {
      try {
        this.parser.write(text.length <= SLICE ? text : text.slice(i, i + SLICE));
      } catch (err) {
        throw this.wrap(err);
      }
      if (this.parser.position - this.lastEvent > this.maxRun) {
        throw this.fail(`has a text or tag of more than ${this.maxRun.toLocaleString('en-US')} characters (Excel's own limit for a cell is 32,767)`, undefined, true);
      }
    }
  }

  /** A handler's own error passes; anything saxes throws is bad XML. */
  private wrap(err: unknown): Error {
    if (err instanceof SkillcertError) return err;
    return this.fail(`is not well-formed XML (${(err as Error).message})`, err);
  }
}

function decoderFor(head: Buffer): TextDecoder {
  if (head[0] === 0xff && head[1] === 0xfe) return new TextDecoder('utf-16le', { fatal: true });
  if (head[0] === 0xfe && head[1] === 0xff) return new TextDecoder('utf-16be', { fatal: true });
  return new TextDecoder('utf-8', { fatal: true });
}
