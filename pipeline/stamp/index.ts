/** Stamp stage: the photo, the QR code, and demo seals for fixtures. */
export { preparePhoto, resolvePhotoPath, type PhotoOptions, type PhotoResult, type PhotoProblem, type PreparedPhoto } from './photo.js';
export {
  buildQrText,
  parseQrText,
  verifyQrText,
  drawQr,
  qrKid,
  qrAddress,
  keysFromCertificates,
  mergeModules,
  QR_PREFIX,
  type QrInput,
  type QrPayload,
  type ParsedQr,
  type QrSigner,
  type KeyForKid,
  type QrBox,
  type QrPage,
  type QrDrawOptions,
  type QrDrawing,
  type QrErrorCorrection,
} from './qr.js';
export { makeDemoSeal, demoSealSvg, type DemoSealOptions } from './demo-seal.js';
export { encodeBase45, decodeBase45 } from './base45.js';
