/** The independent tools the tests compare against: pdfsig (poppler, with an NSS db trusting the test root) and qpdf. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENERATED, ensureIdentity } from './_identity.js';

export function hasTool(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

let nssDir: string | undefined;
/** A temporary NSS database trusting the TEST ONLY root (needs certutil from libnss3-tools); undefined without it. */
export function testNssDb(): string | undefined {
  if (nssDir) return nssDir;
  if (!hasTool('certutil')) return undefined;
  ensureIdentity();
  const dir = mkdtempSync(join(tmpdir(), 'skillcert-nss-'));
  execFileSync('certutil', ['-N', '-d', `sql:${dir}`, '--empty-password']);
  execFileSync('certutil', ['-A', '-d', `sql:${dir}`, '-n', 'skillcert TEST ONLY root', '-t', 'C,C,C', '-i', join(GENERATED, 'root-ca.pem')]);
  nssDir = dir;
  return dir;
}

export function writeTemp(name: string, bytes: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'skillcert-test-'));
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

/** pdfsig's report (stdout); pdfsig exits non-zero for invalid signatures, which is not an error here. */
export function pdfsig(file: string, opts: { trustTestRoot?: boolean } = {}): string {
  const args = [];
  const nss = opts.trustTestRoot ? testNssDb() : undefined;
  if (nss) args.push('-nssdir', `sql:${nss}`);
  args.push(file);
  const r = spawnSync('pdfsig', args, { encoding: 'utf8' });
  return r.stdout + r.stderr;
}

export function qpdfCheck(file: string): { ok: boolean; output: string } {
  const r = spawnSync('qpdf', ['--check', file], { encoding: 'utf8' });
  return { ok: r.status === 0, output: r.stdout + r.stderr };
}
