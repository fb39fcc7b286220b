/**
 * The job queue of a batch shared by several machines (SPEC §9): one PostgreSQL database holds the registry and
 * this queue; every machine runs the same `skillcert run` (same roster, profile, registry URL and shared output
 * folder) and works through the batch's chunks until none is left, so rendering and signing spread over the
 * machines while numbering stays exactly-once in the registry.
 *
 *   batch_queue: one row per chunk of accepted rows (in roster order) and one for the bundle (chunk -1)
 *
 * A chunk is claimed with a session-level advisory lock on (batch, chunk) held by this queue's own connection, and
 * marked done with its outcome (the rows it could not issue, and why) when its certificates are signed and
 * recorded. A machine that dies, however it dies, loses its connection and with it its locks: its chunk goes back
 * to the others, who render whatever it had numbered but not recorded (numbering is idempotent per person and
 * qualification, recording per digest). The server notices a vanished machine through TCP keepalives set on the
 * session (about a minute). The first machine to open the batch lays out the chunks; the others use that layout.
 *
 * When every chunk is done, one machine (whoever takes the bundle's lock first) writes the tables, receipts and
 * filing bundle from the records of all machines; the others wait for it and leave the bundle to it.
 */
import { hostname } from 'node:os';
import pg from 'pg';
import type { SkippedRow } from '../core/summary.js';
import { type Problem, SkillcertError } from '../core/errors.js';
import { registryUrlTarget } from '../registry/index.js';

/** A chunk: `rows` accepted rows from the `first`-th (0-based, roster order). */
export interface Chunk {
  readonly chunk: number;
  readonly first: number;
  readonly rows: number;
}

/** What a chunk's work left for the bundle besides its certificates (which are in the registry). */
export interface ChunkOutcome {
  readonly problems: readonly Problem[];
  readonly skipped: readonly SkippedRow[];
  /** Rows whose certificate the registry already held (issued by an earlier attempt): reported as kept. */
  readonly existing: readonly number[];
}

export interface BundleClaim {
  /** The bundle was already written (by `by`): leave it. */
  readonly done: boolean;
  readonly by?: string;
}

const BUNDLE = -1;
/** How often a machine with nothing to claim looks again while chunks are still being worked elsewhere. */
const POLL_MS = 500;

const TABLE = `
  CREATE TABLE IF NOT EXISTS batch_queue (
    batch_id  TEXT NOT NULL,
    chunk     INTEGER NOT NULL,
    first_row INTEGER NOT NULL,
    rows      INTEGER NOT NULL,
    state     TEXT NOT NULL DEFAULT 'todo' CHECK (state IN ('todo', 'done')),
    done_by   TEXT,
    done_at   TIMESTAMPTZ,
    outcome   JSONB,
    PRIMARY KEY (batch_id, chunk)
  )`;

/** Who this process is, for done_by and messages: host and pid. */
export const worker = (): string => `${hostname()} pid ${process.pid}`;

export class BatchQueue {
  #lost?: Error;
  /** Chunks this machine holds (advisory locks are re-entrant: one it holds must not be claimed again). */
  readonly #held = new Set<number>();
  /** Ends a claim's wait early: a chunk was just completed here. */
  #wake?: () => void;

  private constructor(
    private readonly client: pg.Client,
    private readonly target: string,
    readonly batchId: string,
    private readonly pollMs: number,
  ) {}

  /**
   * Opens the queue of `batchId` in the database at `url`, laying out ⌈accepted / chunkRows⌉ chunks when this is
   * the first machine to open it. `onLost` is called once if the connection (and so every claim) is lost.
   */
  static async open(url: string, batchId: string, opts: { accepted: number; chunkRows: number; pollMs?: number; onLost?: (err: Error) => void }): Promise<BatchQueue> {
    const target = registryUrlTarget(url);
    if (!Number.isInteger(opts.chunkRows) || opts.chunkRows < 1) throw new SkillcertError('E_USAGE', `the chunk size must be a whole number of rows ≥ 1, not ${opts.chunkRows}`, { field: 'chunk-rows' });
    const client = new pg.Client({ connectionString: url, application_name: 'skillcert queue', keepAlive: true, keepAliveInitialDelayMillis: 10_000, connectionTimeoutMillis: 30_000 });
    const queue = new BatchQueue(client, target, batchId, opts.pollMs ?? POLL_MS);
    const lose = (err: Error) => {
      if (queue.#lost) return;
      queue.#lost = new SkillcertError('E_REGISTRY', `lost the connection to the job queue at ${target} (${err.message}): this machine's chunks go back to the others`);
      opts.onLost?.(queue.#lost);
    };
    client.on('error', lose);
    client.on('end', () => lose(new Error('connection closed')));
    try {
      await client.connect();
      // The server drops a vanished machine's session (and its claims) after ~1 minute without keepalive answers.
      await client.query('SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3');
      await client.query('BEGIN');
      await client.query("SELECT pg_advisory_xact_lock(hashtext('skillcert batch_queue'))");
      await client.query(TABLE);
      const chunks = Math.ceil(opts.accepted / opts.chunkRows);
      await client.query(
        `INSERT INTO batch_queue (batch_id, chunk, first_row, rows)
           SELECT $1, c, c * $2, least($2, $3 - c * $2) FROM generate_series(0, $4 - 1) AS c
           UNION ALL SELECT $1, ${BUNDLE}, 0, 0
         ON CONFLICT DO NOTHING`,
        [batchId, opts.chunkRows, opts.accepted, chunks],
      );
      const laid = (await client.query<{ rows: number }>(`SELECT coalesce(sum(rows), 0)::int AS rows FROM batch_queue WHERE batch_id = $1 AND chunk >= 0`, [batchId])).rows[0]!.rows;
      // A run retries the rows an earlier one could not issue, as a rerun does with the SQLite registry: chunks whose
      // outcome holds problems go back to the queue, and the bundle with them. Not while a machine writes the bundle
      // (it holds the bundle's lock); a machine about to write it checks the chunks again first (claimBundle).
      const free = (await client.query<{ free: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext($1), ${BUNDLE}) AS free`, [batchId])).rows[0]!.free;
      if (free) {
        const again = await client.query(
          `UPDATE batch_queue SET state = 'todo', done_by = NULL, done_at = NULL, outcome = NULL
            WHERE batch_id = $1 AND chunk >= 0 AND state = 'done' AND jsonb_array_length(outcome -> 'problems') > 0`,
          [batchId],
        );
        if (again.rowCount) await client.query(`UPDATE batch_queue SET state = 'todo', done_by = NULL, done_at = NULL WHERE batch_id = $1 AND chunk = ${BUNDLE}`, [batchId]);
      }
      await client.query('COMMIT');
      if (laid !== opts.accepted) {
        throw new SkillcertError('E_ROSTER', `the job queue of batch ${batchId} holds ${laid} rows but this roster has ${opts.accepted} accepted rows; every machine must run the same roster and profile`);
      }
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => {});
      if (err instanceof SkillcertError) throw err;
      throw new SkillcertError('E_REGISTRY', `cannot open the job queue at ${target}: ${(err as Error).message}`, { code: (err as { code?: string }).code ?? '' });
    }
    return queue;
  }

  /**
   * The next chunk for this machine, claimed; undefined when every chunk is done. While chunks remain that other
   * machines (or this one, still working them) hold, waits for them: one whose machine dies comes back and is
   * claimed here.
   */
  async claim(): Promise<Chunk | undefined> {
    for (;;) {
      this.#check();
      const todo = await this.#query<Chunk>(
        `SELECT chunk, first_row AS first, rows FROM batch_queue WHERE batch_id = $1 AND chunk >= 0 AND state = 'todo' ORDER BY chunk`,
        [this.batchId],
      );
      if (todo.length === 0) return undefined;
      for (const c of todo) {
        if (this.#held.has(c.chunk) || !(await this.#tryLock(c.chunk))) continue;
        // Done by another machine between the list and the lock (it released the lock after marking it): next.
        const still = await this.#query<{ state: string }>(`SELECT state FROM batch_queue WHERE batch_id = $1 AND chunk = $2`, [this.batchId, c.chunk]);
        if (still[0]?.state === 'todo') return c;
        await this.#unlock(c.chunk);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.pollMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  /** Marks a claimed chunk done with its outcome, and releases it. */
  async complete(chunk: Chunk, outcome: ChunkOutcome): Promise<void> {
    this.#check();
    await this.#query(`UPDATE batch_queue SET state = 'done', done_by = $3, done_at = now(), outcome = $4 WHERE batch_id = $1 AND chunk = $2`, [
      this.batchId, chunk.chunk, worker(), JSON.stringify(outcome),
    ]);
    await this.#unlock(chunk.chunk);
    this.#wake?.();
  }

  /** Releases a claimed chunk without marking it (this machine failed it): another machine may take it. */
  async release(chunk: Chunk): Promise<void> {
    if (!this.#lost) await this.#unlock(chunk.chunk).catch(() => {});
  }

  /** Every chunk's outcome, in chunk order (call once every chunk is done). */
  async outcomes(): Promise<ChunkOutcome[]> {
    const rows = await this.#query<{ outcome: ChunkOutcome | null }>(`SELECT outcome FROM batch_queue WHERE batch_id = $1 AND chunk >= 0 ORDER BY chunk`, [this.batchId]);
    return rows.map((r) => r.outcome ?? { problems: [], skipped: [], existing: [] });
  }

  /**
   * Takes the bundle's lock, waiting while another machine writes the bundle. `done` says whether it has been
   * written already (then leave it; close() releases the lock); otherwise write it and call bundled(). Undefined when
   * chunks went back to the queue meanwhile (a machine that started since retries some): claim them first.
   */
  async claimBundle(): Promise<BundleClaim | undefined> {
    this.#check();
    await this.#query(`SELECT pg_advisory_lock(hashtext($1), ${BUNDLE})`, [this.batchId]);
    this.#held.add(BUNDLE);
    const todo = await this.#query<{ n: number }>(`SELECT count(*)::int AS n FROM batch_queue WHERE batch_id = $1 AND chunk >= 0 AND state = 'todo'`, [this.batchId]);
    if (todo[0]!.n > 0) {
      await this.#unlock(BUNDLE);
      return undefined;
    }
    const row = (await this.#query<{ state: string; done_by: string | null }>(`SELECT state, done_by FROM batch_queue WHERE batch_id = $1 AND chunk = ${BUNDLE}`, [this.batchId]))[0];
    return { done: row?.state === 'done', ...(row?.done_by ? { by: row.done_by } : {}) };
  }

  /** The bundle is written: marks it and releases its lock. */
  async bundled(): Promise<void> {
    await this.complete({ chunk: BUNDLE, first: 0, rows: 0 }, { problems: [], skipped: [], existing: [] });
  }

  /** Closes the connection: every lock this machine still holds is released. */
  async close(): Promise<void> {
    this.client.removeAllListeners('end');
    await this.client.end().catch(() => {});
  }

  #check(): void {
    if (this.#lost) throw this.#lost;
  }

  async #tryLock(chunk: number): Promise<boolean> {
    const ok = (await this.#query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1), $2) AS ok', [this.batchId, chunk]))[0]!.ok;
    if (ok) this.#held.add(chunk);
    return ok;
  }

  async #unlock(chunk: number): Promise<void> {
    this.#held.delete(chunk);
    await this.#query('SELECT pg_advisory_unlock(hashtext($1), $2)', [this.batchId, chunk]);
  }

  async #query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    try {
      return (await this.client.query<R>(sql, params)).rows;
    } catch (err) {
      if (this.#lost) throw this.#lost;
      throw new SkillcertError('E_REGISTRY', `job queue at ${this.target}: ${(err as Error).message}`, { code: (err as { code?: string }).code ?? '' });
    }
  }
}
