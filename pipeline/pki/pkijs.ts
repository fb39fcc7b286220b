/**
 * pkijs, required rather than imported (core/cjs.ts), as `import * as pkijs from './pkijs.js'`. It goes with
 * asn1js.ts: pkijs's CommonJS build requires asn1js's, and asn1js objects handed to pkijs must be that instance's.
 */
import type * as Pkijs from 'pkijs';
import { requireCjs } from '../core/cjs.js';

const lib = requireCjs('pkijs') as typeof Pkijs;

export const {
  AccessDescription, Accuracy, AlgorithmIdentifier, Attribute, AttributeTypeAndValue, AuthorityKeyIdentifier,
  BasicConstraints, BasicOCSPResponse, CRLDistributionPoints, CertID, Certificate, CertificateRevocationList,
  ContentInfo, CryptoEngine, DistributionPoint, EncapsulatedContentInfo, ExtKeyUsage, Extension, Extensions,
  GeneralName, InfoAccess, IssuerAndSerialNumber, OCSPRequest, OCSPResponse, PKIStatusInfo, RSASSAPSSParams,
  RelativeDistinguishedNames, Request, ResponseBytes, RevokedCertificate, SignedAndUnsignedAttributes, SignedData,
  SignerInfo, SingleResponse, TSTInfo, Time, TimeStampReq, TimeStampResp, setEngine
} = lib;

export type AccessDescription = Pkijs.AccessDescription;
export type Accuracy = Pkijs.Accuracy;
export type AlgorithmIdentifier = Pkijs.AlgorithmIdentifier;
export type Attribute = Pkijs.Attribute;
export type AttributeTypeAndValue = Pkijs.AttributeTypeAndValue;
export type AuthorityKeyIdentifier = Pkijs.AuthorityKeyIdentifier;
export type BasicConstraints = Pkijs.BasicConstraints;
export type BasicOCSPResponse = Pkijs.BasicOCSPResponse;
export type CRLDistributionPoints = Pkijs.CRLDistributionPoints;
export type CertID = Pkijs.CertID;
export type Certificate = Pkijs.Certificate;
export type CertificateRevocationList = Pkijs.CertificateRevocationList;
export type ContentInfo = Pkijs.ContentInfo;
export type CryptoEngine = Pkijs.CryptoEngine;
export type DistributionPoint = Pkijs.DistributionPoint;
export type EncapsulatedContentInfo = Pkijs.EncapsulatedContentInfo;
export type ExtKeyUsage = Pkijs.ExtKeyUsage;
export type Extension = Pkijs.Extension;
export type Extensions = Pkijs.Extensions;
export type GeneralName = Pkijs.GeneralName;
export type InfoAccess = Pkijs.InfoAccess;
export type IssuerAndSerialNumber = Pkijs.IssuerAndSerialNumber;
export type OCSPRequest = Pkijs.OCSPRequest;
export type OCSPResponse = Pkijs.OCSPResponse;
export type PKIStatusInfo = Pkijs.PKIStatusInfo;
export type RSASSAPSSParams = Pkijs.RSASSAPSSParams;
export type RelativeDistinguishedNames = Pkijs.RelativeDistinguishedNames;
export type Request = Pkijs.Request;
export type ResponseBytes = Pkijs.ResponseBytes;
export type RevokedCertificate = Pkijs.RevokedCertificate;
export type SignedAndUnsignedAttributes = Pkijs.SignedAndUnsignedAttributes;
export type SignedData = Pkijs.SignedData;
export type SignerInfo = Pkijs.SignerInfo;
export type SingleResponse = Pkijs.SingleResponse;
export type TSTInfo = Pkijs.TSTInfo;
export type Time = Pkijs.Time;
export type TimeStampReq = Pkijs.TimeStampReq;
export type TimeStampResp = Pkijs.TimeStampResp;
