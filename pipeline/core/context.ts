import { userInfo } from 'node:os';

/**
 * What every stage gets from outside: the clock, paths, the logger. Tests pin these;
 * no stage reads the clock or the environment deep inside.
 */
export interface Logger {
  info(msg: string, extra?: Record<string, unknown>): void;
  warn(msg: string, extra?: Record<string, unknown>): void;
  error(msg: string, extra?: Record<string, unknown>): void;
}

export interface Context {
  /** The time of the run; signatures, issue dates defaults and audit entries read this, never Date.now(). */
  readonly now: Date;
  readonly log: Logger;
  /** The operator (who) for audit entries. */
  readonly operator: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

export function makeContext(over: Partial<Context> = {}): Context {
  return {
    now: over.now ?? new Date(),
    log: over.log ?? silentLogger,
    operator: over.operator ?? process.env.SKILLCERT_OPERATOR ?? process.env.USER ?? userInfo().username,
    env: over.env ?? process.env,
  };
}
