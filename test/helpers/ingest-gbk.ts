/**
 * A GBK encoder for tests. Node decodes GBK (TextDecoder 'gbk', GB18030's two-byte part) but has no encoder, so
 * the table is built by decoding every two-byte sequence once; 王建国 comes out as CD F5 BD A8 B9 FA, the bytes
 * Excel on Chinese Windows writes (checked in the tests against that hand-written example).
 */
let table: Map<string, Buffer> | undefined;

function gbkTable(): Map<string, Buffer> {
  if (table) return table;
  table = new Map();
  const decoder = new TextDecoder('gbk', { fatal: true });
  for (let lead = 0x81; lead <= 0xfe; lead++) {
    for (let trail = 0x40; trail <= 0xfe; trail++) {
      if (trail === 0x7f) continue;
      const bytes = Buffer.from([lead, trail]);
      let ch: string;
      try {
        ch = decoder.decode(bytes);
      } catch {
        continue;
      }
      if (ch.length === 1 && !table.has(ch)) table.set(ch, bytes);
    }
  }
  return table;
}

/** Text → GBK bytes; ASCII as is; throws for a character GBK does not have. */
export function encodeGbk(text: string): Buffer {
  const t = gbkTable();
  const out: Buffer[] = [];
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code < 0x80) out.push(Buffer.from([code]));
    else {
      const b = t.get(ch);
      if (!b) throw new Error(`GBK has no ${ch} (U+${code.toString(16)})`);
      out.push(b);
    }
  }
  return Buffer.concat(out);
}
