/**
 * The QR encoder's shortcuts (issue 5) give what qrcode itself gives: segments at most as long as its optimiser's,
 * and for the same segments the same mask, hence the same symbol.
 */
import test from 'ava';
import QRCode from 'qrcode';
import { buildQrText, qrSegments, qrSymbol, type QrInput } from '../../pipeline/stamp/qr.js';
import { testSigner } from '../sign/_identity.js';

const NAMES = ['王芳', '阿依古丽·买买提', '李', '欧阳娜娜', '阿卜杜拉·买买提'];
const OCCUPATIONS: [string, string][] = [['电工', ''], ['计算机程序设计员', '网络与信息安全管理员'], ['中式烹调师', ''], ['育婴员', '']];

function texts(n: number): string[] {
  const signer = testSigner();
  return Array.from({ length: n }, (_, i) => {
    const [occupation, job] = OCCUPATIONS[i % OCCUPATIONS.length]!;
    const input: QrInput = {
      number: `S0000110840122${(3 + (i % 3)).toString()}${String(i).padStart(7, '0')}`, name: NAMES[i % NAMES.length]!, idNo: '11010519491231002X',
      occupation, job, level: (1 + (i % 5)) as QrInput['level'], issueDate: '2026-11-20', orgCode: '0000',
    };
    return buildQrText(input, signer, { verifyUrl: i % 2 ? 'https://verify.example.org/cert?lang=zh' : 'http://jndj.osta.org.cn/' });
  });
}

/** Bits of a list of segments at a version (ISO/IEC 18004: mode indicator, character count, data). */
function bits(segments: readonly { mode: 'Numeric' | 'Alphanumeric' | 'Byte'; length: number }[], version: number): number {
  const range = version <= 9 ? 0 : version <= 26 ? 1 : 2;
  const countBits = { Numeric: [10, 12, 14], Alphanumeric: [9, 11, 13], Byte: [8, 16, 16] };
  return segments.reduce((sum, { mode, length: n }) => {
    const data = mode === 'Numeric' ? Math.floor(n / 3) * 10 + [0, 4, 7][n % 3]! : mode === 'Alphanumeric' ? Math.floor(n / 2) * 11 + (n % 2) * 6 : n * 8;
    return sum + 4 + countBits[mode][range]! + data;
  }, 0);
}

const MODE = { numeric: 'Numeric', alphanumeric: 'Alphanumeric', byte: 'Byte' } as const;

test('the segments of a QR text are never longer than the ones qrcode finds with its own optimiser', (t) => {
  for (const text of texts(40)) {
    const ours = bits(qrSegments(text, 13).map((sg) => ({ mode: MODE[sg.mode as keyof typeof MODE], length: (sg.data as string | Uint8Array).length })), 13);
    // qrcode's optimiser, on the same version range (10-26)
    const theirs = bits(QRCode.create(text, { errorCorrectionLevel: 'L', version: 13 }).segments.map((sg) => ({ mode: sg.mode.id as 'Numeric' | 'Alphanumeric' | 'Byte', length: (sg as unknown as { getLength(): number }).getLength() })), 13);
    t.true(ours <= theirs, `${ours} > ${theirs} bits for ${text.slice(0, 60)}…`);
  }
});

test('for the same segments, the symbol (and so the mask) is the one qrcode chooses', (t) => {
  for (const text of texts(40)) {
    for (const [level, version] of [['M', 13], ['Q', 13], ['L', 12], ['H', 20]] as const) {
      const ours = qrSymbol(text, level, version);
      let reference: QRCode.QRCode | undefined;
      try {
        reference = QRCode.create(qrSegments(text, version), { errorCorrectionLevel: level, version });
      } catch {
        reference = undefined;
      }
      t.is(ours === undefined, reference === undefined, `${level} v${version}: fits for one and not the other`);
      if (!ours || !reference) continue;
      t.is(ours.maskPattern, reference.maskPattern, `${level} v${version}`);
      t.deepEqual(ours.modules.data, reference.modules.data);
    }
  }
});

test('the mask qrcode chooses for every size of symbol: 21 modules (one 32-bit word a line) to 177 (six), and lines ending on a word boundary', (t) => {
  // Lines of 32 and 64 modules do not occur (sizes are 17 + 4v); 21, 29, 33, 61, 65 and 177 bracket the word edges.
  const short = ['HELLO 12345', 'skillcert', 'A'.repeat(60), '0123456789'.repeat(12)];
  for (const [version, text] of [[1, short[0]], [3, short[1]], [4, short[2]], [11, short[3]], [12, short[3]], [40, texts(1)[0]!]] as const) {
    for (const level of ['L', 'M', 'Q', 'H'] as const) {
      const ours = qrSymbol(text!, level, version);
      if (!ours) continue;
      const reference = QRCode.create(qrSegments(text!, version), { errorCorrectionLevel: level, version });
      t.is(ours.maskPattern, reference.maskPattern, `${level} v${version}`);
      t.deepEqual(ours.modules.data, reference.modules.data, `${level} v${version}`);
    }
  }
});

test('without a version, the smallest version that holds the text at the level', (t) => {
  const [text] = texts(1);
  const symbol = qrSymbol(text!, 'M')!;
  t.is(qrSymbol(text!, 'M', symbol.version - 1), undefined);
  t.truthy(qrSymbol(text!, 'M', symbol.version));
  t.is(qrSymbol('A'.repeat(5000), 'H'), undefined, 'too long for version 40');
});
