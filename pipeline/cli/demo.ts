/**
 * `npm run demo`: real batches on the fixtures — a style-one organisation, a style-two organisation, a Beijing
 * competition and a Sichuan competition — into output/demo/, sharing one registry; then every certificate and
 * every filing bundle is verified, and the demo prints where everything is. Running it again resumes the same
 * batches and issues nothing new (the registry already holds every number).
 *
 * The certificates are signed at PAdES B-LTA (fixtures/profiles/demo/: the fixture organisations with the demo
 * PKI's identities): the demo starts the TEST ONLY PKI of pipeline/pki/test-authority.ts on 127.0.0.1:8481 — OCSP,
 * CRLs and a time-stamping authority — with its material kept in fixtures/signer/generated/pki/, and stops it at
 * the end. The files carry their validation data, so they verify offline afterwards.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { verifyBundle } from '../verify/bundle.js';
import { makeContext } from '../core/context.js';
import { makeLogger } from '../core/log.js';
import { ROOT } from '../core/paths.js';
import { loadProfile, profilePath } from '../core/profile.js';
import { progressFor } from './progress.js';
import { runBatch } from '../batch/run.js';
import { verifyFiles } from '../verify/certificate.js';
import { DEFAULT_PORT } from '../serve/index.js';
import { SkillcertError } from '../core/errors.js';
import { startTestAuthority } from '../pki/test-authority.js';
import { statusLists } from '../after/commands.js';
import { DEFAULT_VALID_DAYS } from '../status/index.js';

/** Where the demo profiles' signer, CRL and TSA addresses point (fixtures/profiles/demo/*.json). */
const PKI_PORT = 8481;
const PKI_DIR = join(ROOT, 'fixtures', 'signer', 'generated', 'pki');

const OUT = join(ROOT, 'output', 'demo');
const REGISTRY = join(OUT, 'registry.sqlite');
const batches = [
  { roster: 'fixtures/rosters/haidian-qihang-2026-11.xlsx', profile: 'fixtures/profiles/demo/haidian-qihang.json', filingMaterial: true },
  { roster: 'fixtures/rosters/jingdian-maintenance-2026-11.xlsx', profile: 'fixtures/profiles/demo/jingdian-maintenance.json', filingMaterial: true },
  { roster: 'fixtures/rosters/competition-cnc-2026.xlsx', profile: 'fixtures/profiles/demo/competition-cnc-2026.json' },
  { roster: 'fixtures/rosters/sichuan-welding-2026.xlsx', profile: 'fixtures/profiles/demo/sichuan-welding-2026.json', issueDate: '2026-11-20' },
];

const log = makeLogger('warn');
// The demo's clock is pinned to the fixtures' issue day, so its deadlines and signatures read the same every time.
const ctx = makeContext({ now: new Date('2026-11-20T10:00:00+08:00'), log, operator: 'demo' });
const rel = (p: string) => relative(ROOT, p);
let failed = 0;

let pki;
try {
  pki = await startTestAuthority({ dir: PKI_DIR, port: PKI_PORT, persistent: true });
} catch (err) {
  throw new SkillcertError('E_IO', `the demo cannot start its TEST ONLY PKI on 127.0.0.1:${PKI_PORT} (${(err as Error).message}): is another demo running? Stop it and run again`, {}, { cause: err });
}
// Certificates of an earlier demo signed by another identity (an older demo, or PKI material made anew) would no
// longer verify against this one's anchor: such an output folder is moved aside, not mixed with new certificates.
const rootMark = join(OUT, '.demo-pki-root');
const rootId = createHash('sha256').update(pki.rootPem).digest('hex');
if (existsSync(OUT) && (!existsSync(rootMark) || readFileSync(rootMark, 'utf8') !== rootId)) {
  const aside = `${OUT}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  renameSync(OUT, aside);
  process.stdout.write(`${rel(OUT)}/ was made with another TEST ONLY signing identity: moved to ${rel(aside)}/, starting afresh\n`);
}
mkdirSync(OUT, { recursive: true });
writeFileSync(rootMark, rootId);
process.stdout.write(`TEST ONLY PKI (OCSP, CRLs, time-stamping) on ${pki.url}: certificates are signed at PAdES B-LTA\n`);

for (const b of batches) {
  const r = await runBatch(ctx, { ...b, roster: join(ROOT, b.roster), profile: join(ROOT, b.profile), out: OUT, registry: REGISTRY, progress: progressFor(log) });
  const s = r.summary;
  const created = s.issued.filter((c) => c.origin === 'created').length;
  process.stdout.write(`\n${r.batchId}  (${b.profile.replace(/^.*\//, '').replace('.json', '')})\n`);
  process.stdout.write(`  ${s.rowsRead} rows: ${s.issued.length} issued (${created} new), ${new Set(s.rejected.map((p) => p.rowNo)).size} rejected, ${s.skipped.length} skipped\n`);
  process.stdout.write(`  folder   ${rel(r.dir)}/\n  report   ${rel(r.dir)}/report.txt\n  rejects  ${rel(r.dir)}/rejects.xlsx\n  bundle   ${r.outputs?.archive ? rel(r.outputs.archive) : '(none)'}\n`);

  const pdfs = readdirSync(join(r.dir, 'certificates')).filter((f) => f.endsWith('.pdf')).map((f) => join(r.dir, 'certificates', f));
  const profile = loadProfile(join(ROOT, b.profile));
  if (r.summary.issued[0]) process.stdout.write(`  example  ${rel(r.summary.issued[0].file)} (${profile.styleId})\n`);
  const anchors = profile.signer.trustAnchors.map((a) => readFileSync(profilePath(profile, a), 'utf8'));
  const verdicts = await verifyFiles(pdfs, { trustAnchors: anchors, registry: REGISTRY });
  // Every signature of a demo certificate must be TOTAL-PASSED at B-LTA, and its document timestamp too.
  const lasting = (v: (typeof verdicts)[number]) =>
    (v.signatures ?? []).length > 0 && (v.signatures ?? []).every((s) => s.indication === 'TOTAL-PASSED' && (s.kind !== 'signature' || s.level === 'B-LTA'));
  const bad = verdicts.filter((v) => v.verdict !== 'valid' || !lasting(v));
  const signatures = verdicts.map((v) => (v.signatures ?? []).filter((s) => s.kind === 'signature').length);
  process.stdout.write(`  verify   ${verdicts.length - bad.length}/${verdicts.length} certificates valid (signature, chain, QR, printed text, number, registry), ${Math.min(...signatures)}${Math.max(...signatures) !== Math.min(...signatures) ? `-${Math.max(...signatures)}` : ''} signature(s) each, every one TOTAL-PASSED at B-LTA offline\n`);
  for (const v of bad) {
    const why = [...v.checks.filter((c) => c.ok !== true).map((c) => `${c.id}: ${c.message}`), ...(v.signatures ?? []).filter((s) => s.indication !== 'TOTAL-PASSED' || (s.kind === 'signature' && s.level !== 'B-LTA')).map((s) => `${s.kind} ${s.indication}${s.subIndication ? `/${s.subIndication}` : ''} ${s.level ?? ''}: ${s.message}`)];
    process.stdout.write(`    ${v.verdict.toUpperCase()} ${rel(v.file)}: ${why.join('; ')}\n`);
  }
  if (r.outputs?.archive) {
    const vb = await verifyBundle(r.outputs.archive, anchors, ctx.now);
    process.stdout.write(`  bundle   ${vb.ok ? 'valid' : 'INVALID'}: manifest signature, chain and ${vb.checks.length} checks\n`);
    if (!vb.ok) failed++;
  }
  failed += bad.length;
}

// The signed status lists are valid for days from their signing: signed at the demo's pinned issue day they would
// have expired by the time anyone scans a demo QR code, so they are signed anew at the real time, per organisation.
const listed = new Set<string>();
const today = makeContext({ log, operator: 'demo' });
for (const b of batches) {
  const p = loadProfile(join(ROOT, b.profile));
  if (listed.has(p.orgCode)) continue;
  listed.add(p.orgCode);
  await statusLists(today, { out: OUT, registry: REGISTRY, profile: join(ROOT, b.profile) });
}
process.stdout.write(`\nstatus lists of organisations ${[...listed].join(', ')} signed anew at ${today.now.toISOString()} (valid ${DEFAULT_VALID_DAYS} days): ${rel(OUT)}/status/\n`);

await pki.close();
process.stdout.write(`\nregistry ${rel(REGISTRY)}\n`);
process.stdout.write(failed ? `\n${failed} verification failure(s)\n` : '\nall certificates and bundles verified\n');
// The demo profiles' QR codes point to the local verification service (issue 14): start it on this output.
process.stdout.write(`\ncheck the certificates in a browser at http://127.0.0.1:${DEFAULT_PORT}/ (drop a PDF, scan a QR code, query)\n  start the service: bin/skillcert serve --registry ${rel(REGISTRY)}   (npm run serve)\n`);
process.exitCode = failed ? 1 : 0;
