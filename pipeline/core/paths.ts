import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root: the nearest folder above this module with a package.json (works from pipeline/ and dist/pipeline/). */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('skillcert: cannot find the project root (no package.json above the code)');
    dir = up;
  }
  return dir;
}

export const ROOT = findRoot();
export const TEMPLATES_DIR = join(ROOT, 'templates');
export const STYLES_DIR = join(TEMPLATES_DIR, 'styles');
export const FONTS_DIR = join(ROOT, 'fonts');
export const FIXTURES_DIR = join(ROOT, 'fixtures');
