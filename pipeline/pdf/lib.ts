/**
 * pdf-lib, required rather than imported (core/cjs.ts): its index re-exports ~250 files, each of which Node's ESM
 * loader would run cjs-module-lexer over. It is the same module instance an `import 'pdf-lib'` elsewhere gets (the
 * tests do), so classes and instanceof agree.
 */
import type * as PdfLib from 'pdf-lib';
import { requireCjs } from '../core/cjs.js';

const lib = requireCjs('pdf-lib') as typeof PdfLib;

export const {
  JpegEmbedder, PDFArray, PDFContext, PDFCrossRefSection, PDFDict, PDFDocument, PDFFlateStream, PDFHexString,
  PDFInvalidObject, PDFName, PDFNumber, PDFOperator, PDFOperatorNames, PDFParser, PDFRawStream, PDFRef, PDFStream,
  PDFString, PDFTrailer, PDFTrailerDict, PngEmbedder, concatTransformationMatrix, decodePDFRawStream, drawObject,
  fill, popGraphicsState, pushGraphicsState, rectangle, setFillingGrayscaleColor, setFillingRgbColor,
  setGraphicsState
} = lib;

export type JpegEmbedder = PdfLib.JpegEmbedder;
export type PDFArray = PdfLib.PDFArray;
export type PDFContext = PdfLib.PDFContext;
export type PDFCrossRefSection = PdfLib.PDFCrossRefSection;
export type PDFDict = PdfLib.PDFDict;
export type PDFDocument = PdfLib.PDFDocument;
export type PDFFlateStream = PdfLib.PDFFlateStream;
export type PDFHexString = PdfLib.PDFHexString;
export type PDFInvalidObject = PdfLib.PDFInvalidObject;
export type PDFName = PdfLib.PDFName;
export type PDFNumber = PdfLib.PDFNumber;
export type PDFOperator = PdfLib.PDFOperator;
export type PDFOperatorNames = PdfLib.PDFOperatorNames;
export type PDFParser = PdfLib.PDFParser;
export type PDFRawStream = PdfLib.PDFRawStream;
export type PDFRef = PdfLib.PDFRef;
export type PDFStream = PdfLib.PDFStream;
export type PDFString = PdfLib.PDFString;
export type PDFTrailer = PdfLib.PDFTrailer;
export type PDFTrailerDict = PdfLib.PDFTrailerDict;
export type PngEmbedder = PdfLib.PngEmbedder;

export type { PDFEmbeddedPage, PDFFont, PDFImage, PDFObject, PDFPage } from 'pdf-lib';
