/**
 * The accepted rows in roster order, each with its photo being prepared ahead of the numbering (stamp/photo.ts:
 * sharp works on libuv's threads, two at once), within a window of rows that bounds memory and what a killed
 * run has numbered but not written.
 */
import type { Row } from '../core/record.js';
import { preparePhoto, type PhotoResult } from '../stamp/index.js';

/** A promise and, once it has settled, its value or error; waiting on `promise` never throws. */
interface Settling<T> { readonly promise: Promise<unknown>; value?: T; error?: Error }

function settling<T>(p: Promise<T>): Settling<T> {
  const state: Omit<Settling<T>, 'promise'> = {};
  const promise = p.then(
    (value) => Object.assign(state, { value }),
    (error: unknown) => Object.assign(state, { error: error as Error }),
  );
  return Object.assign(state, { promise });
}

export interface Pending { readonly row: Row; readonly photo: Settling<PhotoResult> }

/**
 * Photos being prepared at once. Two keep ahead of the certificates (a photo takes ~3 ms of one thread, a
 * certificate ~5 ms of the worker's), and leave libuv's other threads to the files being written; four at once
 * (libuv's default) on two cores took more CPU for the same photos, the pipelines waiting on each other.
 */
const PREPARING = 2;

/**
 * The accepted rows in roster order, each with its photo being prepared (sharp works on libuv's threads, PREPARING
 * at once), at most `window` rows ahead of the rows released as finished.
 */
export class PhotoQueue {
  /** Rejects when reading the rows fails (e.g. the spool of accepted rows cannot be read). */
  readonly done: Promise<void>;
  private readonly items: Pending[] = [];
  private free: number;
  private reading = true;
  private stopped = false;
  private wakeReader?: () => void;
  private wakeConsumer?: () => void;
  private preparing = 0;
  /** Photos waiting for one of the PREPARING places, in roster order. */
  private readonly waiting: (() => void)[] = [];

  constructor(rows: AsyncIterable<Row>, photoDir: string, window: number) {
    this.free = window;
    this.done = this.fill(rows, photoDir);
    this.done.catch(() => undefined);
  }

  private async fill(rows: AsyncIterable<Row>, photoDir: string): Promise<void> {
    try {
      for await (const row of rows) {
        while (this.free === 0 && !this.stopped) await new Promise<void>((r) => (this.wakeReader = r));
        if (this.stopped) return;
        this.free--;
        this.items.push({ row, photo: settling(this.prepare(photoDir, row.photo)) });
        this.wakeConsumer?.();
      }
    } finally {
      this.reading = false;
      this.wakeConsumer?.();
    }
  }

  private async prepare(photoDir: string, name: string | undefined): Promise<PhotoResult> {
    while (this.preparing >= PREPARING) await new Promise<void>((r) => this.waiting.push(r));
    this.preparing++;
    try {
      return await preparePhoto(photoDir, name);
    } finally {
      this.preparing--;
      this.waiting.shift()?.();
    }
  }

  /**
   * The next `max` rows (fewer at the end of the roster) once all their photos are prepared; none when every row
   * has been taken. `max` must not exceed the window, or the queue would wait for rows it may not read.
   */
  async next(max: number): Promise<Pending[]> {
    while (this.items.length < max && this.reading) await new Promise<void>((r) => (this.wakeConsumer = r));
    const group = this.items.splice(0, max);
    await Promise.all(group.map((p) => p.photo.promise));
    return group;
  }

  /** A row is finished (its file written, or it was refused): one more may be read. */
  release(): void {
    this.free++;
    this.wakeReader?.();
  }

  /** Stops reading rows (the run failed). */
  stop(): void {
    this.stopped = true;
    this.wakeReader?.();
  }
}

