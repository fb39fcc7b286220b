// What the verification page imports for the status lists (bundled by the browser-bundle test).
export { verifyStatusList } from '../../pipeline/status/credential.js';
export { bitAt, decodeList, encodeList } from '../../pipeline/status/bitstring.js';
