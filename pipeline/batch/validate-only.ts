/** `skillcert validate`: ingest + validate only; writes the rejects workbook, numbers and renders nothing. */
import { mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Context } from '../core/context.js';
import { loadProfile } from '../core/profile.js';
import { FontSet } from '../fonts/index.js';
import { type RosterSummary, validateRoster, writeRejectsWorkbook } from '../validate/index.js';

export interface ValidateOnlyResult { readonly summary: RosterSummary; readonly rejects: string }

export async function validateOnly(ctx: Context, opts: { roster: string; profile: string; rejects?: string; issueDate?: string; sheet?: string }): Promise<ValidateOnlyResult> {
  const profile = loadProfile(opts.profile);
  const fonts = FontSet.load();
  const v = await validateRoster(opts.roster, profile, { uncovered: (t, r) => fonts.uncovered(t, r), now: ctx.now, ...(opts.issueDate ? { issueDate: opts.issueDate } : {}), ...(opts.sheet !== undefined ? { sheet: opts.sheet } : {}) });
  const rejects = resolve(opts.rejects ?? join('output', `${basename(opts.roster).replace(/\.[^.]+$/, '')}-rejects.xlsx`));
  mkdirSync(dirname(rejects), { recursive: true });
  await writeRejectsWorkbook(rejects, v.summary.problems, { notes: v.summary.notes });
  return { summary: v.summary, rejects };
}
