/**
 * The verification page: web/ (HTML, CSS, browser TypeScript) built into dist/web by esbuild — one bundled,
 * minified ES module, so the page loads nothing from another host and runs under a CSP of script-src 'self'.
 * Built at every `skillcert serve` / `publish-verifier` start (≈0.1 s), so the page served is never older than
 * its sources; `scripts/build-web.ts` runs the same build from setup.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ROOT } from '../core/paths.js';

export const WEB_SRC = join(ROOT, 'web');
export const WEB_DIST = join(ROOT, 'dist', 'web');

/** The files of the page, as written to the output folder. */
export const WEB_FILES = ['index.html', 'style.css', 'app.js'] as const;

export async function buildWeb(out = WEB_DIST): Promise<string> {
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(WEB_SRC, 'app.ts')],
    outfile: join(out, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    // pipeline/stamp/base45.ts returns a Node Buffer; in the browser a Uint8Array does the same job.
    inject: [join(WEB_SRC, 'buffer-shim.ts')],
    logLevel: 'silent',
  });
  for (const f of ['index.html', 'style.css']) copyFileSync(join(WEB_SRC, f), join(out, f));
  return out;
}
