/**
 * The one Node API the shared pure modules use (pipeline/stamp/base45.ts returns Buffer.from(bytes)): esbuild
 * injects this in the page's bundle, where a plain Uint8Array does the same job.
 */
export const Buffer = { from: (data: ArrayLike<number>): Uint8Array => Uint8Array.from(data) };
