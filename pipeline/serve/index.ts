/**
 * `skillcert serve`: resolves every option once (registry opened, trust loaded, page built), then listens.
 * The registry is the embedded SQLite file by default (the demo's), PostgreSQL with a postgres:// URL.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { SkillcertError } from '../core/errors.js';
import { ROOT } from '../core/paths.js';
import { loadProfile, profilePath } from '../core/profile.js';
import { isRegistryUrl, openRegistry, type Registry } from '../registry/index.js';
import { buildApp, type ServeLimits } from './app.js';
import { loadTrust, type Trust } from './trust.js';
import { buildWeb } from './web.js';

export { buildApp, queryCertificate, DEFAULT_LIMITS, type AppOptions, type ServeLimits } from './app.js';
export { loadTrust, organisationCertificates, type Trust, type TrustList, type TrustedOrganisation } from './trust.js';
export { buildWeb, WEB_DIST } from './web.js';

export const DEFAULT_PORT = 8480;
export const DEMO_REGISTRY = join(ROOT, 'output', 'demo', 'registry.sqlite');
export const DEMO_PROFILES = join(ROOT, 'fixtures', 'profiles');

export interface ServeOptions {
  readonly registry?: string;
  readonly port?: number;
  readonly host?: string;
  readonly trust?: string;
  readonly profiles?: readonly string[];
  readonly limits?: Partial<ServeLimits>;
}

export interface Serving {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly registry: Registry;
  readonly trust: Trust;
  close(): Promise<void>;
}

/**
 * The profiles to trust: those given, or (with neither --trust nor --profile) the fixture organisations' — with
 * their test identity (fixtures/profiles/*.json) and, once `npm run demo` has made its PKI, with the demo's B-LTA
 * identity (fixtures/profiles/demo/*.json) — so that the service checks what the tests and the demo issue.
 */
export function trustSources(opts: { trust?: string; profiles?: readonly string[] }): { dir?: string; profiles: string[] } {
  const profiles = [...(opts.profiles ?? [])];
  if (!opts.trust && profiles.length === 0) {
    const jsonIn = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => join(dir, f));
    profiles.push(...jsonIn(DEMO_PROFILES));
    const demo = join(DEMO_PROFILES, 'demo');
    if (existsSync(demo)) profiles.push(...jsonIn(demo).filter((f) => {
      const p = loadProfile(f);
      return existsSync(profilePath(p, p.signer.p12));
    }));
  }
  return { ...(opts.trust ? { dir: opts.trust } : {}), profiles };
}

export async function serve(opts: ServeOptions): Promise<Serving> {
  const target = opts.registry ?? DEMO_REGISTRY;
  // A mistyped path must not start a service on a new, empty registry that answers "no such certificate" to all.
  if (!isRegistryUrl(target) && !existsSync(target)) {
    throw new SkillcertError('E_USAGE', `no registry at ${target}: run \`npm run demo\` first, or pass --registry <file or postgres:// URL>`, { field: 'registry' });
  }
  const trust = loadTrust(trustSources(opts));
  const webDir = await buildWeb();
  const registry = await openRegistry(target);
  const app = await buildApp({ registry, trust, webDir, ...(opts.limits ? { limits: opts.limits } : {}) });
  try {
    await app.listen({ port: opts.port ?? DEFAULT_PORT, host: opts.host ?? '127.0.0.1' });
  } catch (err) {
    await registry.close();
    throw new SkillcertError('E_IO', `cannot listen on ${opts.host ?? '127.0.0.1'}:${opts.port ?? DEFAULT_PORT}: ${(err as Error).message}`, {}, { cause: err });
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port ?? DEFAULT_PORT;
  return {
    app,
    url: `http://${opts.host ?? '127.0.0.1'}:${port}/`,
    registry,
    trust,
    async close() {
      await app.close();
      await registry.close();
    },
  };
}
