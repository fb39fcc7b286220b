/**
 * The spool of a run's accepted rows in the output folder, `.tmp-accepted-<host>-<pid>.jsonl` (validate/roster.ts
 * writes and reads it). The host is in the name because machines of a queued batch share the output folder, and a
 * pid says nothing about another machine's processes.
 */
import { readdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isRunning } from '../core/files.js';

const spoolPrefix = () => `.tmp-accepted-${hostname()}-`;

/** This run's spool in `out`. */
export const spoolFile = (out: string): string => join(out, `${spoolPrefix()}${process.pid}.jsonl`);

/** Removes the spools of this machine's runs that are no longer running (killed): they hold ID numbers. */
export function removeStaleSpools(out: string): void {
  const prefix = spoolPrefix();
  for (const f of readdirSync(out)) {
    const pid = f.startsWith(prefix) && f.endsWith('.jsonl') ? Number(f.slice(prefix.length, -'.jsonl'.length)) : NaN;
    if (Number.isInteger(pid) && pid !== process.pid && !isRunning(pid)) rmSync(join(out, f), { force: true });
  }
}
