/**
 * The TEST ONLY identity for the sign/verify/stamp tests: made once by scripts/make-test-identity.sh
 * (called here when fixtures/signer/generated/ is missing) and shared by every test file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../pipeline/core/paths.js';
import { loadSigner, type LoadedSigner } from '../../pipeline/sign/identity.js';

export const GENERATED = join(ROOT, 'fixtures', 'signer', 'generated');

export function ensureIdentity(): void {
  if (!['tsa.cnf', 'org.p12', 'branch.p12'].every((f) => existsSync(join(GENERATED, f)))) {
    execFileSync('bash', [join(ROOT, 'scripts', 'make-test-identity.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
}

export type TestIdentity = 'org' | 'org-rsa' | 'org-expired' | 'other-org';

const cache = new Map<TestIdentity, LoadedSigner>();

export function password(): string {
  ensureIdentity();
  return readFileSync(join(GENERATED, 'password.txt'), 'utf8').trim();
}

/** The P12 is parsed once per test process and identity. */
export function testSigner(name: TestIdentity = 'org'): LoadedSigner {
  let s = cache.get(name);
  if (!s) {
    ensureIdentity();
    s = loadSigner({ p12: readFileSync(join(GENERATED, `${name}.p12`)), password: password(), source: `fixtures/signer/generated/${name}.p12` });
    cache.set(name, s);
  }
  return s;
}

export function pem(name: 'root-ca' | 'other-ca' | 'tsa' | 'org' | 'org-rsa' | 'other-org' | 'org-expired'): string {
  ensureIdentity();
  return readFileSync(join(GENERATED, `${name}.pem`), 'utf8');
}
