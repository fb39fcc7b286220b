#!/usr/bin/env node
/**
 * The skillcert command. Each subcommand parses its options, builds the context (clock, logger, operator)
 * and calls one orchestrating function; errors follow one contract: a SkillcertError prints
 * `skillcert: E_CODE: message` (or, with --json, `{ ok: false, code, exitCode, message, details }`) and exits non-zero.
 */
import { Command, Option } from 'commander';
import { makeContext } from '../core/context.js';
import { SkillcertError } from '../core/errors.js';
import { makeLogger } from '../core/log.js';
import type { Correction, StatusChangeResult } from '../after/commands.js';
import type { PublishedList } from '../status/index.js';
import { progressFor } from './progress.js';
import { readFileSync } from 'node:fs';
import type { FileVerdict } from '../verify/certificate.js';
import { loadProfile, profilePath } from '../core/profile.js';

/**
 * A command's module, loaded when the command runs: each room pulls in its own libraries (Chromium's driver, pdf-lib,
 * exceljs, sharp, pkijs…), ~1.3 s of CPU for all of them, which `skillcert --help` or `verify` need not pay.
 */
type Fn = (...args: never[]) => unknown;
function lazy<M, K extends keyof M>(load: () => Promise<M>, key: K): M[K] extends Fn ? (...args: Parameters<M[K]>) => Promise<Awaited<ReturnType<M[K]>>> : never {
  return (async (...args: unknown[]) => ((await load())[key] as (...a: unknown[]) => unknown)(...args)) as never;
}
const after = () => import('../after/commands.js');
const audit = lazy(after, 'audit');
const correct = lazy(after, 'correct');
const forms = lazy(after, 'forms');
const liftSuspension = lazy(after, 'liftSuspension');
const reissue = lazy(after, 'reissue');
const resume = lazy(after, 'resume');
const revoke = lazy(after, 'revoke');
const statusLists = lazy(after, 'statusLists');
const suspend = lazy(after, 'suspend');
const preview = lazy(() => import('../certificate/preview.js'), 'preview');
const extend = lazy(() => import('../after/extend.js'), 'extend');
const runBatch = lazy(() => import('../batch/run.js'), 'runBatch');
const validateOnly = lazy(() => import('../batch/validate-only.js'), 'validateOnly');
const summarise = lazy(() => import('../validate/index.js'), 'summarise');
const verifyBundle = lazy(() => import('../verify/bundle.js'), 'verifyBundle');
const verifyFiles = lazy(() => import('../verify/certificate.js'), 'verifyFiles');
const verifyQr = lazy(() => import('../verify/certificate.js'), 'verifyQr');
const loadStatusLists = lazy(() => import('../verify/status-list.js'), 'loadStatusLists');

const EXIT: Record<string, number> = { E_USAGE: 2 };

function fail(err: unknown, json: boolean): never {
  const e = err instanceof SkillcertError ? err : new SkillcertError('E_IO', (err as Error)?.message ?? String(err), {}, { cause: err });
  const exitCode = EXIT[e.code] ?? 1;
  if (json) process.stdout.write(`${JSON.stringify({ ok: false, code: e.code, exitCode, message: e.message, details: e.details }, null, 2)}\n`);
  else process.stderr.write(`skillcert: ${e.code}: ${e.message}\n`);
  if (!(err instanceof SkillcertError) && process.env.SKILLCERT_DEBUG) console.error(err);
  process.exit(exitCode);
}

function context(opts: { quiet?: boolean; operator?: string }) {
  return makeContext({ log: makeLogger(opts.quiet ? 'warn' : 'info'), ...(opts.operator ? { operator: opts.operator } : {}) });
}

const program = new Command('skillcert')
  .description('Vocational skill-level certificates (职业技能等级证书): roster in, signed bilingual A4 PDFs out')
  .version('0.1.0')
  .showHelpAfterError();

program
  .command('render')
  .description('render one certificate from a JSON record and a profile to PDF and a PNG preview (for designers)')
  .requiredOption('--record <file>', 'record JSON (name, idType, idNo, occupation, job, level, issueDate, number, stockSerial, photo?)')
  .requiredOption('--profile <file>', 'organisation or competition profile JSON')
  .option('--out <dir>', 'output folder', 'output/preview')
  .addOption(new Option('--dpi <n>', 'PNG resolution').argParser(Number).default(100))
  .option('--json', 'print the result as JSON')
  .action(async (opts: { record: string; profile: string; out: string; dpi: number; json?: boolean }) => {
    try {
      const r = await preview(context({ quiet: true }), opts);
      if (opts.json) process.stdout.write(`${JSON.stringify({ ok: true, ...r }, null, 2)}\n`);
      else {
        process.stdout.write(`${r.style}: ${r.pdf}\npreview: ${r.png}\n`);
        for (const f of r.fonts) process.stdout.write(`font ${f.role} (${f.reference}): ${f.faces[0]!.file}${f.fallback ? '  [open fallback]' : ''}\n`);
      }
    } catch (err) {
      fail(err, Boolean(opts.json));
    }
  });

program
  .command('validate')
  .description('read and validate a roster: print a summary and write the rejects workbook (numbers and renders nothing)')
  .requiredOption('--roster <file>', 'roster workbook (.xlsx) or .csv')
  .requiredOption('--profile <file>', 'organisation or competition profile JSON')
  .option('--rejects <file>', 'rejects workbook to write (default output/<roster>-rejects.xlsx)')
  .option('--issue-date <YYYY-MM-DD>', '发证日期 for rosters without that column')
  .option('--sheet <name>', 'the worksheet that holds the roster (when several visible sheets have a header, or to read a hidden one)')
  .option('--json', 'print the summary as JSON')
  .action(async (opts: { roster: string; profile: string; rejects?: string; issueDate?: string; sheet?: string; json?: boolean }) => {
    try {
      const r = await validateOnly(context({ quiet: true }), opts);
      const s = r.summary;
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ ok: true, rowsRead: s.rowsRead, accepted: s.accepted, rejectedRows: s.rejectedRows, rejectedByRule: s.rejectedByRule, skipped: s.skipped, problems: s.problems, rejects: r.rejects }, null, 2)}\n`);
      } else process.stdout.write(`${await summarise(s)}\nrejects workbook: ${r.rejects}\n`);
    } catch (err) {
      fail(err, Boolean(opts.json));
    }
  });

program
  .command('run')
  .description('the batch: validate, number, render, stamp, sign and bundle a roster into one batch folder')
  .requiredOption('--roster <file>', 'roster workbook (.xlsx) or .csv')
  .requiredOption('--profile <file>', 'organisation or competition profile JSON')
  .option('--out <dir>', 'output root (the batch folder goes inside)', 'output')
  .option('--registry <path or URL>', 'registry: a SQLite file (default <out>/registry.sqlite) or postgres://user@host:port/db (password in PGPASSWORD or ~/.pgpass)')
  .option('--photos <dir>', "the roster's photo folder (default <roster folder>/photos)")
  .option('--issue-date <YYYY-MM-DD>', '发证日期 for rosters without that column')
  .option('--sheet <name>', 'the worksheet that holds the roster (when several visible sheets have a header, or to read a hidden one)')
  .addOption(new Option('--workers <n>', 'worker threads (default: one per core but one; 0 = in this thread)').argParser(Number))
  .addOption(new Option('--chunk-rows <n>', 'with a postgres:// registry: rows per chunk of the job queue the machines share (default 500)').argParser(Number))
  .addOption(new Option('--lease <seconds>', 'with a postgres:// registry: how long a claimed chunk is this machine\'s; a dead machine\'s chunk goes back to the others after it (default: half a second a row, at least 60)').argParser(Number))
  .option('--filing-material', 'also write the certificate-style filing material of 附件3')
  .option('--operator <name>', 'who runs it, for the audit trail (default SKILLCERT_OPERATOR or USER)')
  .option('--quiet', 'no progress output')
  .option('--json', 'print the result as JSON')
  .action(async (opts: { roster: string; profile: string; out: string; registry?: string; photos?: string; issueDate?: string; sheet?: string; workers?: number; chunkRows?: number; lease?: number; filingMaterial?: boolean; operator?: string; quiet?: boolean; json?: boolean }) => {
    try {
      const ctx = context(opts);
      const r = await runBatch(ctx, { ...opts, progress: progressFor(ctx.log, opts.quiet || opts.json) });
      const s = r.summary;
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ ok: true, batchId: r.batchId, dir: r.dir, registry: r.registry, archive: r.outputs?.archive, issued: s.issued.length, rejected: s.rejected.length, skipped: s.skipped.length, files: r.outputs?.files ?? [], warnings: r.outputs?.warnings ?? [], ...(r.chunks !== undefined && { chunks: r.chunks }), ...(r.bundledBy && { bundledBy: r.bundledBy }) }, null, 2)}\n`);
      } else {
        process.stdout.write(`batch ${r.batchId}: ${s.issued.length} issued, ${new Set(s.rejected.map((p) => p.rowNo)).size} rows rejected, ${s.skipped.length} skipped (${s.rowsRead} rows)\n`);
        process.stdout.write(`  folder:   ${r.dir}\n  report:   ${r.dir}/report.txt\n  rejects:  ${r.dir}/rejects.xlsx\n  bundle:   ${r.bundledBy ? `written by ${r.bundledBy}` : (r.outputs?.archive ?? '(none)')}\n  registry: ${r.registry}\n`);
        if (r.chunks !== undefined) process.stdout.write(`  queue:    this machine worked ${r.chunks} chunk(s) of the batch\n`);
        for (const w of r.outputs?.warnings ?? []) process.stdout.write(`  warning [${w.kind}] due ${w.due}: ${w.message}\n`);
      }
    } catch (err) {
      fail(err, Boolean(opts.json));
    }
  });

program
  .command('verify-bundle')
  .description('check a filing bundle: the manifest signature and chain, every digest, no missing or extra file')
  .argument('<archive>', 'the filing bundle (.zip)')
  .requiredOption('--anchor <pem...>', 'trust anchor certificate(s) (PEM)')
  .option('--json', 'print the checks as JSON')
  .action(async (archive: string, opts: { anchor: string[]; json?: boolean }) => {
    try {
      const r = await verifyBundle(archive, opts.anchor.map((f) => readFileSync(f, 'utf8')));
      if (opts.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else {
        for (const c of r.checks) process.stdout.write(`${c.ok ? "ok  " : "FAIL"} ${c.id}: ${c.message}${c.files?.length ? ` (${c.files.join(", ")})` : ""}\n`);
        process.stdout.write(`${r.ok ? 'VALID' : 'INVALID'}: ${archive}\n`);
      }
      process.exitCode = r.ok ? 0 : 1;
    } catch (err) {
      fail(err, Boolean(opts.json));
    }
  });

function anchorsFrom(opts: { anchor?: string[]; profile?: string }): string[] {
  const files = [...(opts.anchor ?? [])];
  if (opts.profile) {
    const p = loadProfile(opts.profile);
    files.push(...p.signer.trustAnchors.map((a) => profilePath(p, a)));
  }
  if (files.length === 0) throw new SkillcertError('E_USAGE', 'no trust anchor: pass --anchor <pem> (the CA certificate a signer must chain to) or --profile <file> (its signer.trustAnchors)');
  return files.map((f) => readFileSync(f, 'utf8'));
}

function parseAtDate(v: string): Date {
  const d = new Date(`${v}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(d.getTime())) throw new SkillcertError('E_USAGE', `Expected a date YYYY-MM-DD for --at but received ${v}`);
  return d;
}

function printVerdicts(verdicts: readonly FileVerdict[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ ok: verdicts.every((v) => v.verdict === 'valid'), results: verdicts }, null, 2)}\n`);
    return;
  }
  for (const v of verdicts) {
    process.stdout.write(`${v.verdict.toUpperCase()}: ${v.file}${v.number ? ` (${v.number})` : ''}\n`);
    for (const c of v.checks) process.stdout.write(`  ${c.ok === true ? 'ok  ' : c.ok === false ? 'FAIL' : '??  '} ${c.id}: ${c.message}\n`);
    // ETSI EN 319 102-1: one line per signature and document timestamp.
    for (const s of v.signatures ?? []) {
      process.stdout.write(`  ${s.kind} ${s.field ?? ''}: ${s.indication}${s.subIndication ? `/${s.subIndication}` : ''}${s.level ? ` (${s.level})` : ''}${s.signer ? ` by "${s.signer}"` : ''} — ${s.message}\n`);
    }
    if (v.status === 'not checked') process.stdout.write('  status: not checked (no status source: give --registry, or --status-list with the organisation\'s signed lists, to learn of a revocation or a suspension)\n');
    else if (v.status) process.stdout.write(`  status: ${v.status}\n`);
  }
  const valid = verdicts.filter((v) => v.verdict === 'valid').length;
  process.stdout.write(`${valid}/${verdicts.length} valid\n`);
}

program
  .command('verify')
  .description('verify signed certificate PDFs (files or folders), or a QR code given as text or as a photo of the paper')
  .argument('[paths...]', 'certificate PDFs or folders of them')
  .option('--anchor <pem...>', 'trust anchor certificate(s) (PEM)')
  .option('--profile <file>', "take the trust anchors from this profile's signer.trustAnchors")
  .option('--registry <path or URL>', 'the registry (SQLite file or postgres:// URL) for revoked / superseded status')
  .option('--qr-text <text>', 'verify this QR text instead of PDFs')
  .option('--qr-png <file>', 'verify the QR code in this picture (a scan or photo of the printed certificate)')
  .option('--org-cert <pem...>', 'organisation signing certificate(s) (PEM) for QR-only verification')
  .option('--at <YYYY-MM-DD>', 'validate at this date (UTC midnight), with the timestamps as proof of existence', parseAtDate)
  .option('--online', "fetch fresh OCSP responses and CRLs from the certificates' addresses (default: offline, the file's DSS)")
  .option('--status-list <file or URL...>', "the organisation's signed status lists (<orgCode>-revocation.jwt, <orgCode>-suspension.jwt): revoked / suspended without a registry")
  .option('--json', 'print the results as JSON')
  .action(async (paths: string[], opts: { anchor?: string[]; profile?: string; registry?: string; qrText?: string; qrPng?: string; orgCert?: string[]; at?: Date; online?: boolean; statusList?: string[]; json?: boolean }) => {
    try {
      const base = {
        ...(opts.registry ? { registry: opts.registry } : {}),
        ...(opts.orgCert ? { orgCertificates: opts.orgCert.map((f) => readFileSync(f, 'utf8')) } : {}),
        ...(opts.at ? { at: opts.at } : {}),
        ...(opts.online ? { online: true } : {}),
        ...(opts.statusList ? { statusLists: await loadStatusLists(opts.statusList) } : {}),
      };
      let verdicts: FileVerdict[];
      if (opts.qrText !== undefined || opts.qrPng !== undefined) {
        if (paths.length > 0) throw new SkillcertError('E_USAGE', `--qr-text and --qr-png verify a QR code alone; verify ${paths[0]} in a command of its own (its QR code is checked with it)`);
        verdicts = [await verifyQr({ ...(opts.qrText !== undefined ? { text: opts.qrText } : {}), ...(opts.qrPng ? { png: opts.qrPng } : {}) }, { trustAnchors: anchorsFrom(opts), ...base })];
      } else {
        if (paths.length === 0) throw new SkillcertError('E_USAGE', 'nothing to verify: give certificate PDFs or folders, or --qr-text / --qr-png');
        verdicts = await verifyFiles(paths, { trustAnchors: anchorsFrom(opts), ...base });
      }
      printVerdicts(verdicts, Boolean(opts.json));
      process.exitCode = verdicts.every((v) => v.verdict === 'valid') ? 0 : 1;
    } catch (err) {
      fail(err, Boolean(opts.json));
    }
  });

const amendOptions = (c: Command) =>
  c
    .option('--out <dir>', 'output root the batches were written to', 'output')
    .option('--registry <path or URL>', 'registry (SQLite file, default <out>/registry.sqlite, or postgres:// URL)')
    .option('--operator <name>', 'who does it, for the audit trail (default SKILLCERT_OPERATOR or USER)')
    .option('--json', 'print the result as JSON');

function printRecord(r: { number: string; status: string; sha256?: string; file?: string }, json: boolean, what: string): void {
  if (json) process.stdout.write(`${JSON.stringify({ ok: true, number: r.number, status: r.status, file: r.file, sha256: r.sha256 }, null, 2)}\n`);
  else process.stdout.write(`${what} ${r.number}: ${r.status}${r.file ? `, current PDF ${r.file}` : ''}\n`);
}

amendOptions(
  program
    .command('correct')
    .description('第十七条: correct the name, the ID number or the photo of an issued certificate; it is re-rendered and re-signed under its number')
    .argument('[number]', 'certificate number')
    .requiredOption('--profile <file>', 'the profile the certificate was issued under')
    .option('--name <name>', 'the corrected name')
    .option('--id-number <id>', 'the corrected ID number')
    .option('--photo <file>', 'the new photo (JPEG or PNG, white background)')
    .option('--reason <text>', 'the written reason (required)')
    .option('--resume', 'finish corrections and reissues whose new PDF was not recorded'),
).action(async (number: string | undefined, opts: { profile: string; name?: string; idNumber?: string; photo?: string; reason?: string; resume?: boolean; out: string; registry?: string; operator?: string; json?: boolean }) => {
  try {
    const ctx = context({ ...opts, quiet: true });
    if (opts.resume) {
      const r = await resume(ctx, opts);
      for (const d of r.done) process.stdout.write(`finished ${d.number}\n`);
      for (const f of r.failed) process.stdout.write(`still pending ${f.number}: ${f.error.message}\n`);
      process.exitCode = r.failed.length ? 1 : 0;
      return;
    }
    const given = [opts.name !== undefined, opts.idNumber !== undefined, opts.photo !== undefined].filter(Boolean).length;
    if (!number) throw new SkillcertError('E_USAGE', 'give the certificate number to correct (or --resume)');
    if (given !== 1) throw new SkillcertError('E_USAGE', '第十七条: correct exactly one of --name, --id-number or --photo at a time');
    if (!opts.reason?.trim()) throw new SkillcertError('E_USAGE', '第十七条: a correction needs a written reason: pass --reason');
    const change: Correction = opts.name !== undefined ? { name: opts.name } : opts.idNumber !== undefined ? { idNo: opts.idNumber } : { photo: opts.photo! };
    printRecord(await correct(ctx, { ...opts, number, change, reason: opts.reason }), Boolean(opts.json), 'corrected');
  } catch (err) {
    fail(err, Boolean(opts.json));
  }
});

amendOptions(
  program
    .command('reissue')
    .description('第二十二条: reissue a lost (补发) or damaged (换发) certificate under its original number, with the date printed')
    .argument('<number>', 'certificate number')
    .requiredOption('--profile <file>', 'the profile the certificate was issued under')
    .addOption(new Option('--reason <kind>', 'lost (补发) or damaged (换发)').choices(['lost', 'damaged']).makeOptionMandatory())
    .option('--note <text>', 'a note for the audit trail'),
).action(async (number: string, opts: { profile: string; reason: 'lost' | 'damaged'; note?: string; out: string; registry?: string; operator?: string; json?: boolean }) => {
  try {
    printRecord(await reissue(context({ ...opts, quiet: true }), { ...opts, number, kind: opts.reason, ...(opts.note ? { reason: opts.note } : {}) }), Boolean(opts.json), 'reissued');
  } catch (err) {
    fail(err, Boolean(opts.json));
  }
});

const validDays = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 366) throw new SkillcertError('E_USAGE', `Expected --valid-days as a whole number of days 1-366 but received "${v}"`);
  return n;
};

const statusListOptions = (c: Command) =>
  c
    .option('--profile <file>', "the organisation's profile: its key re-signs the status lists after the change (written to <out>/status/ and stored in the registry)")
    .addOption(new Option('--valid-days <n>', 'how long the signed lists are valid').argParser(validDays));

function listLine(l: PublishedList): string {
  return `${l.purpose} list: ${l.set} of ${l.bits} bits set${l.file ? `, ${l.file}` : ''}`;
}

function printStatusChange(r: StatusChangeResult, json: boolean, what: string): void {
  const c = r.certificate;
  if (json) {
    const lists = r.lists.map(({ purpose, file, set, bits }) => ({ purpose, file, set, bits }));
    process.stdout.write(`${JSON.stringify({ ok: true, number: c.number, status: c.status, suspendedAt: c.suspendedAt, statusIndex: c.statusIndex, lists }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${what} ${c.number}: ${c.status}${c.suspendedAt ? `, suspended since ${c.suspendedAt}` : ''}\n`);
  for (const l of r.lists) process.stdout.write(`${listLine(l)}\n`);
  if (!r.lists.length) process.stdout.write('status lists not signed anew (no --profile): run `skillcert status-lists --profile …` so that offline verifiers learn it\n');
}

amendOptions(
  statusListOptions(
    program
      .command('revoke')
      .description('第十八条: revoke a certificate (logically: the record and its PDFs stay; verifiers report it revoked)')
      .argument('<number>', 'certificate number')
      .requiredOption('--reason <text>', 'the written reason'),
  ),
).action(async (number: string, opts: { reason: string; profile?: string; validDays?: number; out: string; registry?: string; operator?: string; json?: boolean }) => {
  try {
    printStatusChange(await revoke(context({ ...opts, quiet: true }), { ...opts, number }), Boolean(opts.json), 'revoked');
  } catch (err) {
    fail(err, Boolean(opts.json));
  }
});

amendOptions(
  statusListOptions(
    program
      .command('suspend')
      .description('第二十条: suspend the queries of a suspicious certificate (verifiers report it suspended), or --lift the suspension')
      .argument('<number>', 'certificate number')
      .requiredOption('--reason <text>', 'the written reason')
      .option('--lift', 'lift the suspension instead: the certificate is as it was before'),
  ),
).action(async (number: string, opts: { reason: string; lift?: boolean; profile?: string; validDays?: number; out: string; registry?: string; operator?: string; json?: boolean }) => {
  try {
    const ctx = context({ ...opts, quiet: true });
    const o = { ...opts, number };
    printStatusChange(opts.lift ? await liftSuspension(ctx, o) : await suspend(ctx, o), Boolean(opts.json), opts.lift ? 'suspension lifted' : 'suspended');
  } catch (err) {
    fail(err, Boolean(opts.json));
  }
});

amendOptions(
  program
    .command('extend')
    .description('archive renewal: add fresh validation data (DSS) and a new document timestamp to issued certificate PDFs, incrementally; the signatures stay untouched')
    .argument('<paths...>', 'certificate PDFs or folders of them')
    .requiredOption('--profile <file>', 'the profile they were issued under (its signer.tsaUrl and signer.trustAnchors)')
    .addOption(new Option('--to <level>', 'the PAdES level to reach').choices(['B-LT', 'B-LTA']).default('B-LTA')),
).action(async (paths: string[], opts: { profile: string; to: 'B-LT' | 'B-LTA'; out: string; registry?: string; operator?: string; json?: boolean }) => {
  try {
    const r = await extend(context({ ...opts, quiet: true }), { ...opts, paths });
    if (opts.json) process.stdout.write(`${JSON.stringify({ ok: r.failed.length === 0, ...r }, null, 2)}\n`);
    else {
      for (const e of r.extended) process.stdout.write(`extended ${e.file} to ${opts.to}${e.recorded ? ' (recorded in the registry)' : ''}\n`);
      for (const f of r.failed) process.stdout.write(`FAILED ${f.file}: ${f.message}\n`);
      process.stdout.write(`${r.extended.length}/${r.extended.length + r.failed.length} extended; requests: ${r.sent.ocsp} OCSP, ${r.sent.crl} CRL, ${r.sent.tsa} TSA probe\n`);
    }
    process.exitCode = r.failed.length === 0 ? 0 : 1;
  } catch (err) {
    fail(err, Boolean(opts.json));
  }
});

amendOptions(
  program
    .command('status-lists')
    .description("sign the organisation's revocation and suspension lists anew (W3C Bitstring Status List): into the registry and <out>/status/; run it daily, before they expire")
    .requiredOption('--profile <file>', "the organisation's profile (its key signs the lists)")
    .addOption(new Option('--valid-days <n>', 'how long the signed lists are valid').argParser(validDays)),
).action(async (opts: { profile: string; validDays?: number; out: string; registry?: string; operator?: string; json?: boolean }) => {
  try {
    const lists = await statusLists(context({ ...opts, quiet: true }), opts);
    if (opts.json) process.stdout.write(`${JSON.stringify({ ok: true, lists: lists.map(({ purpose, file, set, bits }) => ({ purpose, file, set, bits })) }, null, 2)}\n`);
    else for (const l of lists) process.stdout.write(`${listLine(l)}\n`);
  } catch (err) {
    fail(err, Boolean(opts.json));
  }
});

const date = (v: string) => {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new SkillcertError('E_USAGE', `Expected a date (YYYY-MM-DD or ISO 8601) but received "${v}"`);
  return d;
};

amendOptions(
  program
    .command('audit')
    .description('第二十条: list the audit trail (ID numbers masked) and check its hash chain')
    .option('--number <number>', 'only this certificate')
    .addOption(new Option('--from <date>', 'from this time (inclusive)').argParser(date))
    .addOption(new Option('--to <date>', 'to this time (exclusive)').argParser(date))
    .option('--verify', 'recompute the hash chain and name the first broken entry'),
).action(async (opts: { number?: string; from?: Date; to?: Date; verify?: boolean; out: string; registry?: string; operator?: string; json?: boolean }) => {
  try {
    const r = await audit(context({ ...opts, quiet: true }), opts);
    if (opts.json) process.stdout.write(`${JSON.stringify({ ok: r.verification?.ok ?? true, ...r }, null, 2)}\n`);
    else {
      for (const e of r.entries) {
        const changes = e.changes.map((c) => `${c.field}: ${c.before ?? '∅'} → ${c.after ?? '∅'}`).join('; ');
        process.stdout.write(`${String(e.seq).padStart(5)} ${e.at} ${e.operator} ${e.action}${e.number ? ` ${e.number}` : ''}${changes ? ` [${changes}]` : ''}${e.reason ? ` — ${e.reason}` : ''}\n`);
      }
      if (r.verification) {
        const v = r.verification;
        process.stdout.write(v.ok ? `audit chain intact: ${v.entries} entries\n` : `AUDIT CHAIN BROKEN at entry ${v.broken.seq}: ${v.broken.message}\n`);
      }
    }
    process.exitCode = r.verification && !r.verification.ok ? 1 : 0;
  } catch (err) {
    fail(err, Boolean(opts.json));
  }
});

amendOptions(
  program
    .command('forms')
    .description('附件4: the 职业技能等级数据修改信息表 and the 信息更正申请表 from the corrections recorded in a period')
    .requiredOption('--profile <file>', 'the organisation (its "office" block fills the header)')
    .addOption(new Option('--from <date>', 'period start (inclusive)').argParser(date).makeOptionMandatory())
    .addOption(new Option('--to <date>', 'period end (exclusive)').argParser(date).makeOptionMandatory())
    .option('--dir <dir>', 'where to write the forms', 'output/forms'),
).action(async (opts: { profile: string; from: Date; to: Date; dir: string; out: string; registry?: string; operator?: string; json?: boolean }) => {
  try {
    const r = await forms(context({ ...opts, quiet: true }), opts);
    if (opts.json) process.stdout.write(`${JSON.stringify({ ok: true, ...r }, null, 2)}\n`);
    else {
      process.stdout.write(`${r.corrections} correction(s) in the period\n`);
      if (r.dataModification) process.stdout.write(`数据修改信息表: ${r.dataModification.file} (${r.dataModification.rows} rows)\n`);
      if (r.application) process.stdout.write(`信息更正申请表: ${r.application.file} (${r.application.rows} rows)\n`);
    }
  } catch (err) {
    fail(err, Boolean(opts.json));
  }
});

program
  .command('serve')
  .description('the verification service: the bilingual page (drop a PDF, QR landing, query) and its JSON API')
  .option('--registry <path or URL>', 'the registry (SQLite file or postgres:// URL)', 'output/demo/registry.sqlite')
  .addOption(new Option('--port <n>', 'TCP port').argParser(Number).default(8480))
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('--trust <dir>', 'trust list folder: CA certificates (anchors) and organisation certificates named <orgCode>….pem')
  .option('--profile <file...>', "trust these profiles' organisations (default, without --trust: the demo's fixtures/profiles)")
  .addOption(new Option('--query-rate <n>', 'queries per client and minute (第十六条)').argParser(Number).default(10))
  .addOption(new Option('--verify-rate <n>', 'PDF uploads per client and minute').argParser(Number).default(120))
  .action(async (opts: { registry: string; port: number; host: string; trust?: string; profile?: string[]; queryRate: number; verifyRate: number }) => {
    try {
      const { serve } = await import('../serve/index.js');
      const s = await serve({
        registry: opts.registry, port: opts.port, host: opts.host, ...(opts.trust ? { trust: opts.trust } : {}), ...(opts.profile ? { profiles: opts.profile } : {}),
        limits: { queryPerMinute: opts.queryRate, verifyPerMinute: opts.verifyRate },
      });
      process.stdout.write(`skillcert serve: ${s.url} (registry ${s.registry.target}; ${s.trust.list.organisations.length} organisation(s) trusted)\n`);
      const stop = () => void s.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    } catch (err) {
      fail(err, false);
    }
  });

program
  .command('publish-verifier')
  .description('write the static verification site (page, trust.json, status lists) for any static web host')
  .requiredOption('--out <dir>', 'the folder to write')
  .option('--registry <path or URL>', 'the registry whose status lists to publish', 'output/demo/registry.sqlite')
  .option('--trust <dir>', 'trust list folder: CA certificates (anchors) and organisation certificates named <orgCode>….pem')
  .option('--profile <file...>', "trust these profiles' organisations (default, without --trust: the demo's fixtures/profiles)")
  .option('--json', 'print the result as JSON')
  .action(async (opts: { out: string; registry: string; trust?: string; profile?: string[]; json?: boolean }) => {
    try {
      const { publishVerifier } = await import('../serve/publish.js');
      const r = await publishVerifier({ out: opts.out, registry: opts.registry, ...(opts.trust ? { trust: opts.trust } : {}), ...(opts.profile ? { profiles: opts.profile } : {}) });
      if (opts.json) process.stdout.write(`${JSON.stringify({ ok: true, ...r }, null, 2)}\n`);
      else process.stdout.write(`publish-verifier: ${r.out} (${r.files.length} files: ${r.organisations} organisation(s), ${r.statusLists} status list(s))\n`);
    } catch (err) {
      fail(err, Boolean(opts.json));
    }
  });

// No command ends without a message. An error outside a command's own try (an emitter's 'error' with no listener,
// a rejection nobody awaited) gets the same one line as any other failure, not a stack trace. And a command whose
// work stops waiting on something that can never happen (a stream that never ends) would otherwise leave the
// event loop empty and Node exit 13 in silence: that is reported as what it is.
const jsonOut = process.argv.includes('--json');
let settled = false;
process.on('uncaughtException', (err) => fail(err, jsonOut));
process.on('unhandledRejection', (err) => fail(err, jsonOut));
process.on('beforeExit', () => {
  if (settled) return;
  fail(new SkillcertError('E_INTERNAL', `the command ${process.argv[2] ?? ''} stopped before finishing: it was waiting for input or output that never came (a stalled stream); nothing more was written. Run it again; if it recurs, report it with the input file`), jsonOut);
});
await program.parseAsync(process.argv).finally(() => {
  settled = true;
});
