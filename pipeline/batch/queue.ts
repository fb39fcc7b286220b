/**
 * The job queue of a batch shared by several machines (SPEC §9): one PostgreSQL database holds the registry and
 * this queue; every machine runs the same `skillcert run` (same roster, profile, registry URL and shared output
 * folder) and works through the batch's chunks until none is left, so rendering and signing spread over the
 * machines while numbering stays exactly-once in the registry.
 *
 * A thin adapter over pg-boss 10 (schema `pgboss`, which pg-boss creates and migrates itself). Each batch has two
 * pg-boss queues:
 *
 *   skillcert.<batch id>.chunks   one job per chunk of accepted rows (roster order), data {chunk, first, rows, round}
 *   skillcert.<batch id>.bundle   one job per round: the batch's layout {accepted, chunkRows, chunks} and which round
 *                                 of each chunk's job is current; completed with {by} once the bundle is written
 *
 * Job ids are derived from (batch, chunk, round) and (batch, round), so machines that open the batch at the same
 * moment send the same jobs and pg-boss keeps one of each (its insert is ON CONFLICT DO NOTHING): the first machine
 * lays the batch out, the others find its layout and follow it (or stop with E_ROSTER when their roster differs).
 *
 * A claim is pg-boss's fetch (SKIP LOCKED): the job becomes active with a lease (its expire_in). A machine that
 * dies, however it dies, stops completing: pg-boss's supervisor (maintenance every few seconds, from whichever
 * machine is running) fails the job by timeout once the lease is over, which puts it back for the others (a retry;
 * numbering is idempotent per person and qualification, recording per digest, so they render whatever the dead
 * machine had numbered but not recorded). A live machine keeps to its lease too: when a chunk it holds outlives its
 * lease, it stops (onLost) before the supervisor can hand the chunk to another machine.
 *
 * The bundle is a job of its own: once every chunk is completed, the machine whose fetch gets it writes the tables,
 * receipts and filing bundle; the others wait until it is completed and leave the bundle to it. A run of a batch
 * whose bundle was written starts a new round: the chunks whose outcome held problems get new jobs, and the bundle
 * a new job after them.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import PgBoss from 'pg-boss';
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

export interface QueueOptions {
  /** The roster's accepted rows: the first machine lays them out; the others must have as many. */
  readonly accepted: number;
  readonly chunkRows: number;
  /** How often a machine with nothing to claim looks again while chunks are still being worked elsewhere. */
  readonly pollMs?: number;
  /**
   * Seconds a claimed chunk is this machine's (default leaseFor(chunkRows)): when a machine dies, its chunk goes back
   * to the others this long after it was claimed (plus up to one supervision interval). The jobs keep the lease
   * they were sent with, so the machine that lays a batch (or a rerun's round) out decides it.
   */
  readonly leaseSeconds?: number;
  /** Called once when this machine's claims are lost: a lease outlived, or the database no longer answers. */
  readonly onLost?: (err: Error) => void;
}

/** The chunk number of the bundle, for the claims this machine holds. */
const BUNDLE = -1;
const POLL_MS = 500;
/** Times a chunk (or the bundle) is handed out again after a machine failed it or died holding it; a rerun resets it. */
const RETRIES = 3;
/**
 * The default lease: half a second a row, at least a minute — a healthy chunk runs at 30-150 certificates/s, and its
 * lease also covers the rows of the chunk before it still in the workers when it is claimed.
 */
export const leaseFor = (chunkRows: number): number => Math.max(60, Math.ceil(chunkRows / 2));
/** The bundle's lease: at least the chunks', and 50 rows a second (it writes ~1,000 a second: 20,000 rows in ~18 s). */
const bundleLeaseFor = (accepted: number, lease: number): number => Math.min(23 * 3600, Math.max(lease, Math.ceil(accepted / 50)));
/** Supervision (pg-boss maintenance: expiry first) a tenth of the lease, 1-30 s: a dead machine's chunk returns promptly. */
const superviseFor = (lease: number): number => Math.min(30, Math.max(1, Math.floor(lease / 10)));
/** A claim is given up locally this much before its lease ends, so that no other machine holds it meanwhile. */
const marginMs = (leaseSeconds: number): number => Math.max(1000, leaseSeconds * 50);

/** Who this process is, for the bundle's writer and messages: host and pid. */
export const worker = (): string => `${hostname()} pid ${process.pid}`;

/** The pg-boss queues of a batch (for tests and operators reading the `pgboss` schema). */
export const queueNames = (batchId: string): { chunks: string; bundle: string } => ({
  chunks: `skillcert.${batchId}.chunks`,
  bundle: `skillcert.${batchId}.bundle`,
});

/** A UUID (RFC 9562 version 8: name-based, SHA-256) for a job that every machine must name alike. */
function jobId(...parts: (string | number)[]): string {
  const b = createHash('sha256').update(['skillcert job', ...parts].join('\n')).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A bundle job's data: the layout, and the round of each chunk's current job. */
interface Round {
  readonly accepted: number;
  readonly chunkRows: number;
  readonly round: number;
  /** rounds[c]: the round of chunk c's current job. */
  readonly rounds: readonly number[];
}
interface ChunkData extends Chunk {
  readonly round: number;
}
interface Held {
  readonly id: string;
  readonly startedOn: number;
  readonly timer: NodeJS.Timeout;
}
type JobState = PgBoss.JobWithMetadata['state'];
/** pg-boss's complete() and fail() answer with counts (its types say void). */
interface Affected {
  readonly affected: number;
}

export class BatchQueue {
  #lost?: SkillcertError;
  /** Jobs this machine holds: by chunk number, the bundle as BUNDLE. */
  readonly #held = new Map<number, Held>();
  /** Ends a claim's wait early: a chunk was just completed here. */
  #wake?: () => void;

  private constructor(
    private readonly boss: PgBoss,
    private readonly target: string,
    readonly batchId: string,
    private readonly names: { chunks: string; bundle: string },
    /** The current round: its layout and which job of each chunk counts. */
    private readonly current: Round,
    private readonly pollMs: number,
    private readonly onLost?: (err: Error) => void,
  ) {}

  /**
   * Opens the queue of `batchId` in the database at `url`, laying out ⌈accepted / chunkRows⌉ chunks when this is
   * the first machine to open it, and starting a new round when the batch's bundle was written but some chunks' rows
   * could not be issued. `onLost` is called once if this machine's claims are lost.
   */
  static async open(url: string, batchId: string, opts: QueueOptions): Promise<BatchQueue> {
    const target = registryUrlTarget(url);
    if (!Number.isInteger(opts.chunkRows) || opts.chunkRows < 1) throw new SkillcertError('E_USAGE', `the chunk size must be a whole number of rows ≥ 1, not ${opts.chunkRows}`, { field: 'chunk-rows' });
    const lease = opts.leaseSeconds ?? leaseFor(opts.chunkRows);
    if (!Number.isInteger(lease) || lease < 5 || lease > 23 * 3600) throw new SkillcertError('E_USAGE', `the lease must be a whole number of seconds from 5 to ${23 * 3600}, not ${lease}`, { field: 'lease' });
    const boss = new PgBoss({
      connectionString: url,
      application_name: `skillcert queue ${worker()}`.slice(0, 63),
      max: 4,
      // No cron here, and no archive rounds that would drop a batch's outcomes before a rerun comes: completed jobs
      // move to pgboss.archive after a day (getJobById reads both) and leave it after 90 days.
      schedule: false,
      supervise: true,
      maintenanceIntervalSeconds: superviseFor(lease),
      archiveCompletedAfterSeconds: 24 * 3600,
      deleteAfterDays: 90,
      // (handed to pg's Pool with the rest: the first connection must come within 30 s, and a vanished server is
      // noticed by TCP keepalives rather than never)
      ...({ connectionTimeoutMillis: 30_000, keepAlive: true } as object),
    });
    // pg's pool reports a connection that breaks while idle as an event; without a listener it would end the process.
    // A broken connection is replaced on the next query, and the claims live in the database (their leases), so it
    // is the next query that says whether the queue is gone.
    boss.on('error', () => {});
    const names = queueNames(batchId);
    try {
      await boss.start();
      for (const name of [names.chunks, names.bundle]) await boss.createQueue(name, { name, policy: 'standard', retryLimit: RETRIES, retryDelay: 0 });
      const round = await BatchQueue.#layOut(boss, names, batchId, opts.accepted, opts.chunkRows, lease);
      return new BatchQueue(boss, target, batchId, names, round, opts.pollMs ?? POLL_MS, opts.onLost);
    } catch (err) {
      await boss.stop({ graceful: false }).catch(() => {});
      if (err instanceof SkillcertError) throw err;
      throw new SkillcertError('E_REGISTRY', `cannot open the job queue at ${target}: ${(err as Error).message}`, { code: (err as { code?: string }).code ?? '' });
    }
  }

  /** Finds (or sends) the batch's current round, refusing a roster that is not the batch's; makes sure its chunk jobs exist. */
  static async #layOut(boss: PgBoss, names: { chunks: string; bundle: string }, batchId: string, accepted: number, chunkRows: number, lease: number): Promise<Round> {
    const bundleJob = (r: number) => boss.getJobById<Round>(names.bundle, jobId(batchId, 'bundle', r), { includeArchive: true });
    let latest: PgBoss.JobWithMetadata<Round> | null = null;
    for (let r = 0; ; r++) {
      const job = await bundleJob(r);
      if (!job) break;
      latest = job;
    }
    // Sends round `data` unless a machine did first, and returns the one pg-boss kept.
    const send = async (data: Round) => {
      await boss.send(names.bundle, data, { id: jobId(batchId, 'bundle', data.round), priority: data.round, expireInSeconds: bundleLeaseFor(data.accepted, lease), retryLimit: RETRIES, retryDelay: 0 });
      return (await bundleJob(data.round))!;
    };
    latest ??= await send({ accepted, chunkRows, round: 0, rounds: new Array<number>(Math.ceil(accepted / chunkRows)).fill(0) });
    const laid = latest.data;
    if (laid.accepted !== accepted) {
      throw new SkillcertError('E_ROSTER', `the job queue of batch ${batchId} holds ${laid.accepted} rows but this roster has ${accepted} accepted rows; every machine must run the same roster and profile`);
    }
    const chunkJob = (c: number, round: Round) => jobId(batchId, 'chunk', c, round.rounds[c]!);
    const readChunks = (round: Round) => Promise.all(round.rounds.map((_, c) => boss.getJobById<ChunkData>(names.chunks, chunkJob(c, round), { includeArchive: true })));
    let jobs = await readChunks(laid);
    let current = laid;
    if (latest.state === 'completed') {
      // The bundle was written. A run retries the rows an earlier one could not issue, as a rerun does with the
      // SQLite registry: the chunks whose outcome holds problems get a job of the next round. (Every chunk of a
      // written round is completed and stays so: machines opening it together compute the same next round.)
      const again = jobs.map((j, c) => ((j?.output as { outcome?: ChunkOutcome } | undefined)?.outcome?.problems.length ?? 0) > 0 ? c : -1).filter((c) => c >= 0);
      if (again.length > 0) {
        const rounds = laid.rounds.map((r, c) => (again.includes(c) ? laid.round + 1 : r));
        current = (await send({ ...laid, round: laid.round + 1, rounds })).data;
        jobs = await readChunks(current);
      }
    } else if (latest.state === 'failed') {
      // Machines failed the bundle RETRIES + 1 times: this run tries again.
      await boss.retry(names.bundle, latest.id);
    }
    const missing = jobs.map((j, c) => (j ? -1 : c)).filter((c) => c >= 0);
    if (missing.length > 0) {
      await boss.insert(missing.map((c) => ({
        id: chunkJob(c, current), name: names.chunks, priority: current.rounds.length - c, expireInSeconds: lease, retryLimit: RETRIES, retryDelay: 0,
        data: { chunk: c, first: c * current.chunkRows, rows: Math.min(current.chunkRows, current.accepted - c * current.chunkRows), round: current.rounds[c]! } satisfies ChunkData,
      })));
    }
    const failed = jobs.filter((j) => j?.state === 'failed').map((j) => j!.id);
    if (failed.length > 0) await boss.retry(names.chunks, failed);
    return current;
  }

  /**
   * The next chunk for this machine, claimed; undefined when every chunk is done. While chunks remain that other
   * machines (or this one, still working them) hold, waits for them: one whose machine dies comes back when its
   * lease ends and is claimed here.
   */
  async claim(): Promise<Chunk | undefined> {
    for (;;) {
      this.#check();
      // (pg-boss's fetch answers [] when the query fails: the count after it is what reports a lost database)
      const [job] = await this.#call(() => this.boss.fetch<ChunkData>(this.names.chunks, { includeMetadata: true }));
      if (job) {
        const { chunk, first, rows } = job.data;
        this.#hold(chunk, job);
        return { chunk, first, rows };
      }
      if ((await this.#unfinished()) === 0) {
        const states = await this.#chunkStates();
        const failed = states.map((s, c) => (s === 'failed' ? c : -1)).filter((c) => c >= 0);
        if (failed.length > 0) {
          throw new SkillcertError('E_REGISTRY', `chunk(s) ${failed.join(', ')} of batch ${this.batchId} failed on ${RETRIES + 1} attempts (machines that stopped or died while working them); run the batch again to retry them`);
        }
        return undefined;
      }
      await this.#sleep();
    }
  }

  /** Marks a claimed chunk done with its outcome, and releases it. */
  async complete(chunk: Chunk, outcome: ChunkOutcome): Promise<void> {
    await this.#finish(this.names.chunks, chunk.chunk, { outcome, by: worker() });
    this.#wake?.();
  }

  /** Releases a claimed chunk without marking it (this machine failed it): another machine may take it. */
  async release(chunk: Chunk): Promise<void> {
    await this.#giveBack(this.names.chunks, chunk.chunk, 'released');
  }

  /** Every chunk's outcome, in chunk order (call once every chunk is done). */
  async outcomes(): Promise<ChunkOutcome[]> {
    const jobs = await this.#call(() => this.#chunkJobs());
    return jobs.map((j) => (j?.output as { outcome?: ChunkOutcome } | undefined)?.outcome ?? { problems: [], skipped: [], existing: [] });
  }

  /**
   * Claims the bundle, waiting while another machine writes it. `done` says whether it has been written already
   * (then leave it); otherwise write it and call bundled(). Undefined when chunks are not all done (a machine that
   * started since retries some that failed): claim them first.
   */
  async claimBundle(): Promise<BundleClaim | undefined> {
    const id = jobId(this.batchId, 'bundle', this.current.round);
    for (;;) {
      this.#check();
      const bundle = await this.#call(() => this.boss.getJobById(this.names.bundle, id, { includeArchive: true }));
      if (bundle?.state === 'completed') {
        const by = (bundle.output as { by?: string } | null)?.by;
        return { done: true, ...(by ? { by } : {}) };
      }
      if (!bundle) throw new SkillcertError('E_REGISTRY', `the bundle's job of batch ${this.batchId} is gone from the job queue (schema pgboss): run the batch again`);
      if (bundle.state === 'failed') {
        throw new SkillcertError('E_REGISTRY', `the bundle of batch ${this.batchId} failed on ${RETRIES + 1} attempts (machines that stopped or died while writing it); run the batch again to write it`);
      }
      if ((await this.#unfinished()) > 0) return undefined;
      const [job] = await this.#call(() => this.boss.fetch(this.names.bundle, { includeMetadata: true }));
      if (job) {
        this.#hold(BUNDLE, job);
        return { done: false };
      }
      // Another machine writes it: wait until it is done, or until its lease ends and pg-boss hands it out again.
      await this.#sleep();
    }
  }

  /** The bundle is written: marks it with who wrote it, and releases it. */
  async bundled(): Promise<void> {
    await this.#finish(this.names.bundle, BUNDLE, { by: worker() });
  }

  /** Gives back whatever this machine still holds (so the others take it now, not when its lease ends) and closes. */
  async close(): Promise<void> {
    for (const chunk of [...this.#held.keys()]) await this.#giveBack(chunk === BUNDLE ? this.names.bundle : this.names.chunks, chunk, 'closed');
    await this.boss.stop({ graceful: false }).catch(() => {});
  }

  #check(): void {
    if (this.#lost) throw this.#lost;
  }

  #lose(err: SkillcertError): SkillcertError {
    if (!this.#lost) {
      this.#lost = err;
      for (const h of this.#held.values()) clearTimeout(h.timer);
      this.onLost?.(err);
    }
    return this.#lost;
  }

  #hold(chunk: number, job: PgBoss.JobWithMetadata<unknown>): void {
    const lease = Number(job.expireInSeconds); // (PostgreSQL's numeric: a string)
    const timer = setTimeout(() => {
      const what = chunk === BUNDLE ? 'the bundle' : `chunk ${chunk}`;
      this.#lose(new SkillcertError('E_REGISTRY', `${what} of batch ${this.batchId} outlived its lease of ${lease} s: it goes back to the other machines; give a longer --lease (or smaller --chunk-rows) when a healthy chunk takes this long`));
    }, Math.max(0, lease * 1000 - marginMs(lease)));
    timer.unref();
    this.#held.set(chunk, { id: job.id, startedOn: new Date(job.startedOn).getTime(), timer });
  }

  /** Completes a job this machine holds — if it still holds it: a lease that ran out (a paused machine) is a lost claim. */
  async #finish(queue: string, chunk: number, output: object): Promise<void> {
    this.#check();
    const h = this.#held.get(chunk);
    if (!h) throw new SkillcertError('E_INTERNAL', `chunk ${chunk} of batch ${this.batchId} is not held by this machine`);
    const job = await this.#call(() => this.boss.getJobById(queue, h.id));
    const ours = job?.state === 'active' && new Date(job.startedOn).getTime() === h.startedOn;
    const done = ours && (await this.#call(() => this.boss.complete(queue, h.id, output) as Promise<unknown> as Promise<Affected>)).affected === 1;
    clearTimeout(h.timer);
    this.#held.delete(chunk);
    if (!done) {
      const what = chunk === BUNDLE ? 'the bundle' : `chunk ${chunk}`;
      throw this.#lose(new SkillcertError('E_REGISTRY', `${what} of batch ${this.batchId} was no longer this machine's when it was done: its lease ran out and it went back to the other machines`));
    }
  }

  async #giveBack(queue: string, chunk: number, why: string): Promise<void> {
    const h = this.#held.get(chunk);
    if (!h) return;
    clearTimeout(h.timer);
    this.#held.delete(chunk);
    if (!this.#lost) await this.boss.fail(queue, h.id, { message: `${why} by ${worker()}` }).catch(() => {});
  }

  /** Chunks created, waiting for a retry or claimed: not done. */
  async #unfinished(): Promise<number> {
    return this.#call(async () => (await this.boss.getQueueSize(this.names.chunks, { before: 'completed' })) ?? 0);
  }

  #chunkJobs(): Promise<(PgBoss.JobWithMetadata<ChunkData> | null)[]> {
    return Promise.all(this.current.rounds.map((r, c) => this.boss.getJobById<ChunkData>(this.names.chunks, jobId(this.batchId, 'chunk', c, r), { includeArchive: true })));
  }

  async #chunkStates(): Promise<(JobState | undefined)[]> {
    return (await this.#call(() => this.#chunkJobs())).map((j) => j?.state);
  }

  async #sleep(): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.pollMs);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wake = undefined;
  }

  /** One pg-boss call; a failure of the database makes this machine's claims lost. */
  async #call<R>(op: () => Promise<R>): Promise<R> {
    try {
      return await op();
    } catch (err) {
      if (err instanceof SkillcertError) throw err;
      // (after open, what fails is the server or the way to it: a query error shows at open already)
      throw this.#lose(new SkillcertError('E_REGISTRY', `lost the connection to the job queue at ${this.target} (${(err as Error).message}): this machine's chunks go back to the others when their lease ends`, { code: (err as { code?: string }).code ?? '' }));
    }
  }
}
