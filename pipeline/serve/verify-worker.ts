/**
 * One verification thread of `skillcert serve` (verify-pool.ts starts them): runs verifyPdfBytes on the PDFs it is
 * sent and answers with the verdict. The registry stays with the service (one connection, its own thread): the
 * status check asks the service for the certificate's status by message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { StatusReport } from '../registry/index.js';
import { verifyPdfBytes, type FileVerdict, type StatusSource } from '../verify/certificate.js';

/** What the service sends: once, the trust; then PDFs to verify and the registry's answers. */
export interface WorkerSetup {
  readonly trustAnchors: readonly string[];
  readonly orgCertificates: readonly string[];
}
export type ToWorker =
  | { readonly kind: 'verify'; readonly id: number; readonly bytes: Uint8Array; readonly at?: number }
  | { readonly kind: 'status'; readonly id: number; readonly report?: StatusReport; readonly error?: string };
export type FromWorker =
  | { readonly kind: 'verdict'; readonly id: number; readonly verdict: FileVerdict }
  | { readonly kind: 'status'; readonly id: number; readonly number: string; readonly sha256?: string };

// pdf-lib reports every object of a damaged file it skips on console.warn ("Trying to parse invalid object: …",
// "Invalid object ref: …"), two lines an object: an upload's flaws are its verdict's business, not the service's
// stderr (a fuzzed upload wrote dozens). Other warnings pass.
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && /^(Trying to parse invalid object|Invalid object ref)/.test(args[0])) return;
  warn(...args);
};

const port = parentPort;
if (!port) throw new Error('verify-worker.js runs as a worker thread of skillcert serve');
const setup = workerData as WorkerSetup;
const post = (m: FromWorker) => port.postMessage(m);

const asked = new Map<number, { resolve: (r: StatusReport) => void; reject: (e: Error) => void }>();
let lastAsk = 0;
const registry: StatusSource = {
  status: (number, sha256) =>
    new Promise<StatusReport>((resolve, reject) => {
      const id = ++lastAsk;
      asked.set(id, { resolve, reject });
      post({ kind: 'status', id, number, ...(sha256 ? { sha256 } : {}) });
    }),
};

port.on('message', (m: ToWorker) => {
  if (m.kind === 'status') {
    const ask = asked.get(m.id);
    asked.delete(m.id);
    if (m.report) ask?.resolve(m.report);
    else ask?.reject(new Error(m.error ?? 'the registry did not answer'));
    return;
  }
  void verifyPdfBytes(m.bytes, 'upload', { trustAnchors: setup.trustAnchors, orgCertificates: setup.orgCertificates, registry, ...(m.at !== undefined ? { at: new Date(m.at) } : {}) }).then((verdict) =>
    post({ kind: 'verdict', id: m.id, verdict }),
  );
});
