/**
 * `node dist/scripts/measure-verify.js [DIR]` (issue 14, part 0): CPU time to verify one certificate PDF without a
 * registry — process.cpuUsage (user + system, this process) around verifyFiles over every PDF of the demo output
 * (output/demo/<batch>/certificates/, `npm run demo` makes them): a warm-up pass over every other file, then the
 * measured pass over the rest — files this process has not read, from organisations whose certificates, CRLs and OCSP
 * answers it has seen, as a verification service has.
 * Prints milliseconds per PDF and the verdicts seen (every genuine demo PDF must be valid).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../pipeline/core/paths.js';
import { verifyFiles } from '../pipeline/verify/certificate.js';

const out = process.argv[2] ?? join(ROOT, 'output', 'demo');
const files = readdirSync(out, { withFileTypes: true })
  .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
  .flatMap((d) => {
    const dir = join(out, d.name, 'certificates');
    try {
      return readdirSync(dir).filter((f) => f.endsWith('.pdf')).sort().map((f) => join(dir, f));
    } catch {
      return [];
    }
  });
if (files.length === 0) {
  process.stderr.write(`no certificate PDFs under ${out}/*/certificates/ (run npm run demo first)\n`);
  process.exit(1);
}
// The demo signs with the TEST ONLY PKI's identities (fixtures/profiles/demo/); the plain fixture profiles with root-ca.pem.
const anchors = ['root-ca.pem', join('pki', 'root.pem')].map((f) => join(ROOT, 'fixtures', 'signer', 'generated', f)).filter((f) => existsSync(f));
const opts = { trustAnchors: anchors.map((f) => readFileSync(f, 'utf8')), at: new Date('2026-11-21T00:00:00Z') };
await verifyFiles(files.filter((_, i) => i % 2 === 0), opts);
const measured = files.filter((_, i) => i % 2 === 1);
/** CPU of the child processes waited for (pdftoppm, zbarimg, pdftotext): /proc/self/stat cutime + cstime, in ms. */
const childrenMs = () => {
  const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
};
const children = childrenMs();
const before = process.cpuUsage();
const started = performance.now();
const verdicts = await verifyFiles(measured, opts);
const cpu = process.cpuUsage(before);
const wall = performance.now() - started;
const childMs = childrenMs() - children;
const seen = new Map<string, number>();
for (const v of verdicts) seen.set(`${v.verdict}/${v.status ?? '-'}`, (seen.get(`${v.verdict}/${v.status ?? '-'}`) ?? 0) + 1);
process.stdout.write(
  `${measured.length} PDFs (after ${files.length - measured.length} others): ${((cpu.user + cpu.system) / 1000 / measured.length).toFixed(1)} ms CPU a PDF (user ${(cpu.user / 1000 / measured.length).toFixed(1)}, system ${(cpu.system / 1000 / measured.length).toFixed(1)}), ${(childMs / measured.length).toFixed(1)} ms CPU of child processes a PDF, ${(wall / measured.length).toFixed(1)} ms wall; ` +
    `verdicts ${[...seen].map(([k, n]) => `${k} ${n}`).join(', ')}\n`,
);
for (const v of verdicts.filter((x) => x.verdict !== 'valid')) process.stdout.write(`  ${v.verdict} ${v.file}: ${v.checks.filter((c) => c.ok !== true).map((c) => `${c.id}: ${c.message}`).join('; ')}\n`);
