/**
 * manifest.json: every file of the batch folder with its relative path, size and SHA-256, plus the batch
 * id, profile id and creation time (passed in, never read from the clock here). Signed as
 * manifest.json.jws (jws.ts). The manifest cannot list itself, its signature, or the archive that
 * carries them; partial writes (`.tmp-*`) never belong to a bundle.
 */
import { lstat, readdir, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { hashFile } from '../core/digest.js';
import { SkillcertError } from '../core/errors.js';
import { signDetached, type ManifestSigner } from './jws.js';
import { byBytes, isTemporary, writeAtomic } from '../core/files.js';
import { FILES } from './model.js';

export const MANIFEST_FORMAT = 'skillcert-manifest/1';

export interface ManifestEntry {
  /** Relative to the batch folder, forward slashes. */
  readonly path: string;
  readonly size: number;
  /** Lower-case hex. */
  readonly sha256: string;
}

export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly batchId: string;
  readonly profileId: string;
  /** ISO 8601, the run's time. */
  readonly created: string;
  readonly algorithm: 'SHA-256';
  readonly files: readonly ManifestEntry[];
}

export interface ManifestMeta {
  readonly batchId: string;
  readonly profileId: string;
  readonly created: Date;
}

/** Names the manifest never lists: itself and its signature (they travel next to it). */
export const SELF = new Set<string>([FILES.manifest, FILES.signature]);

/** Regular files under `dir`, relative with forward slashes, in byte order; `exclude` holds relative paths. */
export async function listFiles(dir: string, exclude: ReadonlySet<string> = new Set()): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    const entries = await readdir(join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      const r = rel ? posix.join(rel, e.name) : e.name;
      if (isTemporary(e.name)) continue;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile()) { if (!exclude.has(r)) out.push(r); }
      else {
        throw new SkillcertError('E_IO', `the batch folder holds ${r}, which is not a regular file (a link or device); a bundle holds regular files only: remove it and run again`, { file: r });
      }
    }
  };
  await walk('');
  return out.sort(byBytes);
}

/** Files hashed at once: each hash waits on reads from libuv's threads, so a few in flight keep them busy. */
const HASHING_AT_ONCE = 8;

/**
 * `known`: SHA-256 digests of files this process wrote itself, by relative path (the batch's certificates, hashed
 * by the worker that signed them from the bytes it wrote): they are not read again. Should such a file have
 * changed since, the manifest no longer matches it and verify-bundle says so.
 */
export async function buildManifest(dir: string, meta: ManifestMeta, exclude: ReadonlySet<string> = new Set(), known: ReadonlyMap<string, string> = new Map()): Promise<Manifest> {
  const paths = await listFiles(dir, new Set([...SELF, ...exclude]));
  const files: ManifestEntry[] = new Array(paths.length);
  const entry = async (path: string): Promise<ManifestEntry> => {
    const sha256 = known.get(path);
    return { path, ...(sha256 ? { size: (await lstat(join(dir, path))).size, sha256 } : await hashFile(join(dir, path))) };
  };
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(HASHING_AT_ONCE, paths.length) }, async () => {
    for (let i = next++; i < paths.length; i = next++) files[i] = await entry(paths[i]!);
  }));
  return { format: MANIFEST_FORMAT, batchId: meta.batchId, profileId: meta.profileId, created: meta.created.toISOString(), algorithm: 'SHA-256', files };
}

export const manifestBytes = (m: Manifest): Buffer => Buffer.from(`${JSON.stringify(m, null, 2)}\n`, 'utf8');

/**
 * Writes manifest.json (and manifest.json.jws when a signer is given; a stale signature is removed when
 * not, so an unsigned manifest never sits beside an old signature). Returns the paths written.
 */
export async function writeManifest(dir: string, meta: ManifestMeta, signer?: ManifestSigner, exclude: ReadonlySet<string> = new Set(), known?: ReadonlyMap<string, string>): Promise<{ manifest: Manifest; files: string[] }> {
  const manifest = await buildManifest(dir, meta, exclude, known);
  const bytes = manifestBytes(manifest);
  await writeAtomic(join(dir, FILES.manifest), bytes);
  const written = [FILES.manifest as string];
  if (signer) {
    await writeAtomic(join(dir, FILES.signature), `${await signDetached(bytes, signer)}\n`);
    written.push(FILES.signature);
  } else {
    await rm(join(dir, FILES.signature), { force: true });
  }
  return { manifest, files: written };
}
