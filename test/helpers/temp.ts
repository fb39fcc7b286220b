/** Temporary folders for tests: made fresh, removed together by `removeTempDirs` (register it with test.after.always). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A fresh temporary folder, removed by `removeTempDirs`. */
export function tempDir(prefix = 'skillcert-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

/** Removes every folder `tempDir` made (kept when SKILLCERT_KEEP_TEST_OUTPUT is set, to look at them). */
export function removeTempDirs(): void {
  if (process.env.SKILLCERT_KEEP_TEST_OUTPUT) return;
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}
