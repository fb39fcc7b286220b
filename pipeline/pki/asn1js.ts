/** asn1js, required with pkijs (see pkijs.ts), as `import * as asn1js from './asn1js.js'`. */
import type * as Asn1js from 'asn1js';
import { requireCjs } from '../core/cjs.js';

const lib = requireCjs('asn1js') as typeof Asn1js;

export const {
  BaseBlock, BitString, Constructed, Enumerated, GeneralizedTime, Integer, Null, ObjectIdentifier, OctetString,
  Primitive, Sequence, Set, Utf8String, fromBER
} = lib;

export type BaseBlock = Asn1js.BaseBlock;
export type BitString = Asn1js.BitString;
export type Constructed = Asn1js.Constructed;
export type Enumerated = Asn1js.Enumerated;
export type GeneralizedTime = Asn1js.GeneralizedTime;
export type Integer = Asn1js.Integer;
export type Null = Asn1js.Null;
export type ObjectIdentifier = Asn1js.ObjectIdentifier;
export type OctetString = Asn1js.OctetString;
export type Primitive = Asn1js.Primitive;
export type Sequence = Asn1js.Sequence;
export type Set = Asn1js.Set;
export type Utf8String = Asn1js.Utf8String;
export type { AsnType } from 'asn1js';
