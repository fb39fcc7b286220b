/** Render stage: the template layer once per organisation and style, the overlay per certificate. */
export { cachedPrinter, launchBrowser, type BrowserHandle, type CachedPrinter, type PagePrinter } from './browser.js';
export { buildTemplate, layoutTemplate, templateScope, boxToPdf, type Template, type PdfRect } from './template.js';
export { renderCertificate, composeCertificate, layoutOverlay, type OverlayInput, type OverlayPage, type RenderedCertificate, type ComposedCertificate } from './overlay.js';
export { printedFields, dateZh, dateEn, reissueNote, type Reissue } from './fields.js';
export { loadSheet, type Sheet, type TextElement, type ImageElement, MM_PER_PT, PT_PER_MM } from './sheet.js';
export { layoutText, type PlacedText, type PlacedLine, type PlacedRun } from './layout.js';
export { lintTexts, assertNoForbiddenWords, FORBIDDEN_WORDS } from './lint.js';
