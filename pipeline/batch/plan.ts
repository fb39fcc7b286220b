/**
 * A run's options resolved once, at the door: the profile, fonts and signing identity loaded and checked, every path
 * made absolute, every default applied. The stages read the plan and never the options again.
 */
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { CERTIFICATES_DIR } from '../bundle/model.js';
import { type Identity, loadIdentity } from '../certificate/identity.js';
import type { Context } from '../core/context.js';
import type { Profile } from '../core/profile.js';
import { isRegistryUrl, registryLocation } from '../registry/index.js';
import { Pool } from './pool.js';

export interface Progress {
  start(total: number): void;
  tick(done: number, note?: string): void;
  stop(): void;
}

export const noProgress: Progress = { start() {}, tick() {}, stop() {} };

export interface RunOptions {
  readonly roster: string;
  readonly profile: string;
  /** Output root; the batch folder is <out>/<batch id>. */
  readonly out: string;
  /** The registry: a SQLite file (default <out>/registry.sqlite) or a postgres:// URL without its password. */
  readonly registry?: string;
  /** Folder of the roster's photos; default <roster folder>/photos. */
  readonly photos?: string;
  /** 发证日期 for rosters without that column (the Sichuan 申报汇总表). */
  readonly issueDate?: string;
  /** The worksheet that holds the roster, by name: needed when several visible sheets have a header, or a hidden one. */
  readonly sheet?: string;
  /** Worker threads; default one per core but one (Pool.defaultSize), 0 = in this thread. */
  readonly workers?: number;
  readonly progress?: Progress;
  /** Also write the certificate-style filing material of 附件3 (with this batch's first certificate as the sample). */
  readonly filingMaterial?: boolean;
  /**
   * With a PostgreSQL registry: accepted rows per chunk of the batch's job queue (default CHUNK_ROWS). The first
   * machine to open a batch's queue lays it out; the others follow that layout.
   */
  readonly chunkRows?: number;
  /** With a PostgreSQL registry: seconds a claimed chunk is this machine's (queue.ts; default leaseFor(chunk rows)). */
  readonly lease?: number;
}

/** Accepted rows per chunk of a queued batch: a few seconds of one machine's work, so a dead machine's chunk is small. */
export const CHUNK_ROWS = 500;

export interface BatchPlan {
  readonly identity: Identity;
  readonly roster: string;
  readonly out: string;
  readonly photoDir: string;
  /** A SQLite file or a PostgreSQL URL. */
  readonly registry: string;
  /** A PostgreSQL registry: the batch is shared through its job queue. */
  readonly queued: boolean;
  readonly workers: number;
  readonly chunkRows: number;
  readonly lease?: number;
  readonly filingMaterial: boolean;
  readonly progress: Progress;
  readonly issueDate?: string;
  readonly sheet?: string;
}

/** Every broken input (profile, fonts, identity, a registry URL with a password) stops the run here, before anything is written. */
export function planBatch(ctx: Context, opts: RunOptions): BatchPlan {
  const identity = loadIdentity(ctx, opts.profile);
  const out = resolve(opts.out);
  const roster = resolve(opts.roster);
  const registry = registryLocation(opts.registry, out);
  return {
    identity, roster, out, registry,
    photoDir: resolve(opts.photos ?? join(dirname(roster), 'photos')),
    queued: isRegistryUrl(registry),
    workers: opts.workers ?? Pool.defaultSize(),
    chunkRows: opts.chunkRows ?? CHUNK_ROWS,
    filingMaterial: opts.filingMaterial ?? false,
    progress: opts.progress ?? noProgress,
    ...(opts.lease !== undefined ? { lease: opts.lease } : {}),
    ...(opts.issueDate ? { issueDate: opts.issueDate } : {}),
    ...(opts.sheet !== undefined ? { sheet: opts.sheet } : {}),
  };
}

/** Where a batch lives: named by its roster's and profile's content, so a rerun of the same roster resumes it. */
export interface BatchPlace {
  readonly batchId: string;
  readonly dir: string;
  readonly certDir: string;
}

export function batchIdFor(profile: Profile, rosterSha256: string, issueDate?: string, sheet?: string): string {
  // another sheet of the same workbook is another batch; without --sheet the id is what it always was
  const h = createHash('sha256').update(`${profile.id}\n${rosterSha256}\n${issueDate ?? ''}${sheet !== undefined ? `\n${sheet}` : ''}`).digest('hex');
  return `${profile.id}-${h.slice(0, 12)}`;
}

export function placeBatch(plan: BatchPlan, rosterSha256: string): BatchPlace {
  const batchId = batchIdFor(plan.identity.profile, rosterSha256, plan.issueDate, plan.sheet);
  const dir = join(plan.out, batchId);
  return { batchId, dir, certDir: join(dir, CERTIFICATES_DIR) };
}
