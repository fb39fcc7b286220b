/**
 * `skillcert extend`: archive renewal of issued certificates (ETSI EN 319 102-1 "augmentation"). Each PDF gets,
 * in one incremental update, fresh validation data in its DSS — the certificates, OCSP responses and CRLs of every
 * signature's and timestamp's path, fetched once per run for the whole folder — and, for B-LTA, a new document
 * timestamp over the whole file. The earlier revisions are the file's first bytes, unchanged: no signature is
 * touched. Before its last document timestamp's TSA certificate expires, run it again.
 *
 * Each renewed file is recorded in the registry (when there is one and it knows the number) as the certificate's
 * current PDF, with the reason — one audit entry per file (第二十条).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import type { Context } from '../core/context.js';
import { SkillcertError } from '../core/errors.js';
import { writeAtomic } from '../core/files.js';
import { loadProfile, profilePath } from '../core/profile.js';
import { derElementLength } from '../pki/asn1.js';
import { isRegistryUrl, openRegistry, registryLocation, type Registry } from '../registry/index.js';
import { addValidation, signatureContents } from '../sign/ltv.js';
import { ValidationCache } from '../sign/revocation.js';

export interface ExtendOptions {
  readonly paths: readonly string[];
  /** The profile the certificates were issued under: its TSA and trust anchors. */
  readonly profile: string;
  readonly to: 'B-LT' | 'B-LTA';
  readonly out: string;
  readonly registry?: string;
  readonly fetch?: typeof fetch;
}

export interface ExtendReport {
  readonly extended: { file: string; number?: string; sha256: string; recorded: boolean }[];
  readonly failed: { file: string; message: string }[];
  /** Requests sent for the whole run (fetched once, shared by every file). */
  readonly sent: { ocsp: number; crl: number; tsa: number };
}

async function pdfFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    if ((await stat(p)).isDirectory()) out.push(...(await readdir(p)).filter((f) => f.toLowerCase().endsWith('.pdf')).sort().map((f) => join(p, f)));
    else out.push(p);
  }
  return out;
}

const NUMBER = /^([A-Z][0-9A-Z]{21})(?:-r\d+)?\.pdf$/i;

export async function extend(ctx: Context, o: ExtendOptions): Promise<ExtendReport> {
  const profile = loadProfile(o.profile);
  const tsaUrl = profile.signer.tsaUrl;
  if (o.to === 'B-LTA' && !tsaUrl) throw new SkillcertError('E_PROFILE', `extend --to B-LTA needs a time-stamping authority: set signer.tsaUrl in ${o.profile}`, { field: 'signer.tsaUrl' });
  const anchors = profile.signer.trustAnchors.map((a) => profilePath(profile, a));
  const cache = new ValidationCache({ trustAnchors: anchors.map((f) => readFileSync(f, 'utf8')), ...(o.fetch ? { fetch: o.fetch } : {}) });
  const files = await pdfFiles(o.paths);
  if (files.length === 0) throw new SkillcertError('E_USAGE', `no PDF to extend in ${o.paths.join(', ')}`);
  const location = registryLocation(o.registry, o.out);
  const registry: Registry | undefined = isRegistryUrl(location) || existsSync(location) ? await openRegistry(location, { operator: ctx.operator, now: ctx.now }) : undefined;
  const report: ExtendReport = { extended: [], failed: [], sent: cache.sent };
  try {
    for (const file of files) {
      try {
        const bytes = await readFile(file);
        const contents = signatureContents(bytes);
        if (contents.length === 0) throw new SkillcertError('E_SIGN', 'the PDF has no signature to extend');
        const data = await cache.forSignatures(contents.map((c) => c.subarray(0, derElementLength(c))));
        const renewed = await addValidation(bytes, { data, ...(o.to === 'B-LTA' ? { docTimestamp: { url: tsaUrl!, ...(o.fetch ? { fetch: o.fetch } : {}) } } : {}) });
        await writeAtomic(file, renewed);
        const sha256 = createHash('sha256').update(renewed).digest('hex');
        const number = NUMBER.exec(basename(file))?.[1]?.toUpperCase();
        let recorded = false;
        if (registry && number && (await registry.getByNumber(number))) {
          await registry.recordDigest(number, { file: relative(resolve(o.out), resolve(file)), sha256 }, ctx.now, `PAdES augmentation to ${o.to} (skillcert extend): fresh validation data${o.to === 'B-LTA' ? ' and a document timestamp' : ''}; the signatures are unchanged`, { operator: ctx.operator });
          recorded = true;
        }
        report.extended.push({ file, ...(number ? { number } : {}), sha256, recorded });
      } catch (err) {
        report.failed.push({ file, message: (err as Error).message });
      }
    }
  } finally {
    await registry?.close();
  }
  return report;
}
