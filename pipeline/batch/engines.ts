/**
 * What a batch starts before it needs it, while the roster is validated: Chromium prints the template (or the print
 * cache has it), the worker threads load their modules, fonts and identity, and at B-LT / B-LTA the signers'
 * validation data (OCSP, CRLs, the TSA's chain) is fetched once for all workers. None of them writes anything.
 */
import { join } from 'node:path';
import { batchValidation } from '../certificate/produce.js';
import { loadBranchSigner } from '../certificate/identity.js';
import { signatureLevel, type Profile } from '../core/profile.js';
import type { FontSet } from '../fonts/index.js';
import { buildTemplate, cachedPrinter } from '../render/index.js';
import type { BatchPlan } from './plan.js';
import { Pool } from './pool.js';

/** Pages Chromium printed, by content (render/browser.ts cachedPrinter), beside the batches. */
const PRINT_CACHE = join('.cache', 'print');

export interface Engines {
  /** The pool with the template handed over; a broken profile or identity, or a revoked signer, fails here. */
  ready(): Promise<Pool>;
  /** Waits for the template and closes the pool; a second call waits for the first. */
  close(): Promise<void>;
}

export function startEngines(plan: BatchPlan, now: Date): Engines {
  const { profile, fonts, p12, password, signer } = plan.identity;
  const templateP = printTemplate(profile, fonts, plan.out);
  const validationP = batchValidation(profile, signer, loadBranchSigner(profile), now);
  // From B-T on, each certificate waits for one or two TSA round trips: more of them in flight per worker keep
  // the worker busy meanwhile (a job holds ~0.2 MB: its photo and its PDF).
  const inFlight = signatureLevel(profile) === 'B-B' ? 3 : 8;
  const poolP = Pool.start({ profilePath: profile.path, p12, password, fontFiles: fonts.files() }, plan.workers, inFlight);
  // A failure of one of them surfaces where it is awaited; the other must not become an unhandled rejection.
  templateP.catch(() => undefined);
  poolP.catch(() => undefined);
  validationP.catch(() => undefined);
  let pool: Pool | undefined;
  let closed: Promise<void> | undefined;
  return {
    async ready() {
      const template = await templateP;
      const validation = await validationP;
      pool = await poolP;
      pool.useTemplate(template, validation);
      return pool;
    },
    close() {
      closed ??= (async () => {
        await templateP.catch(() => undefined);
        await (pool ?? (await poolP.catch(() => undefined)))?.close();
      })();
      return closed;
    },
  };
}

/**
 * The template layer, once per run: from the print cache in the output folder when this profile's page was printed
 * before with the same fonts and Chromium, else by one Chromium, closed as soon as it has printed.
 */
export async function printTemplate(profile: Profile, fonts: FontSet, out: string): Promise<Uint8Array> {
  const printer = cachedPrinter(join(out, PRINT_CACHE), fonts.faces().map((f) => f.file));
  try {
    return (await buildTemplate(profile, fonts, printer)).bytes;
  } finally {
    await printer.close();
  }
}
