/**
 * Values made once per key, in one place: the verifier's parse caches (certificates, OCSP answers and CRLs by the
 * SHA-256 of their DER, the trust list's PEM texts), bounded with the oldest entry out first; and what is computed
 * once per object (a key id, a signature check of one certificate by another), kept as long as the object is.
 */
import { createHash } from 'node:crypto';

/** The value for `key`, made by `make` the first time; with `max` entries held, the oldest goes first. */
export function remember<K, V>(map: Map<K, V>, key: K, max: number, make: () => V): V {
  const hit = map.get(key);
  if (hit !== undefined) return hit;
  const made = make();
  if (map.size >= max) map.delete(map.keys().next().value!);
  map.set(key, made);
  return made;
}

/** remember() keyed by the SHA-256 of `bytes`: equal bytes share one value. */
export function rememberBytes<V>(map: Map<string, V>, bytes: Uint8Array, max: number, make: () => V): V {
  return remember(map, createHash('sha256').update(bytes).digest('base64'), max, make);
}

/** The value for an object, made by `make` the first time; it goes when the object does. */
export function once<K extends object, V>(map: WeakMap<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) map.set(key, (v = make()));
  return v;
}
