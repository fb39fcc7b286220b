/**
 * The tests' TEST ONLY PKI (pipeline/pki/test-authority.ts): made fresh in each test process on a free loopback
 * port, with the signers loaded as the batch loads them.
 */
import { readFileSync } from 'node:fs';
import { startTestAuthority, type EntityName, type TestAuthority } from '../../pipeline/pki/test-authority.js';
import { loadSigner, type LoadedSigner } from '../../pipeline/sign/identity.js';

export type { EntityName };

export interface TestPki extends TestAuthority {
  signer(name: EntityName): LoadedSigner;
}

export async function startTestPki(opts: { now?: Date } = {}): Promise<TestPki> {
  const authority = await startTestAuthority(opts);
  const signers = new Map<EntityName, LoadedSigner>();
  return Object.assign(authority, {
    signer(name: EntityName): LoadedSigner {
      let s = signers.get(name);
      if (!s) {
        const { file, passwordFile } = authority.p12(name);
        signers.set(name, (s = loadSigner({ p12: readFileSync(file), password: readFileSync(passwordFile, 'utf8'), source: `test PKI ${name}.p12` })));
      }
      return s;
    },
  });
}
