/**
 * `skillcert serve` and `skillcert publish-verifier` as an operator runs them (the built command): the service
 * starts on a registry and answers, refuses a registry that is not there with one line, and the static site holds
 * the page, the trust list and the signed status lists; the trust can come from a folder of PEM files instead of
 * profiles, and an organisation certificate that chains to no anchor is refused.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, GENERATED, PROFILES, removeTempDirs, requireBuiltCli, show, skillcert, tempDir } from '../helpers/cli.js';
import { loadTrust } from '../../pipeline/serve/trust.js';
import { issue, type Issued } from './_fixture.js';

test.before(() => requireBuiltCli());
test.after.always(removeTempDirs);

let issued: Issued;
test.before(async () => {
  issued = await issue(1, 7900);
});

test('skillcert serve starts on a registry, prints its address and answers', async (t) => {
  const child = spawn(process.execPath, [CLI, 'serve', '--registry', issued.registry, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /skillcert serve: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
      setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 20_000);
    });
    const page = await fetch(url);
    t.is(page.status, 200);
    t.regex(await page.text(), /职业技能等级证书验证/);
    const c = issued.certs[0]!;
    const q = await fetch(`${url}api/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ number: c.number, name: c.name, idNo: c.idNo }) });
    t.deepEqual(await q.json(), { found: true, status: 'issued' });
    const pdf = await fetch(`${url}api/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: readFileSync(c.file) });
    t.is(((await pdf.json()) as { verdict: string }).verdict, 'valid');
  } finally {
    child.kill('SIGTERM');
  }
});

test('skillcert serve on a registry that is not there says so in one line', async (t) => {
  const r = await skillcert(['serve', '--registry', join(issued.work, 'missing.sqlite'), '--port', '0']);
  t.is(r.code, 2, show(r));
  t.regex(r.stderr, /^skillcert: E_USAGE: no registry at .*missing\.sqlite: run `npm run demo` first/);
  t.is(r.stderr.trim().split('\n').length, 1);
  t.false(existsSync(join(issued.work, 'missing.sqlite')), 'no empty registry was made');
});

test('publish-verifier writes the static site: page, landing, trust list, site.json and the signed status lists', async (t) => {
  const out = join(issued.work, 'site');
  const r = await skillcert(['publish-verifier', '--out', out, '--registry', issued.registry, '--json']);
  t.is(r.code, 0, show(r));
  const res = JSON.parse(r.stdout) as { files: string[]; organisations: number; statusLists: number };
  t.deepEqual([...res.files].sort(), ['app.js', 'index.html', 'site.json', 'status/0000-revocation.jwt', 'status/0000-suspension.jwt', 'style.css', 'trust.json', 'v/index.html']);
  t.is(res.statusLists, 2);
  t.deepEqual(JSON.parse(readFileSync(join(out, 'site.json'), 'utf8')), { service: false });
  t.regex(readFileSync(join(out, 'v', 'index.html'), 'utf8'), /src="\.\.\/app\.js"/);
  const trust = JSON.parse(readFileSync(join(out, 'trust.json'), 'utf8')) as { organisations: { orgCode: string; name: { zh: string } }[] };
  // one entry per organisation, not per code: three fixture organisations share 0000 (filed with the Beijing bureau)
  const fixtures = readdirSync(PROFILES).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(PROFILES, f), 'utf8')) as { orgCode: string; name: { zh: string } });
  const entry = (o: { orgCode: string; name: { zh: string } }) => `${o.orgCode} ${o.name.zh}`;
  t.deepEqual(trust.organisations.map(entry), [...new Set(fixtures.map(entry))].sort((a, b) => a.localeCompare(b)), "the fixture profiles' organisations");
  t.false(existsSync(join(out, '.build')));
});

test('the trust can come from a folder of PEM files; an organisation certificate that chains to no anchor is refused', (t) => {
  const dir = join(tempDir('skillcert-trust-'), 'trust');
  mkdirSync(dir);
  copyFileSync(join(GENERATED, 'root-ca.pem'), join(dir, 'root-ca.pem'));
  copyFileSync(join(GENERATED, 'org.pem'), join(dir, '0000-demo.pem'));
  const trust = loadTrust({ dir });
  t.is(trust.anchors.length, 1);
  t.deepEqual(trust.list.organisations.map((o) => o.orgCode), ['0000']);
  t.regex(trust.list.organisations[0]!.certificates[0]!, /^-----BEGIN CERTIFICATE-----\n/);
  copyFileSync(join(GENERATED, 'other-org.pem'), join(dir, '0001-other.pem'));
  t.throws(() => loadTrust({ dir }), { message: /organisation certificate "skillcert TEST ONLY untrusted signer" of .*0001-other\.pem is not trusted/ });
  copyFileSync(join(GENERATED, 'other-org.pem'), join(dir, 'nameless.pem'));
  t.throws(() => loadTrust({ dir }), { message: /does not start with the 4-digit organisation code|is not trusted/ });
});
