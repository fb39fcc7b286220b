/**
 * verifyBundle: opens a filing bundle's archive and checks, reporting every check with its reason rather
 * than stopping at the first failure: the archive reads; manifest.json is there and well-formed; its
 * JWS verifies over the manifest's exact bytes; the signer's certificate chains to a given trust anchor and
 * was valid at `at` (default: the manifest's creation time, i.e. signing time); every listed file's size
 * and SHA-256 match; no listed file is missing; no file is in the archive that the manifest does not list.
 */
import { createHash } from 'node:crypto';
import yauzl from 'yauzl';
import { verifyChain, verifyDetached } from '../bundle/jws.js';
import { type Manifest, MANIFEST_FORMAT, SELF } from '../bundle/manifest.js';
import { FILES } from '../bundle/model.js';
import type { Check } from '../core/check.js';

/** The checks of a bundle, each reported as `bundle.<name>`. */
export type CheckName = 'archive' | 'manifest' | 'signature' | 'chain' | 'digests' | 'missing' | 'extra';
export type BundleCheck = Check & { readonly id: `bundle.${CheckName}`; readonly ok: boolean };

export interface BundleVerification {
  readonly ok: boolean;
  readonly archive: string;
  /** The time the certificates were checked at (ISO 8601). */
  readonly at?: string;
  readonly batchId?: string;
  readonly profileId?: string;
  readonly signer?: string;
  readonly checks: readonly BundleCheck[];
}

interface Seen { readonly size: number; readonly sha256: string; readonly bytes?: Buffer }

// The manifest and its signature are kept in memory to be parsed and checked; anything larger is not ours.
const KEEP_LIMIT = 512 << 20;

async function readArchive(path: string): Promise<{ entries: Map<string, Seen>; duplicates: string[] }> {
  const zip = await yauzl.openPromise(path, { lazyEntries: true, validateEntrySizes: true, strictFileNames: true });
  const entries = new Map<string, Seen>();
  const duplicates: string[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      const name = entry.fileName;
      if (name.endsWith('/')) continue;
      if (entries.has(name)) duplicates.push(name);
      const keep = SELF.has(name);
      const h = createHash('sha256');
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of await zip.openReadStreamPromise(entry)) {
        const b = chunk as Buffer;
        h.update(b);
        size += b.length;
        if (keep) {
          if (size > KEEP_LIMIT) throw new Error(`${name} is larger than ${KEEP_LIMIT} bytes`);
          chunks.push(b);
        }
      }
      entries.set(name, { size, sha256: h.digest('hex'), ...(keep ? { bytes: Buffer.concat(chunks) } : {}) });
    }
  } finally {
    zip.close();
  }
  return { entries, duplicates };
}

const SAFE_PATH = (p: string): boolean => p.length > 0 && !p.startsWith('/') && !p.includes('\\') && !p.split('/').some((s) => s === '..' || s === '.' || s === '');

function parseManifest(bytes: Buffer): { manifest?: Manifest; reason: string } {
  let m: Manifest;
  try {
    m = JSON.parse(bytes.toString('utf8')) as Manifest;
  } catch (err) {
    return { reason: `manifest.json is not JSON: ${(err as Error).message}` };
  }
  if (m.format !== MANIFEST_FORMAT) return { reason: `manifest.json has format ${JSON.stringify(m.format)}; expected ${MANIFEST_FORMAT}` };
  if (!Array.isArray(m.files)) return { reason: 'manifest.json has no files list' };
  const seen = new Set<string>();
  for (const f of m.files) {
    if (typeof f?.path !== 'string' || !SAFE_PATH(f.path)) return { reason: `manifest.json lists an unsafe or empty path ${JSON.stringify(f?.path)}` };
    if (typeof f.size !== 'number' || typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256)) return { reason: `manifest.json entry ${f.path} lacks a size or a SHA-256 (64 hex digits)` };
    if (seen.has(f.path)) return { reason: `manifest.json lists ${f.path} twice` };
    seen.add(f.path);
  }
  if (Number.isNaN(new Date(m.created).getTime())) return { reason: `manifest.json has no valid created time (${JSON.stringify(m.created)})` };
  return { manifest: m, reason: `manifest.json lists ${m.files.length} file(s) of batch ${m.batchId}` };
}

const short = (h: string): string => `${h.slice(0, 12)}…`;

export async function verifyBundle(archivePath: string, trustAnchorsPem: readonly string[], at?: Date): Promise<BundleVerification> {
  const checks: BundleCheck[] = [];
  const done = (extra: Partial<BundleVerification> = {}): BundleVerification => ({ ok: checks.every((c) => c.ok), archive: archivePath, ...extra, checks });
  let read: Awaited<ReturnType<typeof readArchive>>;
  try {
    read = await readArchive(archivePath);
  } catch (err) {
    checks.push({ id: 'bundle.archive', ok: false, message: `cannot read the archive ${archivePath}: ${(err as Error).message}` });
    return done();
  }
  const { entries, duplicates } = read;
  checks.push(
    duplicates.length
      ? { id: 'bundle.archive', ok: false, message: `the archive holds ${duplicates.length} name(s) twice: ${duplicates.join(', ')}`, files: duplicates }
      : { id: 'bundle.archive', ok: true, message: `the archive reads: ${entries.size} file(s)` },
  );

  const mBytes = entries.get(FILES.manifest)?.bytes;
  if (!mBytes) {
    checks.push({ id: 'bundle.manifest', ok: false, message: 'manifest.json is missing from the archive: nothing can be checked against it' });
    return done();
  }
  const parsed = parseManifest(mBytes);
  checks.push({ id: 'bundle.manifest', ok: !!parsed.manifest, message: parsed.reason });
  const manifest = parsed.manifest;

  const jws = entries.get(FILES.signature)?.bytes;
  let signer: string | undefined;
  const when = at ?? (manifest ? new Date(manifest.created) : new Date(Number.NaN));
  if (!jws) {
    checks.push({ id: 'bundle.signature', ok: false, message: 'manifest.json.jws is missing: the bundle is not signed' });
    checks.push({ id: 'bundle.chain', ok: false, message: 'no signature, so no signer to check' });
  } else {
    const sig = await verifyDetached(jws.toString('utf8'), mBytes);
    checks.push({ id: 'bundle.signature', ok: sig.ok, message: sig.reason });
    if (sig.certificates[0]) signer = sig.certificates[0].subject.replace(/\n/g, ', ');
    if (sig.certificates.length === 0) {
      checks.push({ id: 'bundle.chain', ok: false, message: 'the signature carries no certificate to check' });
    } else if (Number.isNaN(when.getTime())) {
      checks.push({ id: 'bundle.chain', ok: false, message: 'no time to check the certificates at: pass `at`, or fix the manifest\'s created time' });
    } else {
      const chain = verifyChain(sig.certificates, trustAnchorsPem, when);
      checks.push({ id: 'bundle.chain', ok: chain.ok, message: chain.reason });
    }
  }

  if (manifest) {
    const bad: string[] = [];
    const reasons: string[] = [];
    const missing: string[] = [];
    for (const f of manifest.files) {
      const e = entries.get(f.path);
      if (!e) { missing.push(f.path); continue; }
      if (e.sha256 !== f.sha256) { bad.push(f.path); reasons.push(`${f.path}: SHA-256 is ${short(e.sha256)} but the manifest says ${short(f.sha256)}`); }
      else if (e.size !== f.size) { bad.push(f.path); reasons.push(`${f.path}: ${e.size} bytes but the manifest says ${f.size}`); }
    }
    checks.push(bad.length
      ? { id: 'bundle.digests', ok: false, message: `${bad.length} file(s) differ from the manifest — ${reasons.join('; ')}`, files: bad }
      : { id: 'bundle.digests', ok: true, message: `all ${manifest.files.length - missing.length} file(s) present match their SHA-256` });
    checks.push(missing.length
      ? { id: 'bundle.missing', ok: false, message: `${missing.length} file(s) listed in the manifest are missing from the archive: ${missing.join(', ')}`, files: missing }
      : { id: 'bundle.missing', ok: true, message: 'no listed file is missing' });
    const listed = new Set(manifest.files.map((f) => f.path));
    const extra = [...entries.keys()].filter((n) => !listed.has(n) && !SELF.has(n));
    checks.push(extra.length
      ? { id: 'bundle.extra', ok: false, message: `${extra.length} file(s) in the archive are not in the manifest: ${extra.join(', ')}`, files: extra }
      : { id: 'bundle.extra', ok: true, message: 'no file outside the manifest' });
  }
  return done({
    ...(Number.isNaN(when.getTime()) ? {} : { at: when.toISOString() }),
    ...(manifest ? { batchId: manifest.batchId, profileId: manifest.profileId } : {}),
    ...(signer ? { signer } : {}),
  });
}
