/**
 * `npm run demo`: real batches on the fixtures — a style-one organisation, a style-two organisation, a Beijing
 * competition and a Sichuan competition — into output/demo/, sharing one registry; then every certificate and
 * every filing bundle is verified, and the demo prints where everything is. Running it again resumes the same
 * batches and issues nothing new (the registry already holds every number).
 */
import { readdirSync, readFileSync } from 'node:fs';
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

const OUT = join(ROOT, 'output', 'demo');
const REGISTRY = join(OUT, 'registry.sqlite');
const batches = [
  { roster: 'fixtures/rosters/haidian-qihang-2026-11.xlsx', profile: 'fixtures/profiles/haidian-qihang.json', filingMaterial: true },
  { roster: 'fixtures/rosters/jingdian-maintenance-2026-11.xlsx', profile: 'fixtures/profiles/jingdian-maintenance.json', filingMaterial: true },
  { roster: 'fixtures/rosters/competition-cnc-2026.xlsx', profile: 'fixtures/profiles/competition-cnc-2026.json' },
  { roster: 'fixtures/rosters/sichuan-welding-2026.xlsx', profile: 'fixtures/profiles/sichuan-welding-2026.json', issueDate: '2026-11-20' },
];

const log = makeLogger('warn');
// The demo's clock is pinned to the fixtures' issue day, so its deadlines and signatures read the same every time.
const ctx = makeContext({ now: new Date('2026-11-20T10:00:00+08:00'), log, operator: 'demo' });
const rel = (p: string) => relative(ROOT, p);
let failed = 0;

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
  const bad = verdicts.filter((v) => v.verdict !== 'valid');
  process.stdout.write(`  verify   ${verdicts.length - bad.length}/${verdicts.length} certificates valid (signature, chain, QR, printed text, number, registry)\n`);
  for (const v of bad) process.stdout.write(`    ${v.verdict.toUpperCase()} ${rel(v.file)}: ${v.checks.filter((c) => c.ok !== true).map((c) => `${c.id}: ${c.message}`).join('; ')}\n`);
  if (r.outputs?.archive) {
    const vb = await verifyBundle(r.outputs.archive, anchors, ctx.now);
    process.stdout.write(`  bundle   ${vb.ok ? 'valid' : 'INVALID'}: manifest signature, chain and ${vb.checks.length} checks\n`);
    if (!vb.ok) failed++;
  }
  failed += bad.length;
}

process.stdout.write(`\nregistry ${rel(REGISTRY)}\n`);
process.stdout.write(failed ? `\n${failed} verification failure(s)\n` : '\nall certificates and bundles verified\n');
// The demo profiles' QR codes point to the local verification service (issue 14): start it on this output.
process.stdout.write(`\ncheck the certificates in a browser at http://127.0.0.1:${DEFAULT_PORT}/ (drop a PDF, scan a QR code, query)\n  start the service: bin/skillcert serve --registry ${rel(REGISTRY)}   (npm run serve)\n`);
process.exitCode = failed ? 1 : 0;
