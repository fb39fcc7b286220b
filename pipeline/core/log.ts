/**
 * Logging through pino, to stderr, so stdout stays for results (`--json`). ID numbers never reach a log:
 * fields named idNo are redacted, and messages are written by code that masks them first (core/privacy.ts maskId).
 */
import pino from 'pino';
import type { Logger } from './context.js';

export function makeLogger(level: 'silent' | 'error' | 'warn' | 'info' | 'debug' = 'info'): Logger {
  const p = pino(
    { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime, redact: { paths: ['idNo', '*.idNo', '*.*.idNo'], censor: '[masked]' } },
    pino.destination({ fd: 2, sync: true }),
  );
  return {
    info: (msg, extra) => p.info(extra ?? {}, msg),
    warn: (msg, extra) => p.warn(extra ?? {}, msg),
    error: (msg, extra) => p.error(extra ?? {}, msg),
  };
}
