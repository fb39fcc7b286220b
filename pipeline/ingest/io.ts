/**
 * The stall watchdog of the roster readers. A read that waits on a stream which never ends (a damaged zip, a file
 * on a network drive that went away) must fail with a message: left alone, the event loop empties and Node exits
 * with status 13 and nothing said (seen with exceljs on 1 in 7 byte-damaged copies of a roster).
 */
import type { Readable } from 'node:stream';
import { SkillcertError } from '../core/errors.js';

/** How long a read may make no progress before it fails (ms). */
export const DEFAULT_STALL_MS = 30_000;

/**
 * `p`, or the error of `onStall()` when `p` has not settled within `ms`. The timer is deliberately not unref'd:
 * it is what keeps the process alive long enough to report the stall.
 */
export function deadline<T>(p: Promise<T>, ms: number, onStall: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  // Once the watchdog has won, a late rejection of `p` is of no interest (and must not become an unhandled one).
  p.catch(() => undefined);
  const stall = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onStall()), ms);
  });
  return Promise.race([p, stall]).finally(() => clearTimeout(timer));
}

/** The error of a read that made no progress: `what` is where the data should have come from. */
export function stalled(name: string, what: string, ms: number): SkillcertError {
  const s = ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
  return new SkillcertError('E_ROSTER', `reading roster ${name} stalled: no data came from ${what} for ${s}; the file may be on a drive that went away or still being written — copy it to a local disk and run again`, { stalled: true });
}

/** The chunks of a stream, each awaited under the watchdog; the stream is destroyed however the loop ends. */
export async function* watchedChunks(stream: Readable, ms: number, onStall: () => Error): AsyncGenerator<Buffer, void, undefined> {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  try {
    for (;;) {
      const next = await deadline(it.next(), ms, onStall);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    stream.destroy();
  }
}
