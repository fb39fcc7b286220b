/**
 * Recording signed files in the registry, grouped: one transaction (one fsync) for many certificates.
 */
import type { Context } from '../core/context.js';
import type { Numbered, Row } from '../core/record.js';
import type { PdfDigest, Registry } from '../registry/index.js';

/** Signed files recorded in one transaction, at most, and how long one waits for the next to join it. */
const RECORD_GROUP = 128;
const RECORD_AFTER_MS = 500;

export interface ToRecord { readonly row: Row; readonly rec: Numbered; readonly pdf: PdfDigest }

/**
 * Records signed files in groups (markIssuedMany: one transaction, one fsync, per RECORD_GROUP files or per
 * RECORD_AFTER_MS). A crash before a group commits leaves its certificates `numbered` with their files on disk:
 * the rerun renders them again and records those files instead — never a number twice.
 */
export class IssueRecorder {
  private pending: { item: ToRecord; done: (recorded: boolean) => void }[] = [];
  private timer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly registry: Registry,
    private readonly ctx: Context,
    private readonly failed: (item: ToRecord, err: unknown) => void,
  ) {}

  /** Resolves true once the file is recorded, false when recording it failed (reported through `failed`). */
  add(item: ToRecord): Promise<boolean> {
    return new Promise((done) => {
      this.pending.push({ item, done });
      if (this.pending.length >= RECORD_GROUP) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), RECORD_AFTER_MS);
    });
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const group = this.pending;
    this.pending = [];
    if (group.length === 0) return this.chain;
    this.chain = this.chain.then(() => this.record(group));
    return this.chain;
  }

  private async record(group: { item: ToRecord; done: (recorded: boolean) => void }[]): Promise<void> {
    const { ctx } = this;
    try {
      await this.registry.markIssuedMany(group.map((g) => ({ number: g.item.rec.number, pdf: g.item.pdf })), ctx.now, { operator: ctx.operator });
      for (const g of group) g.done(true);
      return;
    } catch {
      // One failure rolled the group back: record them one by one, so that only the failing ones are reported.
    }
    for (const g of group) {
      try {
        await this.registry.markIssued(g.item.rec.number, g.item.pdf, ctx.now, { operator: ctx.operator });
        g.done(true);
      } catch (err) {
        this.failed(g.item, err);
        g.done(false);
      }
    }
  }
}

