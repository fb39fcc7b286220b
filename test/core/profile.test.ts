/**
 * Profiles that extend another (`"extends"`): what the demo's B-LTA profiles (fixtures/profiles/demo/) do to the
 * fixture organisations, and what an organisation does to keep a test variant of its profile.
 */
import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SkillcertError } from '../../pipeline/core/errors.js';
import { loadProfile, profilePath, signatureLevel } from '../../pipeline/core/profile.js';
import { PROFILES, tempDir } from '../helpers/cli.js';

test('a demo profile is its fixture organisation with the demo PKI signer: objects merged, arrays replaced, each path from its own file', (t) => {
  const base = loadProfile(join(PROFILES, 'jingdian-maintenance.json'));
  const demo = loadProfile(join(PROFILES, 'demo', 'jingdian-maintenance.json'));
  t.is(demo.id, base.id);
  t.deepEqual(demo.name, base.name);
  t.deepEqual(demo.scope, base.scope);
  t.is(signatureLevel(demo), 'B-LTA');
  t.is(demo.signer.tsaUrl, 'http://127.0.0.1:8481/tsa');
  // the extending file's own paths, from its folder
  t.is(profilePath(demo, demo.signer.p12), join(PROFILES, '..', 'signer', 'generated', 'pki', 'org-jingdian.p12'));
  t.deepEqual(demo.signer.trustAnchors.map((a) => profilePath(demo, a)), [join(PROFILES, '..', 'signer', 'generated', 'pki', 'root.pem')]);
  t.is(profilePath(demo, demo.branch!.signer!.p12), join(PROFILES, '..', 'signer', 'generated', 'pki', 'branch.p12'));
  // the base's paths, still from the base's folder, though the demo profile lives one folder down
  t.is(profilePath(demo, demo.seals.evaluation), profilePath(base, base.seals.evaluation));
  t.is(profilePath(demo, demo.branch!.seal), profilePath(base, base.branch!.seal));
  t.deepEqual(demo.branch!.name, base.branch!.name);
});

test('a chain of extends resolves each level\'s paths against its own folder', (t) => {
  const dir = tempDir('skillcert-profile-');
  mkdirSync(join(dir, 'a', 'b'), { recursive: true });
  writeFileSync(join(dir, 'a', 'mid.json'), JSON.stringify({ extends: join(PROFILES, 'haidian-qihang.json'), seals: { steel: 'steel.png' } }));
  writeFileSync(join(dir, 'a', 'b', 'top.json'), JSON.stringify({ extends: '../mid.json', signer: { p12: 'mine.p12' } }));
  const p = loadProfile(join(dir, 'a', 'b', 'top.json'));
  t.is(profilePath(p, p.seals.steel!), join(dir, 'a', 'steel.png'));
  t.is(profilePath(p, p.signer.p12), join(dir, 'a', 'b', 'mine.p12'));
  t.is(profilePath(p, p.seals.evaluation), join(PROFILES, '..', 'seals', 'haidian-qihang.png'));
  t.is(p.signer.passwordFile && profilePath(p, p.signer.passwordFile), join(PROFILES, '..', 'signer', 'generated', 'password.txt'));
});

test('a profile that extends itself, a missing base and a bad "extends" are one error each, naming the file', (t) => {
  const dir = tempDir('skillcert-profile-');
  writeFileSync(join(dir, 'x.json'), JSON.stringify({ extends: 'y.json' }));
  writeFileSync(join(dir, 'y.json'), JSON.stringify({ extends: 'x.json' }));
  writeFileSync(join(dir, 'missing.json'), JSON.stringify({ extends: 'nowhere.json' }));
  writeFileSync(join(dir, 'number.json'), JSON.stringify({ extends: 7 }));
  const circle = t.throws(() => loadProfile(join(dir, 'x.json')), { instanceOf: SkillcertError });
  t.regex(circle.message, /extends itself: .*x\.json → .*y\.json → .*x\.json/);
  const missing = t.throws(() => loadProfile(join(dir, 'missing.json')), { instanceOf: SkillcertError });
  t.regex(missing.message, /cannot read profile .*nowhere\.json \(which .*missing\.json extends\)/);
  const bad = t.throws(() => loadProfile(join(dir, 'number.json')), { instanceOf: SkillcertError });
  t.regex(bad.message, /"extends" must be the path of another profile/);
});
