/**
 * One verification result, the one shape every verifier reports (PDF signatures, timestamps, QR codes, bundles):
 * ok true (passed), false (failed), null (indeterminate: cannot be decided from what is there).
 */
export interface Check {
  readonly id: string;
  readonly ok: boolean | null;
  readonly message: string;
  /** The files a check is about (a bundle's changed, missing or extra files). */
  readonly files?: readonly string[];
}

export const pass = (id: string, message: string): Check => ({ id, ok: true, message });
export const fail = (id: string, message: string): Check => ({ id, ok: false, message });
export const unknown = (id: string, message: string): Check => ({ id, ok: null, message });

/** true when no check failed (indeterminate ones do not count as failures). */
export function allPassed(checks: readonly Check[]): boolean {
  return checks.every((c) => c.ok !== false);
}

