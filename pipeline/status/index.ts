/**
 * Status lists (issue 14, W3C Bitstring Status List v1.0): each certificate's status list index travels in its QR
 * code (claim 8); the organisation signs one revocation and one suspension list; verifiers (the CLI, the page,
 * offline copies) read the certificate's bit without asking anyone about that certificate (herd privacy).
 *
 * bitstring.ts and credential.ts are pure (Node and browsers); sign.ts and publish.ts are the Node side.
 */
export { bitAt, decodeList, encodeList, listBits, MAX_LIST_BYTES, STATUS_LIST_BITS } from './bitstring.js';
export {
  orgIssuer,
  STATUS_LIST_TYP,
  STATUS_PURPOSES,
  StatusListCredential,
  statusListCredential,
  statusListFile,
  statusListId,
  verifyStatusList,
  type StatusPurpose,
  type VerifiedStatusList,
  type VerifyStatusListOptions,
} from './credential.js';
export { signStatusList, statusListAlg, type StatusListInput, type StatusListSigner } from './sign.js';
export { DEFAULT_VALID_DAYS, publishStatusLists, type PublishedList, type PublishOptions } from './publish.js';
