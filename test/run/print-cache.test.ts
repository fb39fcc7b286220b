/**
 * Issue 17 (no orphans, and start-up): Chromium prints a profile's template once; later runs with the same profile,
 * fonts and Chromium take it from the print cache in the output folder and start no browser at all.
 */
import test from 'ava';
import { chmodSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificateFiles, PHOTOS, profile, removeTempDirs, requireBuiltCli, show, skillcert, tempDir, validPeople, writeRoster, cliEnv } from '../helpers/cli.js';

test.before(() => requireBuiltCli());
test.after.always(removeTempDirs);

test('a second batch of the same profile starts no Chromium: the template comes from the print cache, and its certificates are the same kind', async (t) => {
  const work = tempDir('skillcert-print-cache-');
  // Chromium behind a wrapper that notes every start
  const starts = join(work, 'starts.log');
  const wrapper = join(work, 'chromium');
  writeFileSync(wrapper, `#!/bin/sh\necho start >> '${starts}'\nexec /usr/bin/chromium "$@"\n`);
  chmodSync(wrapper, 0o755);
  const env = cliEnv({ SKILLCERT_CHROMIUM: wrapper });
  const out = join(work, 'out');
  const runs = [];
  for (const [i, seed] of [[1, 500], [2, 600]] as const) {
    const roster = await writeRoster(join(work, `roster-${i}.xlsx`), validPeople(2, seed));
    const r = await skillcert(['run', '--roster', roster, '--profile', profile('haidian-qihang'), '--out', out, '--photos', PHOTOS, '--workers', '1', '--json'], { env });
    t.is(r.code, 0, show(r));
    runs.push(JSON.parse(r.stdout) as { dir: string; issued: number });
  }
  t.is(readFileSync(starts, 'utf8').trim().split('\n').length, 1, 'Chromium started once, for the first batch');
  t.deepEqual(readdirSync(join(out, '.cache', 'print')).filter((f) => f.endsWith('.pdf')).length, 1, 'one printed page, kept by content');
  for (const r of runs) {
    t.is(r.issued, 2);
    t.is(certificateFiles(r.dir).pdfs.length, 2);
  }
  // the second batch, built on the cached template, verifies like the first
  const v = await skillcert(['verify', join(runs[1]!.dir, 'certificates'), '--profile', profile('haidian-qihang'), '--registry', join(out, 'registry.sqlite')], { env });
  t.is(v.code, 0, show(v));
});
