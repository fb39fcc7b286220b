/**
 * Builds the verification page (web/ → dist/web/: index.html, style.css, one bundled app.js) with esbuild.
 * Run by scripts/setup.sh; `skillcert serve` and `publish-verifier` build it again at start, so it is never stale.
 */
import { buildWeb } from '../pipeline/serve/web.js';

const out = await buildWeb();
process.stdout.write(`build-web: wrote ${out}\n`);
