/** The one PEM reader: the DER of every certificate in a PEM text, in order (a text may hold a whole chain). */
const PEM_CERT = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/g;

export function pemCertificates(pem: string): Buffer[] {
  return pemCertificatesBase64(pem).map((b64) => Buffer.from(b64, 'base64'));
}

/** The same, as standard base64 without whitespace (the form of a JOSE x5c entry); no Buffer, so it runs in a browser. */
export function pemCertificatesBase64(pem: string): string[] {
  return [...pem.matchAll(PEM_CERT)].map((m) => m[1]!.replace(/\s+/g, ''));
}

/** The one PEM writer: DER as base64 in 64-character lines between the label's BEGIN and END lines. */
export function pemOf(label: string, der: Uint8Array): string {
  return `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`;
}
