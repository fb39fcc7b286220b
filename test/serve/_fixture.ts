/**
 * What the verifier's side is tested on: certificates from a real `skillcert run` of the built command (the demo's
 * haidian-qihang profile, whose QR code points to the local service), in a temporary folder with its own registry.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificateFiles, PHOTOS, pdfText, profile, show, skillcert, tempDir, validPeople, writeRoster } from '../helpers/cli.js';

export const PROFILE = profile('haidian-qihang');

export interface IssuedCertificate {
  readonly file: string;
  readonly number: string;
  readonly name: string;
  readonly idNo: string;
}

export interface Issued {
  readonly work: string;
  readonly out: string;
  readonly registry: string;
  readonly certs: readonly IssuedCertificate[];
}

export async function issue(count: number, seed: number): Promise<Issued> {
  const people = validPeople(count, seed);
  const work = tempDir('skillcert-serve-');
  const roster = await writeRoster(join(work, 'results.xlsx'), people);
  const out = join(work, 'out');
  const registry = join(work, 'registry.sqlite');
  const r = await skillcert(['run', '--roster', roster, '--profile', PROFILE, '--out', out, '--registry', registry, '--photos', PHOTOS, '--workers', '0', '--quiet']);
  if (r.code !== 0) throw new Error(`skillcert run failed: ${show(r)}`);
  // the batch folder (beside it: status/, the signed status lists)
  const dir = join(out, readdirSync(out).find((d) => d.startsWith('haidian-qihang-'))!);
  const pdfs = certificateFiles(dir).pdfs.map((f) => join(dir, 'certificates', f));
  const texts = await Promise.all(pdfs.map((f) => pdfText(f)));
  const certs = people.map((p) => {
    const i = texts.findIndex((t) => t.includes(p.name));
    if (i < 0) throw new Error(`no certificate printed for ${p.name}`);
    return { file: pdfs[i]!, number: pdfs[i]!.slice(-26, -4), name: p.name, idNo: String(p.idNo) };
  });
  return { work, out, registry, certs };
}

/** Revokes, suspends or lifts a suspension with the CLI; the profile's key re-signs the status lists. */
export async function changeStatus(issued: Issued, number: string, how: 'revoke' | 'suspend' | 'lift'): Promise<void> {
  const args = how === 'revoke' ? ['revoke', number] : how === 'suspend' ? ['suspend', number] : ['suspend', number, '--lift'];
  const r = await skillcert([...args, '--reason', '测试 test', '--registry', issued.registry, '--out', issued.out, '--profile', PROFILE, '--operator', 'test']);
  if (r.code !== 0) throw new Error(`skillcert ${how} failed: ${show(r)}`);
}

export const revoke = (issued: Issued, number: string) => changeStatus(issued, number, 'revoke');

export const bytes = (file: string): Buffer => readFileSync(file);
