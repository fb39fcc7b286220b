/**
 * The chaos harness's inputs: a roster of valid people for the haidian-qihang fixture organisation (test/helpers'
 * validPeople and writeRoster, so the rows are the ones the run tests use) and photos made as `npm run bench` makes
 * them — 100 distinct 400 × 520 px head-and-shoulders JPEGs on white, shared round-robin, so that every row's photo
 * is still read, checked and placed as in a real batch.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { profile, validPeople, writeRoster, type RosterRow } from '../../test/helpers/cli.js';

/** The organisation every scenario issues for: its blank-stock range (9,999 sheets) holds two 2,000-row rosters. */
export const PROFILE = profile('haidian-qihang');
export const PHOTO_COUNT = 100;

/** Writes the bench photos into `dir` (made if missing) and returns it. */
export async function writePhotos(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  for (let p = 0; p < PHOTO_COUNT; p++) {
    const hue = (p * 37) % 360;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="520"><rect width="400" height="520" fill="#fff"/><ellipse cx="200" cy="195" rx="84" ry="102" fill="hsl(${(hue + 20) % 360},35%,72%)"/><path d="M 60 520 Q 70 335 200 325 Q 330 335 340 520 Z" fill="hsl(${hue},45%,30%)"/></svg>`;
    await sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toFile(join(dir, `p${p}.jpg`));
  }
  return dir;
}

export interface Roster {
  readonly file: string;
  readonly people: readonly RosterRow[];
}

/**
 * A roster of `rows` people who all pass validation. `seed` shifts the people (validPeople), so rosters with seeds
 * far enough apart (≥ rows, and not a multiple of 9 apart: the seed picks the birth month) share nobody.
 */
export async function writeChaosRoster(file: string, rows: number, seed = 0): Promise<Roster> {
  const people = validPeople(rows, seed).map((p, i) => ({ ...p, photo: `p${(i + seed) % PHOTO_COUNT}.jpg` }));
  await writeRoster(file, people);
  return { file, people };
}

/** The person + qualification key a roster row must hold exactly one certificate for. */
export const qualificationKey = (p: Pick<RosterRow, 'idNo' | 'occupation' | 'job' | 'level'>): string => `${String(p.idNo)}|${p.occupation}|${p.job ?? ''}|${p.level}`;
