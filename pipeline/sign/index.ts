/** Signing stage: PAdES baseline B-B / B-T / B-LT / B-LTA signatures with the organisation's key. */
export { loadSigner, readPassword, assertUsableAt, kidOf, type LoadedSigner, type LoadSignerInput, type SignerPasswordSource } from './identity.js';
export { signPdf, signUpdate, placeholderLength, type SignPdfOptions } from './sign-pdf.js';
export { addSignaturePlaceholder, type PlaceholderOptions, type Rect } from './placeholder.js';
export { CadesDetachedSigner } from './signer.js';
export { createCadesSignature, maxCmsLength, type TimestampFn, type CadesResult } from './cms.js';
export { requestTimestamp, requestTimestampOfDigest, timestamper, type TsaOptions } from './tsa.js';
export { addValidation, signatureContents, vriKey, type AddValidationOptions } from './ltv.js';
export { ValidationCache, prefetchValidation, mergeValidation, tokenCertificates, type ValidationData, type PrefetchedValidation } from './revocation.js';
