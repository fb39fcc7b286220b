/**
 * The Document Security Store of a PDF (ETSI EN 319 142-1 §5.4.2): the certificates, OCSP responses and CRLs in
 * its /Certs, /OCSPs and /CRLs streams, decoded. Read by the signer (to extend a DSS without repeating data) and
 * by the verifier (offline validation with the file's own data). A codec, not a stage.
 */
import { decodePDFRawStream, PDFArray, PDFDict, type PDFDocument, PDFName, type PDFObject, PDFRawStream, PDFRef } from './lib.js';

export interface DssContent {
  readonly dict?: PDFDict;
  readonly certs: readonly Buffer[];
  readonly ocsps: readonly Buffer[];
  readonly crls: readonly Buffer[];
  /** The streams' references, in the same order, to reference them again from a new DSS. */
  readonly refs: { readonly certs: readonly PDFRef[]; readonly ocsps: readonly PDFRef[]; readonly crls: readonly PDFRef[] };
}

export function readDss(doc: PDFDocument): DssContent {
  return readDssOf(doc.catalog, (o) => (o instanceof PDFRef ? doc.context.lookup(o) : o));
}

/** The same from a catalog and a lookup that sees the file's latest objects (a PdfBase's, after updates). */
export function readDssOf(catalog: PDFDict, lookup: (o: PDFObject | undefined) => PDFObject | undefined): DssContent {
  const dss = lookup(catalog.get(PDFName.of('DSS')));
  if (!(dss instanceof PDFDict)) return { certs: [], ocsps: [], crls: [], refs: { certs: [], ocsps: [], crls: [] } };
  const read = (key: string) => {
    const arr = lookup(dss.get(PDFName.of(key)));
    const data: Buffer[] = [];
    const refs: PDFRef[] = [];
    for (let i = 0; arr instanceof PDFArray && i < arr.size(); i++) {
      const ref = arr.get(i);
      const s = lookup(ref);
      if (!(s instanceof PDFRawStream) || !(ref instanceof PDFRef)) continue;
      try {
        data.push(Buffer.from(decodePDFRawStream(s).decode()));
        refs.push(ref);
      } catch {
        // an undecodable stream is no validation data
      }
    }
    return { data, refs };
  };
  const certs = read('Certs');
  const ocsps = read('OCSPs');
  const crls = read('CRLs');
  return { dict: dss, certs: certs.data, ocsps: ocsps.data, crls: crls.data, refs: { certs: certs.refs, ocsps: ocsps.refs, crls: crls.refs } };
}
