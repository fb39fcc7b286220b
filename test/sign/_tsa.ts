/**
 * A local RFC 3161 time-stamping authority for tests: `openssl ts -reply` with the TEST ONLY TSA
 * certificate, behind a node:http handler on 127.0.0.1 (random port).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureIdentity, GENERATED } from './_identity.js';

export interface TestTsa {
  readonly url: string;
  readonly requests: () => number;
  close(): Promise<void>;
}

/** mode 'ok' answers with openssl; 'http500' fails; 'garbage' sends bytes that are not a TimeStampResp. */
export async function startTestTsa(mode: 'ok' | 'http500' | 'garbage' = 'ok'): Promise<TestTsa> {
  ensureIdentity();
  const dir = mkdtempSync(join(tmpdir(), 'skillcert-tsa-'));
  writeFileSync(join(dir, 'tsaserial'), '01\n');
  let n = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      n++;
      if (mode === 'http500') {
        res.writeHead(500).end('TSA down');
        return;
      }
      if (mode === 'garbage') {
        res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end('not a response');
        return;
      }
      const q = join(dir, `q${n}.tsq`);
      const r = join(dir, `r${n}.tsr`);
      writeFileSync(q, Buffer.concat(chunks));
      execFile(
        'openssl',
        ['ts', '-reply', '-config', join(GENERATED, 'tsa.cnf'), '-queryfile', q, '-signer', join(GENERATED, 'tsa.pem'), '-inkey', join(GENERATED, 'tsa.key'), '-chain', join(GENERATED, 'root-ca.pem'), '-out', r],
        { cwd: dir },
        (err) => {
          if (err) {
            res.writeHead(500).end(String(err));
            return;
          }
          res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(readFileSync(r));
        },
      );
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/tsa`,
    requests: () => n,
    close: () =>
      new Promise<void>((ok) =>
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          ok();
        }),
      ),
  };
}
