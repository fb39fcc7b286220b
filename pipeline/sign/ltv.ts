/**
 * PAdES B-LT and B-LTA (ETSI EN 319 142-1 §5.4): after the signatures, one incremental update adds the Document
 * Security Store — /Certs, /OCSPs and /CRLs streams, and a /VRI entry per signature keyed by the upper-case hex
 * SHA-1 of its /Contents — and, for B-LTA, a document timestamp (/Type /DocTimeStamp, /SubFilter ETSI.RFC3161)
 * over the whole file, DSS included. Earlier revisions are never rewritten: their signatures stay intact.
 * A DSS already in the file is kept and extended (its streams are referenced again, data already there is not
 * added twice), which is how `skillcert extend` renews an archive.
 */
import { createHash } from 'node:crypto';
import { PDFDict, PDFHexString, PDFName, PDFNumber, type PDFObject, type PDFRef } from '../pdf/lib.js';
import { readDssOf } from '../pdf/dss.js';
import { PdfBase, PdfUpdate } from '../pdf/update.js';
import { docTimestampDictionary, sigFlags, uniqueFieldName } from './placeholder.js';
import { mergeValidation, type ValidationData } from './revocation.js';
import { writeSigned } from './sign-pdf.js';
import { requestTimestampOfDigest, type TsaOptions } from './tsa.js';


export interface AddValidationOptions {
  /** Certificates and revocation data for every signature and timestamp in the file. */
  readonly data: ValidationData;
  /** Signatures (their /Contents bytes) to give a /VRI entry; by default every signature found. */
  readonly vri?: readonly Buffer[];
  /** B-LTA: the TSA of the document timestamp. */
  readonly docTimestamp?: TsaOptions;
}

/** First guess for a document timestamp token; the retry uses the measured size. */
const TOKEN_ALLOWANCE = 6144;
const tokenLength = new Map<string, number>();

/** The /Contents bytes (padding included) of every signature and document timestamp, in file order, by a scan of /ByteRange. */
export function signatureContents(pdf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (const m of pdf.toString('latin1').matchAll(/\/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)) {
    const l1 = Number(m[1]);
    const o2 = Number(m[2]);
    if (pdf[l1] !== 0x3c || pdf[o2 - 1] !== 0x3e) continue;
    out.push(Buffer.from(pdf.toString('latin1', l1 + 1, o2 - 1).replace(/\s+/g, ''), 'hex'));
  }
  return out;
}

/** ETSI EN 319 142-1 §5.4.2.2: the VRI key of a signature, the upper-case hex SHA-1 of its /Contents. */
export const vriKey = (contents: Uint8Array): string => createHash('sha1').update(contents).digest('hex').toUpperCase();

/**
 * Appends the DSS (and for B-LTA the document timestamp) to a signed PDF as one incremental update. `signed` is
 * the file, or — for a certificate just signed — its PdfBase after the signature (PdfBase.after), not parsed again.
 */
export async function addValidation(signed: Buffer | PdfBase, o: AddValidationOptions): Promise<Buffer> {
  const base = signed instanceof PdfBase ? signed : await PdfBase.parse(signed);
  const pdf = Buffer.from(base.bytes.buffer, base.bytes.byteOffset, base.bytes.byteLength);
  const dssNow = readDssOf(base.catalog(), (obj) => base.lookup(obj));
  const update = new PdfUpdate(base);
  const ctx = update.context;
  const catalog = update.catalog();
  const old = { dict: dssNow.dict, data: dssNow, refs: dssNow.refs };
  const have = new Set([...old.data.certs, ...old.data.ocsps, ...old.data.crls].map((b) => createHash('sha256').update(b).digest('hex')));
  const stream = (bytes: Buffer) => update.register(ctx.flateStream(bytes));
  const refsByHash = new Map<string, PDFRef>();
  const oldKinds = [
    [old.data.certs, old.refs.certs],
    [old.data.ocsps, old.refs.ocsps],
    [old.data.crls, old.refs.crls],
  ] as const;
  for (const [datas, refs] of oldKinds) datas.forEach((d, i) => refs[i] && refsByHash.set(createHash('sha256').update(d).digest('hex'), refs[i]!));
  const add = (items: readonly Buffer[], into: PDFRef[]) => {
    for (const b of items) {
      const h = createHash('sha256').update(b).digest('hex');
      if (have.has(h)) continue;
      have.add(h);
      const ref = stream(b);
      refsByHash.set(h, ref);
      into.push(ref);
    }
  };
  const certs = [...old.refs.certs];
  const ocsps = [...old.refs.ocsps];
  const crls = [...old.refs.crls];
  const data = mergeValidation(o.data);
  add(data.certs, certs);
  add(data.ocsps, ocsps);
  add(data.crls, crls);

  const refsOf = (items: readonly Buffer[]) => items.map((b) => refsByHash.get(createHash('sha256').update(b).digest('hex'))).filter((r): r is PDFRef => !!r);
  const vri = old.dict ? base.lookup(old.dict.get(PDFName.of('VRI'))) : undefined;
  const vriDict = vri instanceof PDFDict ? vri.clone(ctx) : ctx.obj({});
  for (const contents of o.vri ?? signatureContents(pdf)) {
    const entry = ctx.obj({});
    if (data.certs.length) entry.set(PDFName.of('Cert'), ctx.obj(refsOf(data.certs)));
    if (data.ocsps.length) entry.set(PDFName.of('OCSP'), ctx.obj(refsOf(data.ocsps)));
    if (data.crls.length) entry.set(PDFName.of('CRL'), ctx.obj(refsOf(data.crls)));
    vriDict.set(PDFName.of(vriKey(contents)), entry);
  }
  const dss = ctx.obj({ Type: 'DSS' });
  if (certs.length) dss.set(PDFName.of('Certs'), ctx.obj(certs));
  if (ocsps.length) dss.set(PDFName.of('OCSPs'), ctx.obj(ocsps));
  if (crls.length) dss.set(PDFName.of('CRLs'), ctx.obj(crls));
  dss.set(PDFName.of('VRI'), vriDict);
  catalog.set(PDFName.of('DSS'), update.register(dss));
  // The PAdES extension of ISO 32000 (ETSI EN 319 142-1 §5.4.1): /Extensions << /ESIC << /BaseVersion /1.7 /ExtensionLevel 5 >> >>.
  const extensions = update.child(catalog, 'Extensions');
  extensions.set(PDFName.of('ESIC'), ctx.obj({ BaseVersion: PDFName.of('1.7'), ExtensionLevel: PDFNumber.of(5) }));

  if (!o.docTimestamp) return update.save().bytes;
  return addDocTimestamp(update, o.docTimestamp);
}

/** Adds an invisible /DocTimeStamp field to `update` and writes it, the token over the whole file's byte ranges. */
async function addDocTimestamp(update: PdfUpdate, tsa: TsaOptions): Promise<Buffer> {
  const ctx = update.context;
  const catalog = update.catalog();
  const acroForm = update.child(catalog, 'AcroForm');
  const fieldName = uniqueFieldName(acroForm, (ref) => update.base.lookup(ref), 'DocTimeStamp', { allowSigned: true });
  const sigRef = update.nextRef();
  const { ref: pageRef, dict: page } = update.page(0);
  const appearance = update.register(ctx.formXObject([], { BBox: [0, 0, 0, 0], Resources: {} }));
  const widget = update.register(
    ctx.obj({ Type: 'Annot', Subtype: 'Widget', FT: 'Sig', Rect: [0, 0, 0, 0], V: sigRef, T: PDFHexString.fromText(fieldName), F: 4 | 128, P: pageRef, AP: { N: appearance } }) as PDFObject,
  );
  update.append(page, 'Annots', widget);
  update.append(acroForm, 'Fields', widget);
  const flags = update.base.lookup(acroForm.get(PDFName.of('SigFlags')));
  acroForm.set(PDFName.of('SigFlags'), sigFlags(flags instanceof PDFNumber ? flags : undefined));
  const guess = (tokenLength.get(tsa.url) ?? TOKEN_ALLOWANCE) + 64;
  return writeSigned(
    update,
    sigRef,
    (len) => docTimestampDictionary(ctx, len),
    async (digest) => {
      const token = await requestTimestampOfDigest(digest, tsa);
      tokenLength.set(tsa.url, token.length);
      return token;
    },
    guess,
  );
}
