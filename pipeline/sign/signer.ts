/**
 * The @signpdf Signer: gets the PDF without its /Contents gap from @signpdf/signpdf and returns the CMS.
 * The signing time is NOT put in the CMS (PAdES: the claimed time is the signature dictionary's /M).
 */
import { createHash } from 'node:crypto';
import { Signer } from '@signpdf/utils';
import { createCadesSignature, type TimestampFn } from './cms.js';
import type { LoadedSigner } from './identity.js';

export class CadesDetachedSigner extends Signer {
  /** Length of the last CMS produced, so the orchestrator can size a second placeholder exactly. */
  lastCmsLength = 0;
  lastTimestampLength = 0;

  constructor(
    readonly identity: LoadedSigner,
    readonly timestamp?: TimestampFn,
  ) {
    super();
  }

  override async sign(pdfBuffer: Buffer): Promise<Buffer> {
    const digest = createHash('sha256').update(pdfBuffer).digest();
    const result = await createCadesSignature(this.identity, digest, this.timestamp);
    this.lastCmsLength = result.cms.length;
    this.lastTimestampLength = result.timestampToken?.length ?? 0;
    return result.cms;
  }
}
