/**
 * `skillcert publish-verifier --out DIR`: the static verification site an organisation can put on any static web
 * host — the page and its script, trust.json, site.json ({"service": false}: the page then says that dropping a
 * PDF and the query need the service) and the current signed status lists under status/. The QR landing works
 * from it alone: the QR address <site>/v?n=…#SC1:… is v/index.html, the payload stays in the fragment.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeAtomic } from '../core/files.js';
import { SkillcertError } from '../core/errors.js';
import { existsSync } from 'node:fs';
import { isRegistryUrl, openRegistry } from '../registry/index.js';
import { loadTrust } from './trust.js';
import { buildWeb } from './web.js';
import { trustSources } from './index.js';
import { statusListFiles } from './status.js';

export interface PublishResult {
  readonly out: string;
  readonly files: readonly string[];
  readonly organisations: number;
  readonly statusLists: number;
}

export async function publishVerifier(opts: { out: string; registry?: string; trust?: string; profiles?: readonly string[] }): Promise<PublishResult> {
  const out = resolve(opts.out);
  const trust = loadTrust(trustSources(opts));
  const built = await buildWeb(join(out, '.build'));
  const files: string[] = [];
  const put = async (name: string, data: string | Uint8Array) => {
    mkdirSync(join(out, name, '..'), { recursive: true });
    await writeAtomic(join(out, name), data);
    files.push(name);
  };
  try {
    const html = readFileSync(join(built, 'index.html'), 'utf8');
    await put('index.html', html);
    // The QR landing, one folder down: its page loads the same script and style from the folder above.
    await put('v/index.html', html.replace(/(href|src)="\.\//g, '$1="../'));
    await put('app.js', readFileSync(join(built, 'app.js')));
    await put('style.css', readFileSync(join(built, 'style.css')));
  } finally {
    rmSync(join(out, '.build'), { recursive: true, force: true });
  }
  await put('trust.json', `${JSON.stringify(trust.list, null, 2)}\n`);
  await put('site.json', `${JSON.stringify({ service: false })}\n`);
  let statusLists = 0;
  if (opts.registry) {
    if (!isRegistryUrl(opts.registry) && !existsSync(opts.registry)) throw new SkillcertError('E_USAGE', `no registry at ${opts.registry}: pass --registry <file or postgres:// URL> to publish its status lists`, { field: 'registry' });
    const registry = await openRegistry(opts.registry);
    try {
      for (const { name, jws } of await statusListFiles(registry, trust.list)) {
        await put(`status/${name}`, jws);
        statusLists++;
      }
    } finally {
      await registry.close();
    }
  }
  return { out, files, organisations: trust.list.organisations.length, statusLists };
}
