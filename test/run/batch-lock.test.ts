/**
 * One run per batch (pipeline/batch-lock.ts): a second run of the same batch stops at once naming who runs it, and
 * the lock of a run killed with SIGKILL is gone with its process, so the rerun resumes without waiting or cleaning up.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { lockBatch } from '../../pipeline/batch/lock.js';
import { SkillcertError } from '../../pipeline/core/errors.js';
import { batchDir, certificateFiles, PHOTOS, profile, requireBuiltCli, show, skillcert, spawnSkillcert, validPeople, writeRoster } from '../helpers/cli.js';
import { removeTempDirs, tempDir } from '../helpers/temp.js';

test.after.always(removeTempDirs);

const LOCK = fileURLToPath(new URL('../../pipeline/batch/lock.ts', import.meta.url));

test('a second holder of the same batch is refused with the first one\'s process, and the batch is free once it is released', (t) => {
  const out = tempDir('skillcert-lock-');
  const release = lockBatch(out, 'haidian-0123456789ab');
  const err = t.throws(() => lockBatch(out, 'haidian-0123456789ab'), { instanceOf: SkillcertError });
  t.is(err?.code, 'E_IO');
  t.regex(err?.message ?? '', new RegExp(`batch haidian-0123456789ab is being run by process ${process.pid} on .*; wait for it to finish`));
  const other = lockBatch(out, 'haidian-ffffffffffff');
  other();
  release();
  lockBatch(out, 'haidian-0123456789ab')();
});

test('the lock of a process killed with SIGKILL is released with it: the rerun takes it at once', async (t) => {
  const out = tempDir('skillcert-lock-');
  const script = `const { lockBatch } = await import(${JSON.stringify(LOCK)}); lockBatch(${JSON.stringify(out)}, 'b1'); console.log('locked'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import=tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(createInterface({ input: child.stdout }), 'line');
  t.is(line, 'locked');
  t.throws(() => lockBatch(out, 'b1'), { message: new RegExp(`process ${child.pid} on `) });
  child.kill('SIGKILL');
  await once(child, 'close');
  lockBatch(out, 'b1')();
  t.pass();
});

test('skillcert run: a second run of the same roster while the first is running stops before touching the batch; the first finishes', async (t) => {
  requireBuiltCli();
  const work = tempDir('skillcert-lock-');
  const roster = await writeRoster(join(work, 'nightly.xlsx'), validPeople(40, 300));
  const out = join(work, 'out');
  const args = ['run', '--roster', roster, '--profile', profile('haidian-qihang'), '--out', out, '--photos', PHOTOS, '--workers', '1', '--json'];
  const first = spawnSkillcert(args);
  let stdout = '';
  first.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const ended = once(first, 'close');
  // The lock is taken once the roster is validated; its owner file says so.
  for (let waited = 0; !(existsSync(out) && readdirSync(out).some((f) => f.endsWith('.owner'))); waited += 20) {
    if (waited > 60_000) return t.fail('the first run never took the batch lock');
    await new Promise((r) => setTimeout(r, 20));
  }
  // Held still while the second run starts (a second run takes seconds to validate; the first could otherwise have
  // finished meanwhile), then let go.
  process.kill(first.pid!, 'SIGSTOP');
  const second = await skillcert(args).finally(() => process.kill(first.pid!, 'SIGCONT'));
  t.is(second.code, 1, show(second));
  t.regex(second.stdout, new RegExp(`is being run by process ${first.pid} on `));
  const [code] = await ended;
  t.is(code, 0);
  t.like(JSON.parse(stdout), { ok: true, issued: 40 });
  t.is(certificateFiles(batchDir(out)).pdfs.length, 40);
});
