import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTemporary, removeStaleTemporaries, tempPath, withTempFile, writeAtomic } from '../../pipeline/core/files.js';
import { SkillcertError } from '../../pipeline/core/errors.js';

const dir = () => mkdtempSync(join(tmpdir(), 'skillcert-files-'));

test('writeAtomic leaves the file and no temporary', async (t) => {
  const d = dir();
  await writeAtomic(join(d, 'sub', 'a.json'), '{}');
  t.deepEqual(readdirSync(join(d, 'sub')), ['a.json']);
  t.is(readFileSync(join(d, 'sub', 'a.json'), 'utf8'), '{}');
});

test('a write that fails leaves neither the file nor its temporary, and says which file as E_IO', async (t) => {
  const d = dir();
  const err = await t.throwsAsync(withTempFile(join(d, 'b.xlsx'), async (tmp) => {
    writeFileSync(tmp, 'half');
    throw new Error('disk full');
  }), { instanceOf: SkillcertError });
  t.is((err as SkillcertError).code, 'E_IO');
  t.regex(err!.message, /cannot write .*b\.xlsx: disk full/);
  t.deepEqual(readdirSync(d), []);
});

test('every temporary name is recognised; the cleanup removes a dead process\'s, never a live one\'s or another machine\'s', (t) => {
  const d = dir();
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  const mine = tempPath(join(d, 'X.pdf'));
  t.true(isTemporary(mine.slice(d.length + 1)));
  const host = encodeURIComponent(hostname()).replace(/-/g, '%2D');
  const deadOne = `.tmp-X.pdf-${host}-${dead}-0a1b2c3d`;
  const otherHost = `.tmp-X.pdf-other%2Dhost-${dead}-0a1b2c3d`;
  for (const f of [mine.slice(d.length + 1), deadOne, otherHost, 'Y000111020001225000001.pdf']) writeFileSync(join(d, f), '');
  t.is(removeStaleTemporaries(d), 1);
  t.deepEqual(readdirSync(d).sort(), [mine.slice(d.length + 1), otherHost, 'Y000111020001225000001.pdf'].sort());
});
