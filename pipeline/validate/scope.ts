/**
 * Registered scope (SPEC §3, 第九条 and 第十三条): the occupation, job and level printed must agree with
 * what the organisation filed. Matching ignores width and spacing (电工（维修电工） = 电工(维修电工));
 * the registered spelling is what goes on the certificate, and a different spelling is noted.
 */
import type { z } from 'zod';
import { levelLabel, type LevelCode } from '../core/record.js';
import type { ScopeEntry } from '../core/profile.js';
import type { RowIssues } from './issues.js';
import { compareKey } from './text.js';

export type Scope = readonly z.infer<typeof ScopeEntry>[];

interface OccupationScope {
  readonly occupation: string;
  /** Registered job key → spelling; empty when the occupation has no jobs. */
  readonly jobs: Map<string, string>;
  /** Levels by job key ('' for the occupation without a job). */
  readonly levels: Map<string, Set<LevelCode>>;
}

/** At most this many allowed values are named in one message. */
const NAME_AT_MOST = 20;

function listAllowed(values: readonly string[]): string {
  if (values.length <= NAME_AT_MOST) return values.join(', ');
  return `${values.slice(0, NAME_AT_MOST).join(', ')} … and ${values.length - NAME_AT_MOST} more (see the profile's scope)`;
}

export interface ScopeFields {
  readonly occupation: string;
  readonly job: string;
  readonly level: string;
}

export class ScopeIndex {
  private readonly byOccupation = new Map<string, OccupationScope>();

  constructor(scope: Scope) {
    // The same occupation may be filed in several entries (different jobs or levels): merge them.
    for (const e of scope) {
      const k = compareKey(e.occupation);
      let o = this.byOccupation.get(k);
      if (!o) {
        o = { occupation: e.occupation, jobs: new Map(), levels: new Map() };
        this.byOccupation.set(k, o);
      }
      const jobs = e.jobs.length > 0 ? e.jobs : [''];
      for (const j of jobs) {
        const jk = compareKey(j);
        if (jk !== '') o.jobs.set(jk, j);
        const set = o.levels.get(jk) ?? new Set<LevelCode>();
        for (const l of e.levels) set.add(l);
        o.levels.set(jk, set);
      }
    }
  }

  occupations(): string[] {
    return [...this.byOccupation.values()].map((o) => o.occupation);
  }

  has(occupation: string): boolean {
    return this.byOccupation.has(compareKey(occupation));
  }

  /**
   * Sichuan 申报职业（工种）: "电工（维修电工）" is occupation 电工 and job 维修电工, "电工" alone has no job.
   * A registered occupation whose own name has brackets is taken whole.
   */
  split(text: string): { occupation: string; job: string } {
    if (this.has(text)) return { occupation: text, job: '' };
    const m = /^(.+?)\s*[(（]([^()（）]+)[)）]\s*$/.exec(text);
    if (!m) return { occupation: text, job: '' };
    return { occupation: m[1]!.trim(), job: m[2]!.trim() };
  }

  /**
   * Checks occupation, job and level against the scope; returns the registered spellings, or undefined
   * with problems reported.
   */
  check(occupation: string, job: string, level: LevelCode, fields: ScopeFields, issues: RowIssues): { occupation: string; job: string } | undefined {
    const row = issues.rowNo;
    const o = this.byOccupation.get(compareKey(occupation));
    if (!o) {
      issues.problem(
        fields.occupation,
        'scope.occupation',
        `${fields.occupation} "${occupation}" is not in this organisation's registered scope (第九条: must agree with what was filed); registered: ${listAllowed(this.occupations())} — correct it in row ${row} or file the occupation first`,
        occupation,
      );
      return undefined;
    }
    const jobs = [...o.jobs.values()];
    const jk = compareKey(job);
    if (jk === '' && jobs.length > 0 && !o.levels.has('')) {
      issues.problem(fields.job, 'scope.jobMissing', `${fields.job} is empty in row ${row} but ${o.occupation} is registered with jobs: ${listAllowed(jobs)}; fill in one of them`);
      return undefined;
    }
    if (jk !== '' && !o.jobs.has(jk)) {
      const msg = jobs.length === 0
        ? `${fields.job} "${job}" is not registered: ${o.occupation} has no registered 工种/职业方向, so leave it empty (printed as ——, 第九条) in row ${row}`
        : `${fields.job} "${job}" is not registered for ${o.occupation}; registered: ${listAllowed(jobs)} — correct it in row ${row}`;
      issues.problem(fields.job, 'scope.job', msg, job);
      return undefined;
    }
    const levels = o.levels.get(jk) ?? new Set<LevelCode>();
    if (!levels.has(level)) {
      const what = jk === '' ? o.occupation : `${o.occupation} (${o.jobs.get(jk)})`;
      const allowed = [...levels].sort().map((l) => levelLabel(l));
      issues.problem(
        fields.level,
        'scope.level',
        `${fields.level} ${levelLabel(level)} is not registered for ${what}; registered: ${allowed.join(', ') || 'none'} — correct it in row ${row}`,
        levelLabel(level),
      );
      return undefined;
    }
    return { occupation: o.occupation, job: jk === '' ? '' : o.jobs.get(jk)! };
  }
}
