/**
 * One headless Chromium per run (the system package; puppeteer-core never downloads a browser).
 * Fonts reach Chromium through fontconfig, not @font-face: Chromium prints web fonts larger than a few MB as
 * Type 3 glyph procedures, while system fonts are embedded as real, subset CID TrueType fonts.
 */
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { SkillcertError } from '../errors.js';
import { FONTS_DIR } from '../paths.js';

export const CHROMIUM = process.env.SKILLCERT_CHROMIUM ?? '/usr/bin/chromium';

export interface BrowserHandle {
  readonly browser: Browser;
  close(): Promise<void>;
}

export async function launchBrowser(fontsDir = FONTS_DIR): Promise<BrowserHandle> {
  const tmp = mkdtempSync(join(tmpdir(), 'skillcert-chromium-'));
  // fontconfig sees the system fonts plus the organisation's licensed files in fonts/.
  const conf = join(tmp, 'fonts.conf');
  writeFileSync(
    conf,
    `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n  <dir>${fontsDir}</dir>\n  <cachedir>${join(tmp, 'fc-cache')}</cachedir>\n</fontconfig>\n`,
  );
  let browser: Browser;
  try {
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
    rmSync(tmp, { recursive: true, force: true });
    throw new SkillcertError('E_RENDER', `cannot start Chromium at ${CHROMIUM}: ${(err as Error).message}; install it with scripts/setup-system.sh or set SKILLCERT_CHROMIUM`, {}, { cause: err });
  }
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
