/** fontkit, required rather than imported (core/cjs.ts), as `import * as fontkit from './fontkit.js'`. */
import type * as Fontkit from 'fontkit';
import { requireCjs } from '../core/cjs.js';

const lib = requireCjs('fontkit') as typeof Fontkit;

export const { create } = lib;
export type Font = Fontkit.Font;
