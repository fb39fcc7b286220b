import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('../helpers/browser-child.ts', import.meta.url));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('a run killed with SIGKILL takes its Chromium with it: no browser survives, re-parented to init', async (t) => {
  // detached: the child leads a process group, as a nightly job under a scheduler does; kill -9 -- -pgid
  const child = spawn(process.execPath, ['--import=tsx', CHILD], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (s: string) => (out += s));
  for (let i = 0; i < 300 && !/\d+\n/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
  const chromium = Number(out.trim());
  t.true(chromium > 0 && alive(chromium), `Chromium started (${out.trim()})`);
  const exited = once(child, 'exit');
  process.kill(-child.pid!, 'SIGKILL');
  await exited;
  // Chromium notices its DevTools pipe closing and exits; wait for that (bounded), never for longer
  for (let i = 0; i < 100 && alive(chromium); i++) await new Promise((r) => setTimeout(r, 100));
  t.false(alive(chromium), `Chromium ${chromium} is still running after its run was killed`);
});

test('the Chromium profile folder a killed run left behind is removed by the next start', async (t) => {
  const { mkdirSync, existsSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { spawnSync } = await import('node:child_process');
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  const left = join(tmpdir(), `skillcert-chromium-${dead}-XXXXXX`);
  mkdirSync(join(left, 'profile'), { recursive: true });
  const { launchBrowser } = await import('../../pipeline/render/browser.js');
  const handle = await launchBrowser();
  await handle.close();
  t.false(existsSync(left));
});
