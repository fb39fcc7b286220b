/**
 * The issuing identity of a profile: the profile, the fonts and the signing identity, loaded once and checked up
 * front, so that every broken input stops a command before anything is written. Shared by the batch and the
 * after-issue commands.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Context } from '../core/context.js';
import { SkillcertError } from '../core/errors.js';
import { loadProfile, type Profile } from '../core/profile.js';
import { FontSet } from '../fonts/index.js';
import { loadSigner, type LoadedSigner, readPassword } from '../sign/index.js';

export interface Identity {
  readonly profile: Profile;
  readonly fonts: FontSet;
  readonly signer: LoadedSigner;
  /** The P12 and its password, for worker threads that load the signer themselves. */
  readonly p12: Uint8Array;
  readonly password: string;
}

const branchSigners = new Map<string, LoadedSigner>();

/**
 * Style two's second identity (profile.branch.signer), loaded once per process and profile; undefined when the
 * profile has none (the organisation then signs alone). Its password, like the organisation's, never on argv.
 */
export function loadBranchSigner(profile: Profile, env: Readonly<Record<string, string | undefined>> = process.env): LoadedSigner | undefined {
  const cfg = profile.styleId === 'style-two' ? profile.branch?.signer : undefined;
  if (!cfg) return undefined;
  let s = branchSigners.get(profile.path);
  if (!s) {
    const file = resolve(profile.dir, cfg.p12);
    let p12: Uint8Array;
    try {
      p12 = readFileSync(file);
    } catch (err) {
      throw new SkillcertError('E_SIGN', `cannot read the branch's signing identity ${cfg.p12} of profile ${profile.id}: ${(err as Error).message}`, { field: 'branch.signer.p12' }, { cause: err });
    }
    s = loadSigner({ p12, password: readPassword(cfg, env, profile.dir), source: cfg.p12 });
    branchSigners.set(profile.path, s);
  }
  return s;
}

export function loadIdentity(ctx: Context, profilePath: string): Identity {
  const profile = loadProfile(profilePath);
  const fonts = FontSet.load();
  const password = readPassword(profile.signer, ctx.env, profile.dir);
  const p12File = resolve(profile.dir, profile.signer.p12);
  let p12: Uint8Array;
  try {
    p12 = readFileSync(p12File);
  } catch (err) {
    throw new SkillcertError('E_SIGN', `cannot read the signing identity ${profile.signer.p12} of profile ${profile.id}: ${(err as Error).message}`, {}, { cause: err });
  }
  const signer = loadSigner({ p12, password, source: profile.signer.p12 });
  // Checked up front like the organisation's, so a wrong branch password stops the run before anything is written.
  loadBranchSigner(profile, ctx.env);
  return { profile, fonts, signer, p12, password };
}
