/**
 * The audit trail (第二十条: 传输、修改、删除等数据操作应全程可溯源倒查): every change to the registry is one
 * append-only entry, chained by hashes so that an entry edited, deleted or moved behind the tool's back is found.
 *
 * This module is the registry-independent part: the entry types, the canonical serialisation, the hash, and a
 * streaming chain checker. SQLite (sqlite.ts) and PostgreSQL (postgres.ts) store entries; both hash and check with
 * these functions, so an entry hashed by one is checked identically by the other and by `skillcert audit`.
 *
 * What the chain proves and what it does not: a change to any field of an entry, a deleted entry and entries
 * put out of order are found at the first entry affected. Someone who can write the file and knows the scheme
 * can rewrite the whole tail with fresh hashes; that is caught only against a head (seq + hash) recorded outside
 * the file, e.g. in a signed batch manifest, and passed back as `anchor` (AuditCheckOptions).
 */
import { createHash } from 'node:crypto';

/**
 * issue: a number was handed out; sign: a signed PDF was recorded (the first, or a re-rendered one superseding the
 * previous); correct: 第十七条; reissue: 第二十二条; revoke: 第十八条; export: data left the registry (a form, a
 * filing); supersede: a PDF withdrawn without a replacement; suspend / lift: 第二十条 queries of a suspicious
 * certificate suspended, and the suspension lifted (schema version 3).
 */
export type AuditAction = 'issue' | 'sign' | 'correct' | 'reissue' | 'revoke' | 'export' | 'supersede' | 'suspend' | 'lift';
export const AUDIT_ACTIONS: readonly AuditAction[] = ['issue', 'sign', 'correct', 'reissue', 'revoke', 'export', 'supersede', 'suspend', 'lift'];

/** One field an entry changed. ID numbers appear here only masked (maskId, 第十九条). */
export interface AuditChange {
  readonly field: string;
  readonly before: string | null;
  readonly after: string | null;
}

/** One audit entry, exactly as stored and hashed (null, not undefined, so that what is hashed is what is shown). */
export interface AuditEntry {
  /** 1, 2, 3 … with no gap: a gap is a deleted entry. */
  readonly seq: number;
  /** ISO 8601, from the caller's clock (Context.now). */
  readonly at: string;
  /** Who (Context.operator). */
  readonly operator: string;
  readonly action: AuditAction;
  /** The certificate, or null for an export of several. */
  readonly number: string | null;
  /** The PDF digest before and after, where the action changes or concerns one. */
  readonly beforeSha256: string | null;
  readonly afterSha256: string | null;
  readonly changes: readonly AuditChange[];
  /** Why. */
  readonly reason: string | null;
  /** The hash of entry seq − 1; GENESIS_HASH for entry 1. */
  readonly prevHash: string;
  /** SHA-256 over canonicalEntry(this entry), including prevHash. */
  readonly hash: string;
}

/** An entry before it is chained: what the registry knows when it records a change. */
export type AuditDraft = Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'>;

export interface AuditFilter {
  readonly number?: string;
  /** Inclusive. */
  readonly from?: Date;
  /** Exclusive: from 2025-07-01T00:00+08:00 to 2025-08-01T00:00+08:00 is July, Beijing time. */
  readonly to?: Date;
}

/** The last entry of a chain: record it somewhere else to detect a rewritten tail later. */
export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}

export type AuditBreakKind =
  /** The entry's fields no longer give its stored hash: a field was edited. */
  | 'hash-mismatch'
  /** The entry does not point at the hash of the entry before it: entries were removed, inserted or reordered. */
  | 'prev-hash-mismatch'
  /** A sequence number is absent: an entry was deleted (seq names the missing one). */
  | 'missing-entry'
  /** The entry cannot be read as an entry at all (e.g. its changes are not JSON, an unknown action). */
  | 'malformed'
  /** The entry given as anchor is not in the chain any more, or has another hash: the chain was rewritten. */
  | 'anchor-mismatch'
  /** A correction or reissue points at an audit entry that is not there or is about something else. */
  | 'dangling-reference';

export interface AuditBreak {
  /** The first entry that is wrong (for missing-entry: the sequence number that is missing). */
  readonly seq: number;
  readonly kind: AuditBreakKind;
  /** What is wrong and what to do. */
  readonly message: string;
}

export type AuditVerification =
  | { readonly ok: true; readonly entries: number; readonly head?: AuditHead }
  | { readonly ok: false; readonly entries: number; readonly broken: AuditBreak };

export interface AuditCheckOptions {
  /** A head recorded earlier outside the registry; the chain must still hold this entry with this hash. */
  readonly anchor?: AuditHead;
}

/** prev_hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** Bumped if the serialisation ever changes; it is part of every hash, so old and new entries cannot be confused. */
const FORMAT = 'skillcert-audit-1';

/**
 * The canonical serialisation: a JSON array in a fixed order, nulls explicit, changes as [field, before, after]
 * triples in their recorded order. JSON.stringify of strings and integers is deterministic, so every
 * implementation that builds this array gets the same bytes.
 */
export function canonicalEntry(e: Omit<AuditEntry, 'hash'>): string {
  return JSON.stringify([
    FORMAT,
    e.seq,
    e.at,
    e.operator,
    e.action,
    e.number,
    e.beforeSha256,
    e.afterSha256,
    e.changes.map((c) => [c.field, c.before, c.after]),
    e.reason,
    e.prevHash,
  ]);
}

export function entryHash(e: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256').update(canonicalEntry(e), 'utf8').digest('hex');
}

/** Chains a draft onto the previous entry (or the genesis). */
export function chainEntry(draft: AuditDraft, previous: AuditHead | undefined): AuditEntry {
  const unhashed = { ...draft, seq: (previous?.seq ?? 0) + 1, prevHash: previous?.hash ?? GENESIS_HASH };
  return { ...unhashed, hash: entryHash(unhashed) };
}

/**
 * Checks a chain entry by entry, in seq order, without holding it in memory (a provincial registry has millions).
 * push() returns the first break and the checker stops there: everything after a break is suspect anyway.
 */
export class ChainChecker {
  #last: AuditHead | undefined;
  #count = 0;
  #broken: AuditBreak | undefined;

  get broken(): AuditBreak | undefined {
    return this.#broken;
  }

  get count(): number {
    return this.#count;
  }

  get head(): AuditHead | undefined {
    return this.#last;
  }

  /** An entry as read back; `malformed` is set by the store when it could not decode a stored row. */
  push(e: AuditEntry | { readonly seq: number; readonly malformed: string }): AuditBreak | undefined {
    if (this.#broken) return this.#broken;
    const expected = (this.#last?.seq ?? 0) + 1;
    if (e.seq > expected) {
      return this.#fail({
        seq: expected,
        kind: 'missing-entry',
        message:
          expected === e.seq - 1
            ? `audit entry ${expected} is missing: the entries jump from ${expected - 1} to ${e.seq}; it was deleted behind the registry's back — restore the registry from a backup and find out who changed the file`
            : `audit entries ${expected}-${e.seq - 1} are missing: the entries jump from ${expected - 1} to ${e.seq}; they were deleted behind the registry's back — restore the registry from a backup and find out who changed the file`,
      });
    }
    if (e.seq < expected) {
      // Only reachable when the store hands rows out of order, which a seq-ordered read cannot do.
      return this.#fail({ seq: e.seq, kind: 'prev-hash-mismatch', message: `audit entry ${e.seq} appears after entry ${expected - 1}: the log is out of order` });
    }
    if ('malformed' in e) {
      return this.#fail({ seq: e.seq, kind: 'malformed', message: `audit entry ${e.seq} cannot be read: ${e.malformed}; the file was changed behind the registry's back — restore it from a backup` });
    }
    const prev = this.#last?.hash ?? GENESIS_HASH;
    if (e.prevHash !== prev) {
      return this.#fail({
        seq: e.seq,
        kind: 'prev-hash-mismatch',
        message: `audit entry ${e.seq} does not follow entry ${e.seq - 1} (its prev_hash ${short(e.prevHash)} is not ${short(prev)}): entries were removed, inserted or reordered — restore the registry from a backup`,
      });
    }
    const hash = entryHash(e);
    if (hash !== e.hash) {
      return this.#fail({
        seq: e.seq,
        kind: 'hash-mismatch',
        message: `audit entry ${e.seq} (${e.action}${e.number ? ` ${e.number}` : ''}) was changed after it was written: its fields hash to ${short(hash)}, not the recorded ${short(e.hash)} — restore the registry from a backup`,
      });
    }
    this.#last = { seq: e.seq, hash: e.hash };
    this.#count += 1;
    return undefined;
  }

  /** Marks the chain broken from outside (anchor, sequence counter, references). */
  fail(b: AuditBreak): AuditBreak {
    return this.#fail(b);
  }

  result(): AuditVerification {
    if (this.#broken) return { ok: false, entries: this.#count, broken: this.#broken };
    return { ok: true, entries: this.#count, ...(this.#last && { head: this.#last }) };
  }

  #fail(b: AuditBreak): AuditBreak {
    this.#broken ??= b;
    return this.#broken;
  }
}

/** Checks an anchor against the entry with that seq (undefined when absent). */
export function checkAnchor(anchor: AuditHead, atSeq: AuditEntry | undefined): AuditBreak | undefined {
  if (!atSeq) {
    return { seq: anchor.seq, kind: 'anchor-mismatch', message: `audit entry ${anchor.seq}, recorded as the head earlier, is no longer in the registry: the log was cut — restore the registry from a backup` };
  }
  if (atSeq.hash !== anchor.hash) {
    return {
      seq: anchor.seq,
      kind: 'anchor-mismatch',
      message: `audit entry ${anchor.seq} has hash ${short(atSeq.hash)} but ${short(anchor.hash)} was recorded for it earlier: the log was rewritten — restore the registry from a backup`,
    };
  }
  return undefined;
}

function short(h: string): string {
  return `${h.slice(0, 12)}…`;
}
