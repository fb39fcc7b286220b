/**
 * Organisation and competition profiles (SPEC §3): one JSON file per issuing organisation or competition,
 * validated by a schema; paths inside are relative to the profile file. A profile may start from another
 * (`"extends": "../base.json"`) and change what differs — an organisation's test and production signing, say:
 * objects are merged field by field, anything else (arrays included) is replaced, and each path stays relative
 * to the file that writes it.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { SkillcertError } from './errors.js';

const bilingual = z.object({ zh: z.string().min(1), en: z.string().min(1) });
const levelCode = z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4), z.literal(5)]);

export const ScopeEntry = z.object({
  occupation: z.string().min(1),
  /** Registered jobs (工种/职业方向); empty or absent: the occupation has none. */
  jobs: z.array(z.string()).default([]),
  levels: z.array(levelCode).min(1),
});

export const Numbering = z.discriminatedUnion('rule', [
  z.object({
    /** 北京市职业技能等级证书编码规则 (seed 002). */
    rule: z.literal('beijing'),
    /** Positions 8-9: district code (表 4). */
    district: z.string().regex(/^\d{2}$/),
    /** Positions 10-13: organisation serial (表 5). */
    serial: z.string().regex(/^\d{4}$/),
  }),
  z.object({
    /** Competition rule (seed 001 section 四): position 17 = J. */
    rule: z.literal('competition'),
    /** Positions 6-7: province code, e.g. 11 Beijing, 51 Sichuan. */
    province: z.string().regex(/^\d{2}$/),
    /** Positions 8-9: issuing body's region, 00 = province. */
    region: z.string().regex(/^\d{2}$/),
    /** Positions 10-13: 9999 when issued by the HR system, else the issuing organisation's filing code. */
    issuer: z.string().regex(/^\d{4}$/),
  }),
]);

/** PAdES baseline levels (ETSI EN 319 142-1), in order: each adds to the one before. */
export const SIGNATURE_LEVELS = ['B-B', 'B-T', 'B-LT', 'B-LTA'] as const;
export type SignatureLevel = (typeof SIGNATURE_LEVELS)[number];

export const Profile = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a short lower-case id, e.g. haidian-skills'),
  kind: z.enum(['organisation', 'competition']).default('organisation'),
  /** The evaluation organisation (or, for competitions, the committee 竞赛组委会). */
  name: bilingual,
  category: z.enum(['Y', 'S']),
  /** Positions 2-5: 0000 first filed with the Beijing bureau, 0001-9999 with the ministry. */
  orgCode: z.string().regex(/^\d{4}$/),
  numbering: Numbering,
  /** style-one for orgCode 0000 and competitions, style-two otherwise (第十条); set only to override. */
  style: z.enum(['style-one', 'style-two']).optional(),
  /** The issuing (branch) organisation of style two, printed and sealed on the left side. */
  branch: z
    .object({
      name: bilingual,
      seal: z.string(),
      /**
       * The branch's own signing identity: style-two certificates are then signed twice, the branch first (its
       * widget on its seal), the evaluation organisation second. Without it, the organisation signs alone.
       */
      signer: z.object({ p12: z.string(), passwordEnv: z.string().optional(), passwordFile: z.string().optional() }).optional(),
    })
    .optional(),
  seals: z.object({
    /** Evaluation organisation's seal, or the competition seal / proxy seal for competitions. */
    evaluation: z.string(),
    /** Optional steel seal printed over the photo. */
    steel: z.string().optional(),
  }),
  signer: z.object({
    /** PKCS#12 with the organisation's signing key and certificate. */
    p12: z.string(),
    /** Name of the environment variable holding the P12 password (never a command-line argument). */
    passwordEnv: z.string().optional(),
    /** Or a file holding it. */
    passwordFile: z.string().optional(),
    /** RFC 3161 time-stamping authority: the signature timestamp (B-T and up) and the document timestamp (B-LTA). */
    tsaUrl: z.string().url().optional(),
    /**
     * PAdES level: B-B (signature only), B-T (+ signature timestamp), B-LT (+ DSS: certificates, OCSP responses and
     * CRLs of the signer's and the TSA's chains), B-LTA (+ document timestamp). Default: B-T with a tsaUrl, else B-B.
     */
    level: z.enum(SIGNATURE_LEVELS).optional(),
    /** Trust anchors (PEM) a verifier accepts for this organisation. */
    trustAnchors: z.array(z.string()).default([]),
  }),
  scope: z.array(ScopeEntry).min(1),
  /** Blank-stock serial range for the "No." printed top right (流水号). */
  stock: z.object({ from: z.number().int().nonnegative(), to: z.number().int().positive(), digits: z.number().int().min(1).max(12).default(8) }),
  /** Query address that the QR code points to; the certificate number is appended. */
  verifyUrl: z.string().url().default('http://jndj.osta.org.cn/'),
  /** The office details the 附件4 forms ask for (信息更正申请表, 数据修改信息表). */
  office: z
    .object({
      filingNo: z.string().min(1),
      address: z.string().min(1),
      district: z.string().optional(),
      handler: z.string().min(1),
      phone: z.string().min(1),
      filledBy: z.string().optional(),
    })
    .optional(),
  competition: z
    .object({ name: z.string().min(1), year: z.number().int(), category: z.string().optional(), sponsor: z.string().optional() })
    .optional(),
});
export type Profile = z.infer<typeof Profile> & { readonly path: string; readonly dir: string; readonly styleId: 'style-one' | 'style-two' };

/** 第十条: style one for organisations first filed in Beijing (code 0000) and for competitions, style two otherwise. */
export function styleFor(p: Pick<Profile, 'orgCode' | 'kind' | 'style'>): 'style-one' | 'style-two' {
  if (p.style) return p.style;
  return p.kind === 'competition' || p.orgCode === '0000' ? 'style-one' : 'style-two';
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The fields that name files (a path of keys; `[]` last for an array of paths). */
const PATH_FIELDS: readonly (readonly string[])[] = [
  ['seals', 'evaluation'], ['seals', 'steel'], ['branch', 'seal'], ['branch', 'signer', 'p12'], ['branch', 'signer', 'passwordFile'],
  ['signer', 'p12'], ['signer', 'passwordFile'], ['signer', 'trustAnchors', '[]'],
];

/** The layer's paths made absolute against its own folder, so that they survive being merged into another file's. */
function absolutePaths(layer: Json, dir: string): Json {
  const out = structuredClone(layer);
  for (const keys of PATH_FIELDS) {
    let node: unknown = out;
    for (const k of keys.slice(0, -1)) node = isObject(node) ? node[k] : undefined;
    const last = keys[keys.length - 1]!;
    if (last === '[]' && Array.isArray(node)) node.forEach((v, i) => typeof v === 'string' && ((node as unknown[])[i] = resolve(dir, v)));
    else if (isObject(node) && typeof node[last] === 'string') node[last] = resolve(dir, node[last]);
  }
  return out;
}

function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObject(v) && isObject(base[k]) ? merge(base[k], v) : v;
  return out;
}

/** The profile's JSON with what it extends merged in; `chain` holds the files already on the way (a circle). */
function readLayers(path: string, shown: string, chain: readonly string[] = []): unknown {
  if (chain.includes(path)) throw new SkillcertError('E_PROFILE', `profile ${shown} extends itself: ${[...chain, path].join(' → ')}`, { field: 'extends' });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new SkillcertError('E_PROFILE', `cannot read profile ${chain.length ? `${path} (which ${shown} extends)` : shown}: ${(err as Error).message}`, {}, { cause: err });
  }
  if (!isObject(raw) || raw.extends === undefined) return raw;
  const { extends: parent, ...own } = raw;
  if (typeof parent !== 'string') throw new SkillcertError('E_PROFILE', `profile ${shown}: "extends" must be the path of another profile`, { field: 'extends' });
  const parentPath = resolve(dirname(path), parent);
  const base = readLayers(parentPath, shown, [...chain, path]);
  return merge(isObject(base) ? absolutePaths(base, dirname(parentPath)) : {}, own);
}

/** Reads and validates a profile; every failure is one SkillcertError naming the file and the field. */
export function loadProfile(file: string): Profile {
  const path = resolve(file);
  const raw = readLayers(path, file);
  const parsed = Profile.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new SkillcertError('E_PROFILE', `profile ${file} is not valid: ${issues}`);
  }
  const p = parsed.data;
  const styleId = styleFor(p);
  if (styleId === 'style-two' && !p.branch) {
    throw new SkillcertError('E_PROFILE', `profile ${file}: style two (organisation code ${p.orgCode}) needs "branch" (the issuing organisation and its seal, 第十条)`, { field: 'branch' });
  }
  if (p.signer.level && p.signer.level !== 'B-B' && !p.signer.tsaUrl) {
    throw new SkillcertError('E_PROFILE', `profile ${file}: signer.level ${p.signer.level} needs signer.tsaUrl (an RFC 3161 time-stamping authority)`, { field: 'signer.tsaUrl' });
  }
  return { ...p, path, dir: dirname(path), styleId };
}

/** The profile's PAdES level: signer.level, or B-T when a TSA is configured, else B-B. */
export function signatureLevel(p: Pick<Profile, 'signer'>): SignatureLevel {
  return p.signer.level ?? (p.signer.tsaUrl ? 'B-T' : 'B-B');
}

/** A path from the profile, resolved against the profile's folder. */
export function profilePath(p: Profile, rel: string): string {
  return resolve(p.dir, rel);
}
