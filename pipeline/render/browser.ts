/**
 * One headless Chromium per run (the system package; puppeteer-core never downloads a browser), or none: a page it
 * printed before is taken from the print cache (cachedPrinter).
 * Fonts reach Chromium through fontconfig, not @font-face: Chromium prints web fonts larger than a few MB as
 * Type 3 glyph procedures, while system fonts are embedded as real, subset CID TrueType fonts.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { isRunning, writeAtomic } from '../core/files.js';
import { SkillcertError } from '../core/errors.js';
import { FONTS_DIR } from '../core/paths.js';

export const CHROMIUM = process.env.SKILLCERT_CHROMIUM ?? '/usr/bin/chromium';

/** Prints one HTML page of the given size (mm) to a PDF. */
export interface PagePrinter {
  print(html: string, page: { readonly width: number; readonly height: number }): Promise<Uint8Array>;
}

export interface BrowserHandle extends PagePrinter {
  readonly browser: Browser;
  close(): Promise<void>;
}

async function printPage(browser: Browser, html: string, page: { readonly width: number; readonly height: number }): Promise<Uint8Array> {
  const tab = await browser.newPage();
  try {
    await tab.setContent(html, { waitUntil: 'load' });
    await tab.evaluate('document.fonts.ready');
    return await tab.pdf({ width: `${page.width}mm`, height: `${page.height}mm`, printBackground: true, preferCSSPageSize: true });
  } finally {
    await tab.close();
  }
}

const PROFILE_PREFIX = 'skillcert-chromium-';

/** Chromium profile folders of runs that were killed (their pid is in the name and no longer running) go. */
function removeStaleProfiles(): void {
  for (const f of readdirSync(tmpdir())) {
    const pid = f.startsWith(PROFILE_PREFIX) ? Number(f.slice(PROFILE_PREFIX.length).split('-')[0]) : NaN;
    if (Number.isInteger(pid) && pid !== process.pid && !isRunning(pid)) removeProfile(join(tmpdir(), f));
  }
}

/**
 * Removes a profile folder. Chromium's helper processes can still be writing into it for a moment after the browser
 * has closed (a clean-clone test run once failed on ENOTEMPTY there), so the removal is retried; a folder that
 * still cannot go is left to removeStaleProfiles of a later launch, once this process has ended: it holds nothing
 * of a batch's, and a print never fails for it.
 */
function removeProfile(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  } catch {
    // left for the next launch (above)
  }
}

export async function launchBrowser(fontsDir = FONTS_DIR): Promise<BrowserHandle> {
  removeStaleProfiles();
  const tmp = mkdtempSync(join(tmpdir(), `${PROFILE_PREFIX}${process.pid}-`));
  // fontconfig sees the system fonts plus the organisation's licensed files in fonts/.
  const conf = join(tmp, 'fonts.conf');
  writeFileSync(
    conf,
    `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n  <dir>${fontsDir}</dir>\n  <cachedir>${join(tmp, 'fc-cache')}</cachedir>\n</fontconfig>\n`,
  );
  let browser: Browser;
  try {
    // Loaded when a page is to be printed: a night whose template is in the print cache starts no Chromium and
    // needs none of puppeteer's modules (~0.27 s of CPU to load).
    const { default: puppeteer } = await import('puppeteer-core');
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      // DevTools over a pipe, not a WebSocket: Chromium exits when the pipe closes, so a run killed with SIGKILL
      // (a scheduler's timeout, the OOM killer) takes its browser with it. Puppeteer starts Chromium in a process
      // group of its own, which a kill of the run's group does not reach.
      pipe: true,
      userDataDir: join(tmp, 'profile'),
      env: { ...process.env, FONTCONFIG_FILE: conf },
      // The machine has no network but loopback: keep Chromium from trying.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-default-apps', '--font-render-hinting=none'],
    });
  } catch (err) {
    removeProfile(tmp);
    throw new SkillcertError('E_RENDER', `cannot start Chromium at ${CHROMIUM}: ${(err as Error).message}; install it with scripts/setup-system.sh or set SKILLCERT_CHROMIUM`, {}, { cause: err });
  }
  return {
    browser,
    print: (html, page) => printPage(browser, html, page),
    async close() {
      await browser.close();
      removeProfile(tmp);
    },
  };
}

/** Bumped when what Chromium is asked to do changes in a way the page's HTML does not show (print options). */
const PRINT_CACHE_VERSION = 1;

export interface CachedPrinter extends PagePrinter {
  close(): Promise<void>;
}

/** What a file is, cheaply: its path, size and modification time (a changed or replaced file is another key). */
function fileIdentity(file: string): string {
  try {
    const s = statSync(file);
    return `${file}:${s.size}:${s.mtimeMs}`;
  } catch {
    return `${file}:absent`;
  }
}

/**
 * A printer that keeps every page it printed in `dir`, named by the SHA-256 of everything that decides the bytes
 * Chromium produces: the page's HTML and size, the Chromium binary, and the font files fontconfig can hand it
 * (the faces the page names, and what an organisation dropped into fonts/). A nightly run whose profile, fonts and
 * template have not changed starts no browser at all. Chromium is launched at the first page not in the cache.
 */
export function cachedPrinter(dir: string, fontFiles: readonly string[], fontsDir = FONTS_DIR): CachedPrinter {
  let browser: Promise<BrowserHandle> | undefined;
  const dropped = (() => {
    try {
      return readdirSync(fontsDir).map((f) => join(fontsDir, f));
    } catch {
      return [];
    }
  })();
  const environment = [CHROMIUM, ...fontFiles.map((f) => f.replace(/#[^/]*$/, '')), ...dropped].map(fileIdentity).sort();
  return {
    async print(html, page) {
      const key = createHash('sha256').update(JSON.stringify({ v: PRINT_CACHE_VERSION, html, page: [page.width, page.height], environment })).digest('hex');
      const file = join(dir, `${key}.pdf`);
      try {
        const bytes = readFileSync(file);
        // a cache entry is a finished PDF (written atomically); anything else is printed again
        if (bytes.subarray(0, 5).toString('latin1') === '%PDF-' && /%%EOF\s*$/.test(bytes.subarray(-32).toString('latin1'))) {
          return bytes;
        }
      } catch {
        // not printed yet
      }
      browser ??= launchBrowser(fontsDir);
      const bytes = await printPage((await browser).browser, html, page);
      await writeAtomic(file, bytes);
      return bytes;
    },
    async close() {
      if (browser) await browser.then((b) => b.close(), () => undefined);
    },
  };
}
