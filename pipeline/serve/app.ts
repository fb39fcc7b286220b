/**
 * `skillcert serve`: the verifier's side over HTTP (issue 14) — the bilingual verification page and a small JSON
 * API, on fastify with its own plugins for the hard parts: @fastify/helmet (a strict Content-Security-Policy: no
 * inline script, nothing from another host), @fastify/rate-limit (per client, on the query and the PDF upload),
 * @fastify/static (the page, built into dist/web by esbuild).
 *
 *   GET  /, /v            the page; /v?n=<number>#SC1:<payload> is where a certificate's QR code lands
 *   GET  /trust.json      the organisations' QR signing certificates (trust.ts)
 *   GET  /status/<org>-<purpose>.jwt   the signed status lists, as the registry holds them (contract of issue 14)
 *   POST /api/verify      a PDF as the raw body (Content-Type: application/pdf) → the `skillcert verify` verdict
 *   POST /api/query       {number, name, idNo} → the status, or "no such certificate" (第十六条)
 *
 * Personal data (第十九条): an uploaded PDF is checked in memory and dropped (never written, never logged); the
 * logger logs method, path and status only, never a body, a query string or a header; the query's answer carries
 * the status alone, never the name or the ID number it was asked with.
 */
import { availableParallelism } from 'node:os';
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import { verifierStatus, type Registry, type VerifierStatus } from '../registry/index.js';
import type { FileVerdict } from '../verify/certificate.js';
import { unknown } from '../core/check.js';
import { organisationCertificates, type Trust } from './trust.js';
import { parseStatusFile } from './status.js';
import { verifyPool } from './verify-pool.js';

export interface ServeLimits {
  /** Largest PDF accepted, in bytes (default 4 MiB: a certificate is ~100 KB). */
  readonly pdfBytes: number;
  /** Longest a verification may take before the answer is "indeterminate: took too long" (default 20 s). */
  readonly verifyMs: number;
  /** Verifications running at once (default: the number of cores) and waiting (default 64); beyond: 429, retry. */
  readonly verifyConcurrency: number;
  readonly verifyQueue: number;
  /** Worker threads verifying PDFs (default: the number of cores; 0: in the service's own thread). */
  readonly verifyThreads: number;
  /** Requests per client and minute (default: 10 queries, 120 PDF uploads). */
  readonly queryPerMinute: number;
  readonly verifyPerMinute: number;
}

export const DEFAULT_LIMITS: ServeLimits = {
  pdfBytes: 4 << 20,
  verifyMs: 20_000,
  verifyConcurrency: availableParallelism(),
  verifyQueue: 64,
  verifyThreads: availableParallelism(),
  queryPerMinute: 10,
  verifyPerMinute: 120,
};

export interface AppOptions {
  readonly registry: Registry;
  readonly trust: Trust;
  /** The built page (dist/web). */
  readonly webDir: string;
  readonly limits?: Partial<ServeLimits>;
  /** Where the request log goes (default stdout) and its level (default info; 'silent' for none). */
  readonly log?: { readonly level?: string; readonly stream?: NodeJS.WritableStream };
  /** The verification clock (tests); default: the time of each request. */
  readonly now?: () => Date;
}

const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest();
/** Equal in constant time: the answer's timing does not tell which of the three did not match. */
const same = (a: string, b: string) => timingSafeEqual(sha(a), sha(b));
const normName = (s: string) => s.normalize('NFC').replace(/\s+/g, '');
const normId = (s: string) => s.trim().toUpperCase();
const normNumber = (s: string) => s.trim().toUpperCase();

/** 第十六条: number, name and ID number must all match one certificate; then only its status is told. */
export async function queryCertificate(registry: Registry, q: { number: string; name: string; idNo: string }): Promise<VerifierStatus | undefined> {
  const number = normNumber(q.number);
  if (!/^[0-9A-Z]{10,40}$/.test(number)) return undefined;
  const rec = await registry.getByNumber(number);
  // Compare all three, always, so a wrong name costs the same time as a wrong ID number.
  const name = typeof rec?.printed.name === 'string' ? rec.printed.name : '';
  const nameOk = same(normName(name), normName(q.name));
  const idOk = same(normId(rec?.idNo ?? ''), normId(q.idNo));
  if (!rec || !nameOk || !idOk) return undefined;
  return verifierStatus(await registry.status(number));
}

/** A gate of `size` running and `queue` waiting; enter() is false when both are full. */
function gate(size: number, queue: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return {
    async run<T>(f: () => Promise<T>): Promise<T | undefined> {
      if (running >= size) {
        if (waiting.length >= queue) return undefined;
        await new Promise<void>((r) => waiting.push(r));
      }
      running++;
      try {
        return await f();
      } finally {
        running--;
        waiting.shift()?.();
      }
    },
  };
}

const CHECK_SCHEMA = { type: 'object', properties: { id: { type: 'string' }, ok: { type: ['boolean', 'null'] }, message: { type: 'string' } }, required: ['id', 'ok', 'message'] } as const;
const VERDICT_SCHEMA = {
  type: 'object',
  properties: { verdict: { type: 'string' }, number: { type: 'string' }, status: { type: 'string' }, checks: { type: 'array', items: CHECK_SCHEMA } },
  required: ['verdict', 'checks'],
} as const;
const ERROR_SCHEMA = { type: 'object', properties: { error: { type: 'string' }, reason: { type: 'string' } }, required: ['error', 'reason'] } as const;

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const app = Fastify({
    logger: {
      level: opts.log?.level ?? 'info',
      ...(opts.log?.stream ? { stream: opts.log.stream } : {}),
      // Method, path (no query string) and status only: no body, no header, no ID number ever reaches a log line.
      serializers: {
        req: (req: { method: string; url: string }) => ({ method: req.method, path: req.url.split('?')[0] }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    },
    bodyLimit: 16 << 10,
    // A slow client cannot hold a connection: the whole request within 30 s.
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    trustProxy: false,
  });

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'blob:', 'data:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
      },
    },
    // The QR landing's fragment never leaves the browser; the path and number need not either (no Referer).
    referrerPolicy: { policy: 'no-referrer' },
  });
  await app.register(rateLimit, { global: false });

  // Every error is an answer with a reason: a 4xx for what the client sent, never a stack trace.
  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    const reason =
      err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `the upload is larger than the limit of ${limits.pdfBytes} bytes` : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'send the PDF as the body with Content-Type: application/pdf' : status < 500 ? err.message : 'internal error';
    if (status >= 500) app.log.error({ code: err.code }, 'internal error');
    return reply.code(status).send({ error: status < 500 ? 'bad request' : 'internal error', reason });
  });

  app.addContentTypeParser('application/pdf', { parseAs: 'buffer', bodyLimit: limits.pdfBytes }, (_req, body, done) => done(null, body));

  await app.register(fastifyStatic, { root: opts.webDir, prefix: '/', index: ['index.html'], cacheControl: true, maxAge: 60_000 });
  app.get('/v', { schema: { querystring: { type: 'object', properties: { n: { type: 'string', maxLength: 64 } } } } }, (_req, reply) => reply.sendFile('index.html'));

  // What the page can do here: the static copy of publish-verifier has no service behind it (site.json false).
  app.get('/site.json', (_req, reply) => reply.header('cache-control', 'no-cache').send({ service: true }));
  const trustJson = JSON.stringify(opts.trust.list);
  app.get('/trust.json', (_req, reply) => reply.type('application/json').header('cache-control', 'max-age=300').send(trustJson));

  // The signed status lists, whole (herd privacy: nobody asks about one certificate); short cache, they change.
  app.get('/status/:file', { schema: { params: { type: 'object', properties: { file: { type: 'string', maxLength: 40 } }, required: ['file'] } } }, async (req, reply) => {
    const f = parseStatusFile((req.params as { file: string }).file);
    const jws = f ? await opts.registry.statusList(f.orgCode, f.purpose) : undefined;
    if (!jws) return reply.code(404).send({ error: 'not found', reason: 'no such status list' });
    return reply.type('application/jwt').header('cache-control', 'max-age=60').send(jws);
  });

  const orgCertificates = organisationCertificates(opts.trust.list);
  const verifying = gate(limits.verifyConcurrency, limits.verifyQueue);
  const pool = verifyPool({ threads: limits.verifyThreads, trustAnchors: opts.trust.anchors, orgCertificates, registry: opts.registry });
  app.addHook('onClose', () => pool.close());

  app.post(
    '/api/verify',
    {
      config: { rateLimit: { max: limits.verifyPerMinute, timeWindow: '1 minute' } },
      schema: { response: { 200: VERDICT_SCHEMA, '4xx': ERROR_SCHEMA } },
    },
    async (req, reply) => {
      const body = req.body;
      if (!Buffer.isBuffer(body)) return reply.code(415).send({ error: 'unsupported media type', reason: 'send the PDF as the body with Content-Type: application/pdf' });
      // The clock is the verifier's own, as in `skillcert verify` (a pinned one in tests).
      const at = opts.now?.();
      const answer = await verifying.run(() => withTimeout(pool.verify(body, at), limits.verifyMs));
      if (answer === undefined) return reply.code(429).header('retry-after', '5').send({ error: 'busy', reason: 'too many verifications at once; retry in a few seconds' });
      return publicVerdict(answer);
    },
  );

  app.post(
    '/api/query',
    {
      config: { rateLimit: { max: limits.queryPerMinute, timeWindow: '1 minute' } },
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['number', 'name', 'idNo'],
          properties: { number: { type: 'string', minLength: 1, maxLength: 64 }, name: { type: 'string', minLength: 1, maxLength: 64 }, idNo: { type: 'string', minLength: 1, maxLength: 64 } },
        },
        response: { 200: { type: 'object', properties: { found: { type: 'boolean' }, status: { type: 'string' } }, required: ['found'] }, '4xx': ERROR_SCHEMA },
      },
      // A schema failure must not echo the value it rejected (it may be the ID number).
      attachValidation: true,
    },
    async (req, reply) => {
      if (req.validationError) return reply.code(400).send({ error: 'bad request', reason: 'give the certificate number, the holder name and the ID number, all three (第十六条)' });
      const status = await queryCertificate(opts.registry, req.body as { number: string; name: string; idNo: string });
      return status ? { found: true, status } : { found: false };
    },
  );

  return app;
}

/** Only what the page shows: the verdict, number, status and checks; not the server-side label. */
function publicVerdict(v: FileVerdict): { verdict: string; number?: string; status?: string; checks: FileVerdict['checks'] } {
  return { verdict: v.verdict, ...(v.number ? { number: v.number } : {}), ...(v.status ? { status: v.status } : {}), checks: v.checks.map((c) => ({ id: c.id, ok: c.ok, message: c.message })) };
}

async function withTimeout(p: Promise<FileVerdict>, ms: number): Promise<FileVerdict> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<FileVerdict>((resolve) => {
    timer = setTimeout(() => resolve({ file: 'upload', verdict: 'indeterminate', checks: [unknown('file.time', `the verification did not finish within ${ms / 1000} s; try again later`)] }), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
