/** 第七条（一）: words that must not appear anywhere on the certificate. */
import { SkillcertError } from '../core/errors.js';
import data from '../data/forbidden-words.json' with { type: 'json' };

export const FORBIDDEN_WORDS: readonly string[] = data.words;

export interface LintHit {
  readonly word: string;
  /** Where the text came from, e.g. `profile haidian.json: name.zh` or `template style-one: title.zh`. */
  readonly where: string;
  readonly text: string;
}

/** Every forbidden word in every text, with where it came from. */
export function lintTexts(texts: Iterable<{ where: string; text: string }>): LintHit[] {
  const hits: LintHit[] = [];
  for (const { where, text } of texts) {
    for (const word of FORBIDDEN_WORDS) if (text.includes(word)) hits.push({ word, where, text });
  }
  return hits;
}

/** Throws one E_LINT error naming every forbidden word and its place. */
export function assertNoForbiddenWords(texts: Iterable<{ where: string; text: string }>): void {
  const hits = lintTexts(texts);
  if (hits.length === 0) return;
  const list = hits.map((h) => `"${h.word}" in ${h.where} ("${h.text}")`).join('; ');
  throw new SkillcertError('E_LINT', `第七条 forbids ${list}; remove the word from the certificate`, { hits });
}
