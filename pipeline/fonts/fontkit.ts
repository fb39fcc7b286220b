/**
 * fontkit, required rather than imported, as `import * as fontkit from './fontkit.js'`: imported, it is its ES
 * build, ~0.2 s of CPU to load in every thread that uses it (the main thread and each certificate worker, at
 * every start); its CommonJS build ~0.09 s.
 */
import { createRequire } from 'node:module';
import type * as Fontkit from 'fontkit';

const lib = createRequire(import.meta.url)('fontkit') as typeof Fontkit;

export const { create } = lib;
export type Font = Fontkit.Font;
