/** Verification of the signature and QR parts; the lead's `skillcert verify` adds registry status and printed text. */
export { verifyPdfSignature, parsePdfDate, type VerifyPdfOptions } from './pdf-signature.js';
export { verifyQrCode, verifyQrText, verifyQrCodeWithCertificates, decodeQrFromPng, keysFromCertificates, parseQrText, type KeyForKid, type QrPayload } from './qr.js';
export { allPassed, type Check } from '../core/check.js';
export { parseAnchors } from '../pki/chain.js';
