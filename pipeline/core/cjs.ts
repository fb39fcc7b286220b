/**
 * CommonJS packages, required rather than imported. Node's ESM loader finds a CommonJS package's named exports by
 * running cjs-module-lexer over its source and over every file that source re-exports, and an `import` of a package
 * that has an ES build loads that build, which for several of ours is slower to load than the CommonJS one. Both
 * are paid in every thread that loads the package, at every start (a 1,000-row batch pays them in every
 * certificate's CPU). Measured alone, import against require: pdf-lib ~0.23 / ~0.11 s, fontkit ~0.22 / ~0.09 s,
 * pkijs with asn1js ~0.15 / ~0.05 s, sharp ~0.17 / ~0.05 s, yazl, chinese-days and saxes ~0.02-0.03 / ~0.01 s each.
 * (In a batch's main thread, where other packages warm the lexer, sharp, yazl, chinese-days and saxes together saved
 * ~0.05 s; the worker's modules, ~0.19 s.) A package loaded through require is the same instance an `import` of its
 * CommonJS build elsewhere gets.
 */
import { createRequire } from 'node:module';

export const requireCjs = createRequire(import.meta.url);
