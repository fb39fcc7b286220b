/** A process that starts skillcert's Chromium, says its pid, and waits to be killed (test/render/browser.test.ts). */
import { launchBrowser } from '../../pipeline/render/browser.js';

const handle = await launchBrowser();
process.stdout.write(`${handle.browser.process()!.pid}\n`);
setInterval(() => undefined, 60_000);
