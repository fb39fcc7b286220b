/** `verify --status-list` takes files and http(s) addresses: a list is fetched whole from a real loopback server. */
import test from 'ava';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SkillcertError } from '../../pipeline/core/errors.js';
import { signStatusList } from '../../pipeline/status/index.js';
import { loadStatusLists } from '../../pipeline/verify/status-list.js';
import { testSigner } from '../sign/_identity.js';

let server: Server;
let base = '';
const requests: string[] = [];
let jws = '';

test.before(async () => {
  jws = await signStatusList({ orgCode: '0000', purpose: 'revocation', indexes: [1], validFrom: new Date('2026-11-20T00:00:00Z'), validUntil: new Date('2026-11-27T00:00:00Z') }, testSigner('org'));
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/status/0000-revocation.jwt') {
      res.writeHead(200, { 'content-type': 'application/vc+jwt' });
      res.end(`${jws}\n`);
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
test.after.always(() => new Promise<void>((r) => server?.close(() => r())));

test.serial('a list is read from a file and fetched from a URL, the same text either way', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'skillcert-lists-')), '0000-revocation.jwt');
  writeFileSync(file, `${jws}\n`);
  const [fromFile, fromUrl] = await loadStatusLists([file, `${base}/status/0000-revocation.jwt`]);
  t.is(fromFile, jws);
  t.is(fromUrl, jws);
  t.deepEqual(requests, ['/status/0000-revocation.jwt'], 'the whole list is fetched: nothing about the certificate in the request');
});

test.serial('an address that answers an error, or no server at all, stops the command with a reason', async (t) => {
  await t.throwsAsync(loadStatusLists([`${base}/status/0000-suspension.jwt`]), { instanceOf: SkillcertError, message: /answered HTTP 404/ });
  await t.throwsAsync(loadStatusLists(['http://127.0.0.1:1/status/x.jwt']), { instanceOf: SkillcertError, message: /cannot fetch the status list/ });
});
