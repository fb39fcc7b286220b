/** A time as verifiers and reports print it: ISO 8601 in UTC, whole seconds. */
export const isoTime = (d: Date): string => d.toISOString().replace('.000Z', 'Z');
